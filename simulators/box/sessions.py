"""Chunked upload sessions (``/api/2.0/files/upload_sessions``), as ``upload_big_file`` drives them.

Rules checked (Box's documented ones, plus choices where Box's exact answer is not public):

* a session needs ``file_size >= chunked_min_size`` (400 ``file_size_too_small``);
* a part starts at a multiple of ``part_size`` and is exactly ``part_size`` long, except the
  last, which ends at ``file_size - 1``; anything else, or a different part already stored at
  that offset, is 416 ``range_not_satisfiable``;
* the ``digest: sha=<base64 sha1>`` header must match the part (400 ``bad_digest``, the code
  Box documents for a content digest mismatch); a body shorter or longer than its
  ``content-range`` is 400 ``bad_request``;
* commit needs every part, a ``parts`` list that matches what was stored (400 ``bad_request``)
  and the whole file's ``digest`` (400 ``bad_digest``); the name is checked again (409).

Parts are stored as ``storage/sessions/<id>/<offset>``; commit concatenates them (streamed, in
a worker thread) into the file's place.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulators.box.state import COPY_CHUNK, BoxError, BoxState, Item

RANGE_RE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
SESSION_TTL_S = 7 * 24 * 3600


def sha_digest_header(value: str | None) -> str | None:
    """The hex SHA-1 of an RFC 3230 ``digest: sha=<base64>`` header (``None`` when malformed)."""
    if not value:
        return None
    for item in value.split(","):
        algo, _, b64 = item.strip().partition("=")
        if algo.strip().lower() in ("sha", "sha1", "sha-1"):
            try:
                raw = base64.b64decode(b64.strip(), validate=True)
            except ValueError:
                return None
            return raw.hex() if len(raw) == 20 else None
    return None


@dataclass
class UploadSession:
    """One upload session: the target, the part size and the parts received so far."""

    id: str
    folder_id: str
    file_name: str
    file_size: int
    part_size: int
    replace_id: str | None = None
    parts: dict[int, dict[str, Any]] = field(default_factory=dict)  # offset -> part
    expires_at: float = field(default_factory=lambda: time.time() + SESSION_TTL_S)
    first_commit_at: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def total_parts(self) -> int:
        return -(-self.file_size // self.part_size)

    def expected_size(self, offset: int) -> int:
        return min(self.part_size, self.file_size - offset)


class SessionStore:
    """Every open upload session. Thread-safe."""

    def __init__(self, state: BoxState) -> None:
        self.state = state
        self.sessions: dict[str, UploadSession] = {}
        self.lock = threading.Lock()

    def dir(self, sid: str) -> Path:
        return self.state.sessions_dir / sid

    def create(self, folder_id: str, file_name: str, file_size: Any, part_size: int, min_size: int,
               replace_id: str | None = None) -> UploadSession:
        try:
            size = int(file_size)
        except (TypeError, ValueError) as exc:
            raise BoxError(400, "bad_request", "'file_size' must be an integer") from exc
        if size < min_size:
            raise BoxError(400, "file_size_too_small",
                           f"File size {size} is below the minimum of {min_size} bytes for chunked upload")
        if replace_id is None:
            self.state.check_new(folder_id, file_name)
        sid = secrets.token_hex(16).upper()
        session = UploadSession(sid, folder_id, file_name, size, part_size, replace_id)
        self.dir(sid).mkdir(parents=True, exist_ok=True)
        with self.lock:
            self.sessions[sid] = session
        return session

    def get(self, sid: str) -> UploadSession:
        with self.lock:
            session = self.sessions.get(sid)
        if session is None:
            raise BoxError(404, "not_found", f"Could not find the specified resource (upload session {sid})")
        if session.expires_at < time.time():
            raise BoxError(410, "session_expired", "The upload session has expired")
        return session

    def processing_left(self, session: UploadSession, processing_s: float) -> float:
        """Seconds Box still spends assembling ``session`` (counted from its first commit request)."""
        if processing_s <= 0:
            return 0.0
        with session.lock:
            if session.first_commit_at is None:
                session.first_commit_at = time.monotonic()
            return processing_s - (time.monotonic() - session.first_commit_at)

    def abort(self, sid: str) -> None:
        self.get(sid)
        with self.lock:
            self.sessions.pop(sid, None)
        shutil.rmtree(self.dir(sid), ignore_errors=True)

    @staticmethod
    def parse_range(session: UploadSession, header: str | None) -> tuple[int, int]:
        """``(offset, size)`` of a part, or 416 when it does not fit the session's part grid."""
        m = RANGE_RE.match((header or "").strip())
        if not m:
            raise BoxError(400, "bad_request", "A 'content-range: bytes <start>-<end>/<total>' header is required")
        start, end, total = map(int, m.groups())
        if (total != session.file_size or end < start or end >= total or start % session.part_size
                or end - start + 1 != session.expected_size(start)):
            raise BoxError(416, "range_not_satisfiable",
                           f"Part range {start}-{end}/{total} does not fit the session (part_size "
                           f"{session.part_size}, file_size {session.file_size})")
        return start, end - start + 1

    def add_part(self, session: UploadSession, offset: int, size: int, tmp: Path, received: int, sha1: str,
                 digest_header: str | None) -> dict[str, Any]:
        """Keep a received part (moved from ``tmp``); the part record the API returns."""
        try:
            if received != size:
                raise BoxError(400, "bad_request", f"The part has {received} bytes, its content-range says {size}")
            expected = sha_digest_header(digest_header)
            if expected is None:
                raise BoxError(400, "bad_request", "A 'digest: sha=<base64 SHA-1>' header is required")
            if expected != sha1:
                raise BoxError(400, "bad_digest", "The specified digest did not match what we received")
            with session.lock:
                existing = session.parts.get(offset)
                if existing is not None:
                    if existing["sha1"] != sha1:
                        raise BoxError(416, "range_not_satisfiable",
                                       f"A different part was already uploaded at offset {offset}")
                    return existing  # a retried part: same answer
                os.replace(tmp, self.dir(session.id) / str(offset))
                part = {"part_id": secrets.token_hex(4).upper(), "offset": offset, "size": size, "sha1": sha1}
                session.parts[offset] = part
                return part
        finally:
            tmp.unlink(missing_ok=True)

    def parts_page(self, session: UploadSession, offset: int, limit: int) -> dict[str, Any]:
        with session.lock:
            parts = [session.parts[k] for k in sorted(session.parts)]
        return {"total_count": len(parts), "entries": parts[offset:offset + limit], "offset": offset,
                "limit": limit, "order": [{"by": "offset", "direction": "ASC"}]}

    def commit(self, session: UploadSession, parts: Any, digest_header: str | None,
               attributes: dict[str, Any] | None = None) -> Item:
        """Check the parts list and the whole-file digest, assemble, register (blocking: run in a thread)."""
        expected = sha_digest_header(digest_header)
        if expected is None:
            raise BoxError(400, "bad_request", "A 'digest: sha=<base64 SHA-1>' header of the whole file is required")
        with session.lock:
            stored = [session.parts[k] for k in sorted(session.parts)]
        if len(stored) != session.total_parts:
            raise BoxError(400, "bad_request",
                           f"Only {len(stored)} of {session.total_parts} parts have been uploaded")
        if not isinstance(parts, list) or len(parts) != len(stored) or not all(isinstance(p, dict) for p in parts):
            raise BoxError(400, "bad_request", "The 'parts' list must name every uploaded part")
        sent_by_offset = {str(p.get("offset")): p for p in parts}
        for kept in stored:
            sent = sent_by_offset.get(str(kept["offset"]))
            if sent is None or any(str(sent.get(k)) != str(kept[k]) for k in ("part_id", "size")) or (
                    sent.get("sha1") and str(sent["sha1"]).lower() != kept["sha1"]):
                raise BoxError(400, "bad_request", f"The 'parts' list does not match the uploaded part {kept}")
        tmp = self.state.new_upload_path()
        digest = hashlib.sha1()
        try:
            with open(tmp, "wb") as out:
                for part in stored:
                    with open(self.dir(session.id) / str(part["offset"]), "rb") as src:
                        while chunk := src.read(COPY_CHUNK):
                            digest.update(chunk)
                            out.write(chunk)
            if digest.hexdigest() != expected:
                raise BoxError(400, "bad_digest", "The specified digest did not match the uploaded parts")
            attributes = attributes or {}
            item = self.state.commit_file(
                session.folder_id, str(attributes.get("name") or session.file_name), tmp, session.file_size,
                digest.hexdigest(), replace_id=session.replace_id,
                content_created_at=attributes.get("content_created_at"),
                content_modified_at=attributes.get("content_modified_at"))
        finally:
            tmp.unlink(missing_ok=True)
        with self.lock:
            self.sessions.pop(session.id, None)
        shutil.rmtree(self.dir(session.id), ignore_errors=True)
        return item
