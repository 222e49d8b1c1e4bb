"""A Box API simulator faithful to what ``box_sdk_gen`` 10.x sends (see shared/reference/box_api.md).

What it does: real JWT verification (RS256 against registered public keys picked by ``kid``,
``aud`` = Box's token URL, ``iss``/``sub``/``exp``/``jti`` checked) and client-credentials
tokens that expire; bearer auth on every ``/2.0`` and ``/api/2.0`` route; folders with
409 ``item_name_in_use`` (case-insensitive, across files and folders) and Box's name rules;
offset and marker paging; multipart uploads streamed to disk with SHA-1 computed on the way;
chunked upload sessions with part alignment, part and whole-file digests; FileFull with
``sha1`` and ``path_collection``; downloads through a 302 to an unauthenticated ``/dl/<id>``
with ``Range`` support; delete; webhooks (V2) with signed deliveries and Box's retries
(``webhooks.py``); and the shared fault injection and request log (``simulators.common``).

Choices where Box's exact behaviour is not public (documented here and in the modules):

* a direct upload above ``direct_upload_max`` → 413 ``request_entity_too_large`` (Box's code for
  an oversized upload); a ``content-md5`` header (Box carries the SHA-1 in it) that does not
  match → 400 ``bad_digest``; the same code for a part or commit ``digest`` mismatch;
* a misaligned or overlapping part → 416 ``range_not_satisfiable``;
* a name longer than 255 characters → 400 ``item_name_too_long`` (Box's documented code), the
  other name rules → 400 ``item_name_invalid``;
* 409 ``conflicts``: a list for folder creation, a single object for file upload, preflight
  and upload sessions (the form most clients see from real Box);
* Box's per-user rate limits (1000 calls and 240 uploads a minute, 429 ``rate_limit_exceeded``
  with ``Retry-After``) as strict token buckets, **off** unless ``rate_limits`` enables them
  (``limits.py``; ``POST /_sim/box/rate-limits`` changes them at run time);
* tokens are opaque random strings; files are stored by ID under ``storage_dir/files``; the
  metadata is kept in memory and mirrored to ``storage_dir/state.json`` so a restarted
  simulator (the demo) keeps its content.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO

from simulators.box.app import build_app
from simulators.box.jwt_auth import JWT_AUDIENCE, TokenStore
from simulators.box.limits import BoxRateLimits, RateLimiter
from simulators.box.sessions import SessionStore
from simulators.box.state import ROOT_ID, BoxError, BoxState
from simulators.box.views import box_error_body
from simulators.box.webhooks import WebhookRegistry, WebhookSettings
from simulators.common import FaultInjector, SimulatorMiddleware

MiB = 1024 * 1024


class BoxSimulator:
    """The Box simulator: ``app`` to serve (e.g. ``ServerThread(sim.app)``), plus seeding and inspection.

    Example:
        sim = BoxSimulator(tmp / "box", client_id="cs-box", client_secret="s3cret",
                           public_keys={"kid1": public_pem}, enterprise_id="4242")
        with ServerThread(sim.app) as server:
            ...  # BaseUrls(base_url=server.base_url, upload_url=server.base_url + "/api")
    """

    def __init__(self, storage_dir: Path | str, client_id: str, client_secret: str,
                 public_keys: dict[str, str] | None = None, enterprise_id: str = "12345",
                 part_size: int = 8 * MiB, chunked_min_size: int = 20 * MiB, direct_upload_max: int = 50 * MiB,
                 token_ttl: float = 3600.0, persist: bool = True,
                 webhook_settings: WebhookSettings | None = None, rate_limits: BoxRateLimits | None = None) -> None:
        if part_size <= 0:
            raise ValueError("part_size must be positive")
        self.state = BoxState(Path(storage_dir), persist=persist)
        self.tokens = TokenStore(client_id, client_secret, str(enterprise_id), token_ttl, dict(public_keys or {}))
        self.sessions = SessionStore(self.state)
        self.part_size, self.chunked_min_size, self.direct_upload_max = part_size, chunked_min_size, direct_upload_max
        # Seconds a committed upload session stays "processing" (commit → 202 + Retry-After), and
        # the Retry-After the simulator asks for meanwhile; 0 = assembled at once.
        self.commit_processing_s, self.commit_retry_after_s = 0.0, 1.0
        self.webhooks = WebhookRegistry(self.state, webhook_settings)
        self.limits = RateLimiter(rate_limits or BoxRateLimits())
        self.injector = FaultInjector()
        self.app = SimulatorMiddleware(build_app(self), self.injector, box_error_body)

    # -- configuration --------------------------------------------------------------------
    @property
    def client_id(self) -> str:
        return self.tokens.client_id

    @property
    def enterprise_id(self) -> str:
        return self.tokens.enterprise_id

    @property
    def public_keys(self) -> dict[str, str]:
        return self.tokens.public_keys

    def add_public_key(self, kid: str, pem: str) -> None:
        """Register another app public key (what ``POST /_sim/box/keys`` does)."""
        self.tokens.add_public_key(kid, pem)

    # -- tokens ---------------------------------------------------------------------------
    def set_rate_limits(self, limits: BoxRateLimits) -> None:
        """Switch Box's per-user rate limits on or off, or change them (buckets start full)."""
        self.limits.configure(limits)

    def rate_limit_stats(self) -> dict[str, Any]:
        """The limits, and the calls and uploads admitted and refused (429) per user."""
        return self.limits.stats()

    def expire_tokens(self) -> None:
        """Invalidate every issued access token: the next API call gets 401 (the SDK refreshes)."""
        self.tokens.expire_all()

    @property
    def token_requests(self) -> int:
        """How many ``POST /oauth2/token`` requests arrived (granted or refused)."""
        return self.tokens.requests

    @property
    def tokens_issued(self) -> int:
        return self.tokens.issued

    # -- seeding --------------------------------------------------------------------------
    def create_folder(self, parent_id: str, name: str) -> str:
        """A new folder under ``parent_id`` (root is ``"0"``); raises :class:`BoxError` on a clash."""
        return self.state.create_folder(str(parent_id), name).id

    def ensure_folder_path(self, parent_id: str, parts: list[str]) -> str:
        """The folder at ``parent/parts...``, created where missing."""
        return self.state.ensure_folder_path(str(parent_id), parts)

    def put_file(self, parent_id: str, name: str, content: bytes | Path | str | BinaryIO,
                 content_created_at: str | None = None) -> str:
        """Seed a file (bytes, a path on disk, or a binary stream); its ID."""
        source = Path(content) if isinstance(content, str) else content
        return self.state.store_file(str(parent_id), name, source, content_created_at=content_created_at).id

    # -- inspection -----------------------------------------------------------------------
    def files(self) -> list[dict[str, Any]]:
        """Every file: id, name, parent_id, path (``a/b/c.jpg`` from the root), size, sha1, created_at."""
        return [{"id": i.id, "name": i.name, "parent_id": i.parent_id, "path": self.state.relative_path(i),
                 "size": i.size, "sha1": i.sha1, "created_at": i.created_at, "modified_at": i.modified_at,
                 "version": i.version + 1}
                for i in sorted(self.state.snapshot("file"), key=lambda i: int(i.id))]

    def folders(self) -> list[dict[str, Any]]:
        """Every folder except the root: id, name, parent_id, path."""
        return [{"id": i.id, "name": i.name, "parent_id": i.parent_id, "path": self.state.relative_path(i)}
                for i in sorted(self.state.snapshot("folder"), key=lambda i: int(i.id))]

    def file_path(self, file_id: str) -> Path:
        """Where the file's current content is on disk."""
        return self.state.file_path(str(file_id))

    def webhook_deliveries(self) -> list[dict[str, Any]]:
        """Every webhook delivery attempt: payload_id, delivery_id, file_id, attempt, status or error."""
        return self.webhooks.deliveries()

    def flush(self) -> None:
        """Write ``state.json`` now (it is otherwise written at most 0.2 s after a change)."""
        self.state.flush()


__all__ = ["BoxError", "BoxRateLimits", "BoxSimulator", "JWT_AUDIENCE", "ROOT_ID", "WebhookSettings", "box_error_body"]
