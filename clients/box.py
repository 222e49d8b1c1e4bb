"""Box adapter over ``box_sdk_gen`` (boxsdk 10.x): folders, streamed uploads, file info, delete.

Everything the flows need from Box goes through :class:`BoxStore`; it raises the typed errors
of :mod:`clients.errors` and never returns ``None`` on failure.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import requests
import requests.adapters
from box_sdk_gen import (
    BaseUrls,
    BoxAPIError,
    BoxClient,
    BoxJWTAuth,
    BoxRetryStrategy,
    BoxSDKError,
    CreateFolderParent,
    CreateWebhookTarget,
    CreateWebhookTargetTypeField,
    CreateWebhookTriggers,
    FetchOptions,
    Files,
    JWTConfig,
    NetworkSession,
    PreflightFileUploadCheckParent,
    TimeoutConfig,
    UpdateFileByIdParent,
    UpdateWebhookByIdTriggers,
    UploadFileAttributes,
    UploadFileAttributesParentField,
    UploadFileVersionAttributes,
    UploadPart,
)
from box_sdk_gen.networking.box_network_client import BoxNetworkClient
from box_sdk_gen.networking.fetch_options import ResponseFormat
from box_sdk_gen.serialization.json import deserialize, serialize
from pydantic import BaseModel

from clients.budget import RequestBudget, RequestCounts, RequestKind
from clients.errors import (
    AlreadyExists,
    AuthError,
    ClientError,
    Conflict,
    IntegrityError,
    InvalidData,
    NotFound,
    TransientError,
    mark_exhausted,
)
from clients.retry import REQUEST_RETRIES
from domain.box_names import box_safe_name

# Box: direct uploads up to 50 MB; upload sessions from 20 MB. We switch at 20 MB so large
# files go in parts (and can be resumed part by part by Box).
DEFAULT_CHUNKED_THRESHOLD = 20 * 1024 * 1024
# How long a commit may keep answering 202 (Box assembling the parts) before the upload is
# given up as a retryable error. Box gives no bound; rclone waits up to 100 tries.
DEFAULT_COMMIT_WAIT_S = 600.0
# Connections kept open to each Box host: at least a run's concurrent transfers (64 at most).
MAX_CONNECTIONS = 64
# Longest wait a Box Retry-After may impose on one retry (the SDK has no cap, box_api.md §3.2).
MAX_RETRY_AFTER_S = REQUEST_RETRIES.retry_after_cap_s
# Requests of Box's upload API, under ``…/2.0``: direct uploads and new versions, and every
# request of an upload session. Box limits these separately (240 a minute per user), inside
# the 1000 calls (box_limits_and_webhooks.md §1).
_UPLOAD_PATH = re.compile(r"^/files/(?:\d+/)?(?:upload_sessions(?:/.*)?|content)$")


class BoxFile(BaseModel):
    """A file in Box."""

    id: str
    name: str
    size: int
    sha1: str
    parent_id: str | None = None


class BoxWebhook(BaseModel):
    """A webhook (V2) of the app: where Box posts which events on which file or folder."""

    id: str
    target_id: str
    target_type: str
    address: str
    triggers: list[str]


class HashingReader:
    """A read-only, non-seekable file object over a byte iterator that hashes what passes.

    Box's SDK reads the upload body from it in small pieces, so a DAM download flows into the
    Box upload without ever being held whole in memory. When the source ends before
    ``expected_size`` bytes the read raises :class:`IntegrityError` instead of sending a
    truncated file.
    """

    def __init__(self, chunks: Iterator[bytes], expected_size: int | None = None,
                 expected_sha1: str | None = None) -> None:
        self._chunks = chunks
        self._buffer = b""
        self._offset = 0
        self._done = False
        self.expected_size = expected_size
        self.expected_sha1 = (expected_sha1 or "").lower() or None
        self.bytes_read = 0
        self._received = 0
        self._sha1 = hashlib.sha1()
        self._source_sha1 = hashlib.sha1()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            parts = [self._buffer[self._offset:]]
            self._buffer, self._offset = b"", 0
            while (chunk := self._next_chunk()) is not None:
                parts.append(chunk)
            return self._account(b"".join(parts))
        # The SDK asks for 64 KiB at a time out of 1 MiB DAM chunks: hand out slices of the
        # current chunk (an offset, not a copy of the rest of it on every read).
        while len(self._buffer) - self._offset < size and not self._done:
            chunk = self._next_chunk()
            if chunk is not None:
                self._buffer = self._buffer[self._offset:] + chunk if self._offset < len(self._buffer) else chunk
                self._offset = 0
        out = self._buffer[self._offset:self._offset + size]
        self._offset += len(out)
        return self._account(out)

    def _next_chunk(self) -> bytes | None:
        """The source's next chunk, checked before any of it is handed out: a source longer than
        ``expected_size`` fails at its first extra byte, and the last chunk of a source that
        must match ``expected_sha1`` is held back until the whole source is verified, so the
        receiving side never gets a complete body with the wrong bytes."""
        if self._done:
            return None
        try:
            chunk = next(self._chunks)
        except StopIteration:
            self._done = True
            self._verify_end()
            return None
        self._received += len(chunk)
        self._source_sha1.update(chunk)
        if self.expected_size is not None and self._received > self.expected_size:
            raise IntegrityError(f"the source sent more than the {self.expected_size} bytes it declared")
        if self.expected_size is not None and self._received == self.expected_size:
            self._drain_end()
        return chunk

    def _drain_end(self) -> None:
        """At the declared size: the source must end here (and match its checksum)."""
        for extra in self._chunks:
            if extra:
                raise IntegrityError(f"the source sent more than the {self.expected_size} bytes it declared")
        self._done = True
        self._verify_end()

    def _verify_end(self) -> None:
        if self.expected_size is not None and self._received != self.expected_size:
            raise IntegrityError(f"the source sent {self._received} bytes, it declared {self.expected_size}")
        if self.expected_sha1 and self._source_sha1.hexdigest() != self.expected_sha1:
            raise IntegrityError(f"the source sent bytes with SHA-1 {self._source_sha1.hexdigest()}, "
                                 f"it declared {self.expected_sha1}")

    def _account(self, data: bytes) -> bytes:
        self.bytes_read += len(data)
        self._sha1.update(data)
        return data

    @property
    def sha1(self) -> str:
        return self._sha1.hexdigest()


class BoxStore:
    """What the flows do in Box. Thread-safe: one instance serves every worker thread."""

    def __init__(self, client: BoxClient, *, chunked_threshold: int = DEFAULT_CHUNKED_THRESHOLD,
                 commit_wait_s: float = DEFAULT_COMMIT_WAIT_S, counts: RequestCounts | None = None) -> None:
        self._client = client
        self.chunked_threshold = chunked_threshold
        self.commit_wait_s = commit_wait_s
        # What went to Box through :meth:`from_jwt`'s HTTP session: requests, budget waits, 429s.
        self.counts = counts or RequestCounts()
        strategy = client.network_session.retry_strategy
        self._attempts = int(getattr(strategy, "max_attempts", 5))
        self._commit_session = client.network_session.with_retry_strategy(_AcceptedIsAnAnswer(
            max_attempts=getattr(strategy, "max_attempts", 5),
            retry_base_interval=getattr(strategy, "retry_base_interval", 1.0)))
        self._folder_cache: dict[tuple[str, str], str] = {}
        self._folder_locks: dict[tuple[str, str], threading.Lock] = {}
        self._cache_lock = threading.Lock()

    @classmethod
    def from_jwt(
        cls,
        *,
        client_id: str,
        client_secret: str,
        public_key_id: str,
        private_key_pem: str,
        private_key_passphrase: str,
        enterprise_id: str | None = None,
        user_id: str | None = None,
        api_base_url: str = "https://api.box.com",
        upload_base_url: str = "https://upload.box.com/api",
        max_attempts: int = 5,
        retry_base_interval: float = 1.0,
        connect_timeout_s: float = 10.0,
        read_timeout_s: float = 60.0,
        chunked_threshold: int = DEFAULT_CHUNKED_THRESHOLD,
        commit_wait_s: float = DEFAULT_COMMIT_WAIT_S,
        budget: RequestBudget | None = None,
    ) -> BoxStore:
        """Build the SDK client for a JWT app (the production path; tests point the URLs at the simulator).

        ``budget`` is called before every request to Box's API (``"call"``) or upload API
        (``"upload"``), the SDK's own retries included; token requests and the download
        redirect target are not Box API calls and are not counted.
        """
        config = JWTConfig(
            client_id=client_id,
            client_secret=client_secret,
            jwt_key_id=public_key_id,
            private_key=private_key_pem,
            private_key_passphrase=private_key_passphrase,
            enterprise_id=enterprise_id,
            user_id=user_id,
        )
        # One HTTP connection per transfer thread: requests' default pool of 10 discards and
        # reopens connections when more threads share the client.
        counts = RequestCounts()
        http = requests.Session()
        adapter = _MeteredAdapter(api_base_url, upload_base_url, budget, counts, pool_connections=4,
                                  pool_maxsize=MAX_CONNECTIONS)
        http.mount("https://", adapter)
        http.mount("http://", adapter)
        session = NetworkSession(
            network_client=BoxNetworkClient(requests_session=http),
            base_urls=BaseUrls(
                base_url=api_base_url.rstrip("/"),
                upload_url=upload_base_url.rstrip("/"),
                oauth_2_url=api_base_url.rstrip("/") + "/oauth2",
            ),
            retry_strategy=_CappedRetryAfter(max_attempts=max_attempts, retry_base_interval=retry_base_interval),
            timeout_config=TimeoutConfig(
                connection_timeout_ms=int(connect_timeout_s * 1000), read_timeout_ms=int(read_timeout_s * 1000)
            ),
        )
        client = BoxClient(auth=BoxJWTAuth(config=config), network_session=session)
        return cls(client, chunked_threshold=chunked_threshold, commit_wait_s=commit_wait_s, counts=counts)

    # -- folders --------------------------------------------------------------------------
    def ensure_folder_path(self, root_folder_id: str, parts: list[str]) -> str:
        """The id of ``root/parts[0]/parts[1]/…``, creating what is missing.

        Race-safe: when another worker (or another run) creates the same folder first, Box
        answers 409 ``item_name_in_use`` with the existing folder, which we adopt.
        """
        folder_id = root_folder_id
        for part in parts:
            folder_id = self._ensure_child_folder(folder_id, box_safe_name(part))
        return folder_id

    def _ensure_child_folder(self, parent_id: str, name: str) -> str:
        key = (parent_id, name.casefold())
        with self._cache_lock:
            if key in self._folder_cache:
                return self._folder_cache[key]
            lock = self._folder_locks.setdefault(key, threading.Lock())
        with lock:  # one creator per folder in this process; other processes are handled by the 409
            with self._cache_lock:
                if key in self._folder_cache:
                    return self._folder_cache[key]
            try:
                folder = self._call(
                    lambda: self._client.folders.create_folder(name, CreateFolderParent(id=parent_id)),
                    f"create folder {name!r}",
                )
                folder_id = str(folder.id)
            except Conflict as exc:
                folder_id = _conflicting_id(exc, want_type="folder")
            with self._cache_lock:
                self._folder_cache[key] = folder_id
            return folder_id

    def rename_folder(self, folder_id: str, name: str) -> None:
        """Give folder ``folder_id`` the (Box-safe) ``name``; its id, content and shares stay.

        A folder of that name already beside it is a :class:`Conflict` naming both ids.
        """
        safe = box_safe_name(name)
        try:
            self._call(lambda: self._client.folders.update_folder_by_id(folder_id, name=safe),
                       f"rename folder {folder_id} to {safe!r}")
        except Conflict as exc:
            other = next((str(c.get("id")) for c in _conflict_items(exc) if c.get("id")), "?")
            raise Conflict(f"Box: folder {folder_id} cannot be renamed to {safe!r}: folder {other} already has "
                           "that name beside it (merge or rename one of them in Box)", status=409,
                           system="box") from exc
        with self._cache_lock:  # the old name no longer points at this folder
            for key in [k for k, v in self._folder_cache.items() if v == folder_id]:
                del self._folder_cache[key]

    def move_file(self, file_id: str, folder_id: str, name: str) -> BoxFile:
        """Move and/or rename Box file ``file_id`` to ``folder_id``/``name`` (one call; content kept)."""
        file = self._call(lambda: self._client.files.update_file_by_id(
            file_id, name=name, parent=UpdateFileByIdParent(id=folder_id), fields=["name", "size", "sha1", "parent"]),
            f"move file {file_id} to {name!r} in folder {folder_id}")
        return _box_file(file)

    def get_folder_name(self, folder_id: str) -> str:
        folder = self._call(lambda: self._client.folders.get_folder_by_id(folder_id, fields=["name"]),
                            f"read folder {folder_id}")
        return str(folder.name)

    def walk_files(self, folder_id: str, page_size: int = 1000) -> Iterator[tuple[list[str], BoxFile]]:
        """Every file below ``folder_id`` with its sub-folder path, listed with marker paging.

        One call per 1,000 items per folder (the most Box returns), so thousands of waiting
        files cost a handful of calls, not one each.
        """
        pending: list[tuple[str, list[str]]] = [(folder_id, [])]
        while pending:
            current, path = pending.pop(0)
            marker: str | None = None
            while True:
                page = self._call(
                    lambda current=current, marker=marker: self._client.folders.get_folder_items(
                        current, fields=["name", "size", "sha1", "type"], usemarker=True, marker=marker,
                        limit=page_size),
                    f"list folder {current}",
                )
                for entry in page.entries or []:
                    kind = getattr(entry, "type", None)
                    kind = getattr(kind, "value", kind)
                    if kind == "folder":
                        pending.append((str(entry.id), [*path, str(entry.name)]))
                    elif kind == "file":
                        yield path, BoxFile(id=str(entry.id), name=str(entry.name), size=int(entry.size or 0),
                                            sha1=str(getattr(entry, "sha_1", None) or ""), parent_id=current)
                marker = getattr(page, "next_marker", None)
                if not marker:
                    break

    def iter_file_bytes(self, file_id: str, chunk_size: int = 1024 * 1024) -> Iterator[bytes]:
        """Stream a Box file's bytes (never read whole into memory)."""
        stream = self._call(lambda: self._client.downloads.download_file(file_id), f"download file {file_id}")
        if stream is None:
            raise TransientError(f"Box: file {file_id} is not ready for download yet", system="box")
        try:
            while True:
                try:
                    chunk = stream.read(chunk_size)
                except Exception as exc:  # noqa: BLE001 - requests/urllib3 errors while streaming
                    raise TransientError(f"Box: download of file {file_id} broke off: {exc}", system="box") from exc
                if not chunk:
                    return
                yield chunk
        finally:
            close = getattr(stream, "close", None)
            if callable(close):
                close()

    # -- files ----------------------------------------------------------------------------
    def find_file(self, folder_id: str, name: str, size: int = 1) -> BoxFile | None:
        """The file called ``name`` in the folder, if any (one preflight call, no listing)."""
        try:
            self._call(
                lambda: self._client.uploads.preflight_file_upload_check(
                    name=name, size=size, parent=PreflightFileUploadCheckParent(id=folder_id)
                ),
                f"check {name!r}",
            )
            return None
        except Conflict as exc:
            conflict = _conflict_items(exc)
            if not conflict or conflict[0].get("type") != "file":
                raise
            return self.get_file(str(conflict[0]["id"]))

    def get_file(self, file_id: str) -> BoxFile:
        file = self._call(
            lambda: self._client.files.get_file_by_id(file_id, fields=["name", "size", "sha1", "parent"]),
            f"read file {file_id}",
        )
        return _box_file(file)

    def delete_file(self, file_id: str) -> None:
        self._call(lambda: self._client.files.delete_file_by_id(file_id), f"delete file {file_id}")

    def upload_stream(self, folder_id: str, name: str, chunks: Iterator[bytes], size: int) -> BoxFile:
        """Stream ``chunks`` (``size`` bytes) into a new Box file and verify its SHA-1.

        Files of ``chunked_threshold`` bytes or more go through an upload session (Box checks
        every part's digest and the whole file's on commit). A mismatch between what we sent
        and what Box stored deletes the Box file and raises :class:`IntegrityError`. A file of
        that name already in the folder raises :class:`AlreadyExists` (nothing is changed).
        """
        reader = HashingReader(chunks, expected_size=size)
        try:
            stored = self._upload(reader, name, size, folder_id=folder_id)
        except Conflict as exc:
            existing = [c for c in _conflict_items(exc) if c.get("type") == "file" and c.get("id")]
            if not existing:
                raise
            raise AlreadyExists(str(exc), existing_id=str(existing[0]["id"]), status=409, system="box") from exc
        self._check_stored(stored, reader, name, delete=True)
        return stored

    def upload_new_version(self, file_id: str, name: str, chunks: Iterator[bytes], size: int) -> BoxFile:
        """Replace the content of Box file ``file_id`` (the DAM asset changed since it was copied).

        The same path as a new file: an upload session from ``chunked_threshold`` bytes (Box
        refuses direct uploads above 50 MB with 413, new versions included).
        """
        reader = HashingReader(chunks, expected_size=size)
        stored = self._upload(reader, name, size, file_id=file_id)
        self._check_stored(stored, reader, name, delete=False)
        return stored

    def _upload(self, reader: HashingReader, name: str, size: int, *, folder_id: str | None = None,
                file_id: str | None = None) -> BoxFile:
        """A new file in ``folder_id``, or a new version of ``file_id``; direct or in parts by size."""
        if size >= self.chunked_threshold:
            return self._upload_in_parts(reader, name, size, folder_id=folder_id, file_id=file_id)
        if file_id is not None:
            files = self._call(lambda: self._client.uploads.upload_file_version(
                file_id, UploadFileVersionAttributes(name=name), reader, file_file_name=name),
                f"upload a new version of {name!r}")
        else:
            files = self._call(lambda: self._client.uploads.upload_file(
                UploadFileAttributes(name=name, parent=UploadFileAttributesParentField(id=folder_id)),
                reader, file_file_name=name), f"upload {name!r}")
        if not files or not files.entries:
            raise InvalidData(f"Box accepted {name!r} but returned no file", system="box")
        return _box_file(files.entries[0])

    def _check_stored(self, stored: BoxFile, reader: HashingReader, name: str, *, delete: bool) -> None:
        if stored.sha1 == reader.sha1 and stored.size == reader.bytes_read:
            return
        if delete:
            self.delete_file(stored.id)
        raise IntegrityError(
            f"Box stored {name!r} with SHA-1 {stored.sha1} / {stored.size} bytes, but we sent "
            f"{reader.sha1} / {reader.bytes_read} bytes" + ("; the Box copy was deleted" if delete else ""),
            system="box")

    def _upload_in_parts(self, reader: HashingReader, name: str, size: int, *, folder_id: str | None,
                         file_id: str | None) -> BoxFile:
        """Box's upload-session contract (box_limits_and_webhooks.md §2): create the session (Box
        sets the part size), send every part with its digest, commit with the whole file's
        digest. Any failure aborts the session, so no half-sent upload stays open in Box."""
        uploads = self._client.chunked_uploads
        session = self._call(
            (lambda: uploads.create_file_upload_session_for_existing_file(file_id, size, file_name=name))
            if file_id is not None else (lambda: uploads.create_file_upload_session(folder_id, size, name)),
            f"start an upload session for {name!r}")
        endpoints = session.session_endpoints
        try:
            parts = self._send_parts(reader, name, size, int(session.part_size), endpoints.upload_part)
            digest = "sha=" + base64.b64encode(bytes.fromhex(reader.sha1)).decode()
            return self._commit(endpoints.commit, parts, digest, name)
        except BaseException:
            try:
                self._call(lambda: uploads.delete_file_upload_session_by_url(endpoints.abort),
                           f"abort the upload session of {name!r}")
            except ClientError:
                pass  # the session expires by itself after 7 days; the original error matters more
            raise

    def _send_parts(self, reader: HashingReader, name: str, size: int, part_size: int, url: str) -> list[UploadPart]:
        parts: list[UploadPart] = []
        offset = 0
        while offset < size:
            chunk = _read_exactly(reader, min(part_size, size - offset))
            sha1 = hashlib.sha1(chunk)
            end = offset + len(chunk) - 1
            uploaded = self._call(lambda chunk=chunk, sha1=sha1, end=end, offset=offset:
                                  self._client.chunked_uploads.upload_file_part_by_url(
                                      url, io.BytesIO(chunk), "sha=" + base64.b64encode(sha1.digest()).decode(),
                                      f"bytes {offset}-{end}/{size}"),
                                  f"upload part {offset}-{end} of {name!r}")
            part = uploaded.part
            if (part.sha_1 or "").lower() != sha1.hexdigest() or part.size != len(chunk) or part.offset != offset:
                raise IntegrityError(f"Box stored part {offset}-{end} of {name!r} differently from what was sent",
                                     system="box")
            parts.append(UploadPart(part_id=part.part_id, offset=part.offset, size=part.size, sha_1=part.sha_1))
            offset = end + 1
        return parts

    def _commit(self, url: str, parts: list[UploadPart], digest: str, name: str) -> BoxFile:
        """Commit, and poll while Box answers 202 (still assembling) for as long as its
        ``Retry-After`` asks, within ``commit_wait_s``. The SDK returns ``None`` after its own
        attempts (box/box-python-sdk#685); this loop reads the status itself."""
        deadline = time.monotonic() + self.commit_wait_s
        started = time.monotonic()
        while True:
            response = self._call(lambda: self._client.make_request(FetchOptions(
                url=url, method="POST", headers={"digest": digest}, data=serialize({"parts": parts}),
                content_type="application/json", response_format=ResponseFormat.JSON,
                network_session=self._commit_session)), f"commit the upload of {name!r}")
            if response.status != 202:
                files = deserialize(response.data, Files)
                if not files.entries:
                    raise InvalidData(f"Box committed {name!r} but returned no file", system="box")
                return _box_file(files.entries[0])
            wait = _retry_after(response.headers, default=1.0)
            if time.monotonic() + wait > deadline:
                raise TransientError(
                    f"Box was still assembling {name!r} {time.monotonic() - started:.0f} s after its last part "
                    f"(commit answered 202 each time, limit {self.commit_wait_s:.0f} s); the upload session was "
                    "aborted and the file will be sent again", retry_after=wait, status=202, system="box")
            time.sleep(wait)

    # -- files by id, webhooks (the webhook-triggered import and its registration) ---------
    def files_below(self, folder_id: str, file_ids: list[str]) -> Iterator[tuple[list[str], BoxFile]]:
        """The files of ``file_ids`` that are below ``folder_id``, each with its sub-folder path (as
        :meth:`walk_files` gives it): one call per file instead of listing the tree. A file that is
        gone (imported meanwhile) or is not below the folder is skipped."""
        for file_id in dict.fromkeys(file_ids):
            try:
                file = self._call(lambda file_id=file_id: self._client.files.get_file_by_id(
                    file_id, fields=["name", "size", "sha1", "parent", "path_collection"]), f"read file {file_id}")
            except NotFound:
                continue
            chain = list(getattr(file.path_collection, "entries", None) or [])
            ids = [str(folder.id) for folder in chain]
            if folder_id in ids:
                yield [str(folder.name) for folder in chain[ids.index(folder_id) + 1:]], _box_file(file)

    def list_webhooks(self, target_id: str | None = None) -> list[BoxWebhook]:
        """The app's webhooks (for this user), or only those on ``target_id``."""
        found, marker = [], None
        while True:
            page = self._call(lambda marker=marker: self._client.webhooks.get_webhooks(marker=marker, limit=1000),
                              "list webhooks")
            found += [str(w.id) for w in page.entries or []
                      if target_id is None or str(getattr(w.target, "id", "")) == str(target_id)]
            marker = getattr(page, "next_marker", None)
            if not marker:
                break
        return [_box_webhook(self._call(lambda i=i: self._client.webhooks.get_webhook_by_id(i), f"read webhook {i}"))
                for i in found]

    def create_folder_webhook(self, folder_id: str, address: str, triggers: list[str]) -> BoxWebhook:
        """A webhook on a folder (Box allows one per folder for an app and user: 409 ``Conflict`` otherwise)."""
        return _box_webhook(self._call(lambda: self._client.webhooks.create_webhook(
            CreateWebhookTarget(id=folder_id, type=CreateWebhookTargetTypeField.FOLDER), address,
            [CreateWebhookTriggers(t) for t in triggers]), f"create a webhook on folder {folder_id}"))

    def update_webhook(self, webhook_id: str, address: str, triggers: list[str]) -> BoxWebhook:
        return _box_webhook(self._call(lambda: self._client.webhooks.update_webhook_by_id(
            webhook_id, address=address, triggers=[UpdateWebhookByIdTriggers(t) for t in triggers]),
            f"update webhook {webhook_id}"))

    def delete_webhook(self, webhook_id: str) -> None:
        self._call(lambda: self._client.webhooks.delete_webhook_by_id(webhook_id), f"delete webhook {webhook_id}")

    # -- error mapping --------------------------------------------------------------------
    def _call(self, fn: Callable[[], Any], what: str) -> Any:
        self.counts.last_retry_after()  # forget a 429 of an earlier call of this thread
        try:
            return fn()
        except BoxAPIError as exc:
            error = _map_api_error(exc, what)
            if isinstance(error, TransientError):  # the SDK already replayed it (the request layer)
                mark_exhausted(error, self._attempts)
            raise error from exc
        except ClientError:
            raise
        except BoxSDKError as exc:
            # Network failures, or a retry the SDK could not make with a streamed body (after a
            # 429, whose Retry-After the retry layer then honours).
            cause = getattr(exc, "error", None)
            detail = f"{type(cause).__name__}: {cause}" if cause else exc.message
            raise TransientError(f"Box: {what} failed: {detail}", retry_after=self.counts.last_retry_after(),
                                 system="box") from exc


def _map_api_error(exc: BoxAPIError, what: str) -> ClientError:
    status = exc.response_info.status_code
    body = exc.response_info.body or {}
    code = body.get("code") or exc.response_info.code or ""
    message = body.get("message") or str(exc)
    text = f"Box: {what} failed: {status} {code}: {message}"
    if status == 409:
        err: ClientError = Conflict(text, status=status, system="box")
        err.context_info = exc.response_info.context_info or body.get("context_info") or {}  # type: ignore[attr-defined]
        return err
    if status == 404:
        return NotFound(text, status=status, system="box")
    if status in (401, 403) or code in ("invalid_grant", "invalid_client", "unauthorized_client"):
        return AuthError(text, status=status, system="box")
    if status == 429 or status >= 500:
        headers = exc.response_info.headers or {}
        retry_after = _retry_after(headers, default=1.0) if "retry-after" in {k.lower() for k in headers} else None
        return TransientError(text, status=status, retry_after=retry_after, system="box")
    return InvalidData(text, status=status, system="box")


def _conflict_items(exc: Conflict) -> list[dict[str, Any]]:
    conflicts = getattr(exc, "context_info", {}).get("conflicts")
    if isinstance(conflicts, dict):
        return [conflicts]
    return [c for c in conflicts or [] if isinstance(c, dict)]


def _conflicting_id(exc: Conflict, want_type: str) -> str:
    for item in _conflict_items(exc):
        if item.get("type") == want_type and item.get("id"):
            return str(item["id"])
    raise exc


def _read_exactly(reader: HashingReader, size: int) -> bytes:
    """``size`` bytes of the reader (one part of an upload session)."""
    pieces, got = [], 0
    while got < size:
        piece = reader.read(size - got)
        if not piece:
            raise IntegrityError(f"the source ended after {reader.bytes_read} bytes, it declared "
                                 f"{reader.expected_size}", system="box")
        pieces.append(piece)
        got += len(piece)
    return b"".join(pieces)


def _retry_after(headers: Any, default: float) -> float:
    """Box's ``Retry-After`` in seconds (capped at :data:`MAX_RETRY_AFTER_S`; an unreadable
    value, e.g. an HTTP date, counts as ``default``)."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER_S) if value is not None else default
    except ValueError:
        return default


def box_request_kind(method: str, url: str, api_base_url: str, upload_base_url: str) -> RequestKind | None:
    """What a request to ``url`` is for Box's rate limits: ``"upload"`` (a direct upload, a new
    version, or any request of an upload session), ``"call"`` (any other ``…/2.0/`` endpoint,
    preflight and downloads included) or ``None`` (a token request, a download's redirect target)."""
    path = url.split("?", 1)[0]
    for base in (upload_base_url.rstrip("/"), api_base_url.rstrip("/")):
        if path.startswith(base + "/2.0/"):
            rest = path[len(base) + len("/2.0"):]
            if _UPLOAD_PATH.match(rest) and (method.upper() == "POST" or "/upload_sessions" in rest):
                return "upload"
            return "call"
    return None


class _MeteredAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter, plus: each Box API request takes its share of the budget first, and is
    counted (with the 429s Box answers). Every HTTP request the SDK sends passes here, retries
    and upload-session parts included, so the budget sees what Box's limits see."""

    def __init__(self, api_base_url: str, upload_base_url: str, budget: RequestBudget | None,
                 counts: RequestCounts, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._bases = (api_base_url, upload_base_url)
        self._budget = budget
        self._counts = counts

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kind = box_request_kind(request.method or "GET", request.url or "", *self._bases)
        if kind is not None:
            self._counts.take(self._budget, kind)
        response = super().send(request, *args, **kwargs)
        if kind is not None and response.status_code == 429:
            self._counts.throttled(_retry_after(response.headers, default=1.0))
        return response


class _CappedRetryAfter(BoxRetryStrategy):
    """The SDK's retries (429, 5xx, 202 with Retry-After, 401 after a refresh) are the request
    layer of :mod:`clients.retry`: waits from its policy, Box's ``Retry-After`` honoured and
    capped, an unreadable one (the SDK would crash on an HTTP date) ignored."""

    def retry_after(self, fetch_options: Any, fetch_response: Any, attempt_number: int) -> float:
        policy = REQUEST_RETRIES.model_copy(update={"base_delay_s": self.retry_base_interval,
                                                    "jitter": self.retry_randomization_factor})
        asked = _retry_after(fetch_response.headers, default=-1.0)
        return policy.delay(attempt_number, asked if asked >= 0 else None)


class _AcceptedIsAnAnswer(_CappedRetryAfter):
    """The SDK's retries, except that a 202 is returned to us (the commit loop reads it)."""

    def should_retry(self, fetch_options: Any, fetch_response: Any, attempt_number: int) -> bool:
        if fetch_response.status == 202:
            return False
        return super().should_retry(fetch_options, fetch_response, attempt_number)


def _box_webhook(hook: Any) -> BoxWebhook:
    target = getattr(hook, "target", None)
    kind = getattr(target, "type", None)
    return BoxWebhook(id=str(hook.id), target_id=str(getattr(target, "id", "")),
                      target_type=str(getattr(kind, "value", kind) or ""), address=str(hook.address or ""),
                      triggers=[str(getattr(t, "value", t)) for t in hook.triggers or []])


def _box_file(file: Any) -> BoxFile:
    parent = getattr(file, "parent", None)
    return BoxFile(
        id=str(file.id),
        name=str(file.name),
        size=int(file.size or 0),
        sha1=str(file.sha_1 or ""),
        parent_id=str(parent.id) if parent is not None and getattr(parent, "id", None) else None,
    )
