"""A Box API simulator faithful to what ``box_sdk_gen`` sends (see shared/reference/box_api.md).

Real JWT verification (RS256 against registered public keys, ``aud`` = Box's token URL),
folders with 409 ``item_name_in_use``, marker and offset paging, multipart uploads streamed
to disk, chunked upload sessions with SHA-1 checks, file info with ``sha1``, download via a
302 to an unauthenticated ``/dl/<id>`` (with Range), delete, and the shared fault injection.

Choices where Box's behaviour is not public: tokens are opaque random strings; a file above
``direct_upload_max`` gets 413 ``file_size_too_large``; a ``content-md5`` header (Box uses it
for the SHA-1) that does not match gets 400 ``sha1_mismatch``.
"""

from __future__ import annotations

import secrets
import threading
import time
from pathlib import Path
from typing import Any

from simulators.box.app import JWT_AUDIENCE, box_error_body, build_app
from simulators.box.state import BoxState
from simulators.common import FaultInjector, SimulatorMiddleware

class BoxSimulator:
    """The Box simulator: ``app`` to serve, plus helpers tests use to seed and inspect."""

    def __init__(self, storage_dir: Path, client_id: str, client_secret: str, public_keys: dict[str, str] | None = None,
                 enterprise_id: str = "12345", part_size: int = 8 * 1024 * 1024,
                 chunked_min_size: int = 20 * 1024 * 1024, direct_upload_max: int = 50 * 1024 * 1024,
                 token_ttl: float = 3600) -> None:
        self.state = BoxState(Path(storage_dir))
        self.client_id, self.client_secret = client_id, client_secret
        self.public_keys: dict[str, str] = dict(public_keys or {})
        self.enterprise_id = enterprise_id
        self.part_size, self.chunked_min_size, self.direct_upload_max = part_size, chunked_min_size, direct_upload_max
        self.token_ttl = token_ttl
        self.tokens: dict[str, float] = {}
        self.token_requests = 0
        self.sessions: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.injector = FaultInjector()
        self.app = SimulatorMiddleware(build_app(self), self.injector, box_error_body)

    # -- tokens ---------------------------------------------------------------------------
    def issue_token(self) -> str:
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = time.time() + self.token_ttl
            self.token_requests += 1
        return token

    def token_valid(self, token: str) -> bool:
        with self.lock:
            return self.tokens.get(token, 0) > time.time()

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    # -- seeding and inspection -----------------------------------------------------------
    def create_folder(self, parent_id: str, name: str) -> str:
        return self.state.create_folder(parent_id, name).id

    def put_file(self, parent_id: str, name: str, content: bytes | Path) -> str:
        import io

        source = content if isinstance(content, Path) else io.BytesIO(content)
        return self.state.store_file(parent_id, name, source).id

    def files(self) -> list[dict[str, Any]]:
        with self.state.lock:
            items = [i for i in self.state.items.values() if i.type == "file"]
        return [{"id": i.id, "name": i.name, "parent_id": i.parent_id, "path": self.state.relative_path(i),
                 "size": i.size, "sha1": i.sha1, "created_at": i.created_at} for i in items]

    def folders(self) -> list[dict[str, Any]]:
        with self.state.lock:
            items = [i for i in self.state.items.values() if i.type == "folder" and i.id != "0"]
        return [{"id": i.id, "name": i.name, "parent_id": i.parent_id, "path": self.state.relative_path(i)}
                for i in items]

    def file_path(self, file_id: str) -> Path:
        return self.state.file_path(file_id)


__all__ = ["BoxSimulator", "JWT_AUDIENCE", "box_error_body"]
