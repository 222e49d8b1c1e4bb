"""Request bodies streamed to disk: Box's multipart upload and raw upload-session parts.

Neither ever holds a file in memory: bytes go from the ASGI ``receive`` stream straight to a
temporary file under ``storage/tmp`` (same file system as the final place, so registering the
upload is a rename) while SHA-1 is computed. Both ``Content-Length`` and
``Transfer-Encoding: chunked`` bodies work (uvicorn de-chunks; we only see the stream).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from simulators.box.state import BoxError, HashingWriter

MAX_ATTRIBUTES_BYTES = 256 * 1024


@dataclass
class ReceivedBody:
    """What a streamed body left on disk, and what was wrong with it (first error only)."""

    tmp: Path | None = None
    size: int = 0
    sha1: str = ""
    overflow: bool = False
    attributes: dict[str, Any] = field(default_factory=dict)
    error: BoxError | None = None

    def discard(self) -> None:
        if self.tmp is not None:
            self.tmp.unlink(missing_ok=True)


class _MultipartSink:
    """python-multipart callbacks: ``attributes`` JSON in memory, the file part to disk."""

    def __init__(self, tmp: Path, limit: int | None) -> None:
        self.tmp, self.limit = tmp, limit
        self.result = ReceivedBody()
        self._headers: dict[str, str] = {}
        self._field, self._value = bytearray(), bytearray()
        self._part: str | None = None  # "attributes" | "file" | "other"
        self._attributes: bytearray | None = None
        self._writer: HashingWriter | None = None
        self._files = 0

    def fail(self, error: BoxError) -> None:
        if self.result.error is None:
            self.result.error = error

    def callbacks(self) -> dict[str, Any]:
        return {"on_part_begin": self.on_part_begin, "on_header_field": self.on_header_field,
                "on_header_value": self.on_header_value, "on_header_end": self.on_header_end,
                "on_headers_finished": self.on_headers_finished, "on_part_data": self.on_part_data,
                "on_part_end": self.on_part_end}

    def on_part_begin(self) -> None:
        self._headers, self._part = {}, None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._field.decode("latin-1").lower()] = self._value.decode("utf-8", "replace")
        self._field, self._value = bytearray(), bytearray()

    def on_headers_finished(self) -> None:
        # bytes, not str: a str is encoded as latin-1 and a non-Latin file name would break it
        _, params = parse_options_header(self._headers.get("content-disposition", "").encode("utf-8"))
        name = params.get(b"name", b"").decode("utf-8", "replace")
        if name == "attributes":
            self._part, self._attributes = "attributes", bytearray()
        elif name == "file" or b"filename" in params:
            self._part = "file"
            self._files += 1
            if self._attributes is None:
                self.fail(BoxError(400, "metadata_after_file_contents",
                                   "Metadata is included after file contents in a file upload request"))
            if self._files > 1:
                self.fail(BoxError(400, "bad_request", "Only one file may be uploaded per request"))
            if self._writer is None:
                self._writer = HashingWriter(self.tmp, self.limit)
        else:
            self._part = "other"

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._part == "file" and self._writer is not None and self._files == 1:
            self._writer.write(memoryview(data)[start:end])
        elif self._part == "attributes" and self._attributes is not None:
            if len(self._attributes) + end - start > MAX_ATTRIBUTES_BYTES:
                self.fail(BoxError(400, "bad_request", "The attributes part is too large"))
            else:
                self._attributes += data[start:end]

    def on_part_end(self) -> None:
        if self._part == "attributes" and self._attributes is not None:
            try:
                parsed = json.loads(bytes(self._attributes) or b"{}")
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict):
                self.fail(BoxError(400, "bad_request", "The attributes part must be a JSON object"))
            else:
                self.result.attributes = parsed
        self._part = None

    def finish(self) -> ReceivedBody:
        if self._writer is not None:
            self._writer.close()
            self.result.tmp = self.tmp
            self.result.size, self.result.sha1 = self._writer.size, self._writer.sha1
            self.result.overflow = self._writer.overflow
        elif self._attributes is None:
            self.fail(BoxError(400, "bad_request", "The multipart body needs an 'attributes' part"))
        else:
            self.fail(BoxError(400, "bad_request", "The multipart body needs a 'file' part after 'attributes'"))
        return self.result


async def receive_multipart(request: Request, tmp: Path, limit: int | None) -> ReceivedBody:
    """Stream a ``multipart/form-data`` upload: ``attributes`` (JSON) first, then ``file``.

    The whole body is always read, even after an error, so the client gets our answer and
    not a reset connection. File bytes above ``limit`` are counted but not stored.
    """
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    if ctype != b"multipart/form-data" or not params.get(b"boundary"):
        await discard_body(request)
        raise BoxError(400, "bad_request", "Expected a multipart/form-data body with a boundary")
    sink = _MultipartSink(tmp, limit)
    parser = MultipartParser(params[b"boundary"], sink.callbacks())
    try:
        async for chunk in request.stream():
            if chunk:
                try:
                    parser.write(chunk)
                except Exception as exc:  # noqa: BLE001 - malformed multipart
                    sink.fail(BoxError(400, "bad_request", f"Malformed multipart body: {exc}"))
                    break
        else:
            parser.finalize()
        await discard_body(request)
    except BaseException:
        sink.finish().discard()
        raise
    return sink.finish()


async def receive_raw(request: Request, tmp: Path, limit: int | None = None) -> ReceivedBody:
    """Stream a raw body (an upload-session part) to ``tmp``, hashing it."""
    writer = HashingWriter(tmp, limit)
    try:
        async for chunk in request.stream():
            if chunk:
                writer.write(chunk)
    except BaseException:
        writer.discard()
        raise
    writer.close()
    return ReceivedBody(tmp=tmp, size=writer.size, sha1=writer.sha1, overflow=writer.overflow)


async def discard_body(request: Request) -> None:
    """Read and drop whatever is left of the request body (never buffered)."""
    try:
        async for _ in request.stream():
            pass
    except (RuntimeError, ClientDisconnect):  # already consumed / client went away
        pass


async def read_json(request: Request) -> dict[str, Any]:
    """A JSON object body (``{}`` when empty); 400 ``bad_request`` otherwise."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise BoxError(400, "bad_request", f"Invalid JSON body: {exc}") from exc
    if not isinstance(body, dict):
        raise BoxError(400, "bad_request", "The JSON body must be an object")
    return body
