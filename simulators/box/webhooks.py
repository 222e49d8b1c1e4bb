"""Box webhooks (V2) in the simulator: registration, signed deliveries, Box's retries.

Registration (developer.box.com reference post-webhooks, get-webhooks, get-/put-/delete-webhooks-id;
guides/webhooks/v2/limitations-v2)::

    POST   /2.0/webhooks        {"target": {"id", "type"}, "address", "triggers": [...]} → 201 Webhook
    GET    /2.0/webhooks        ?marker=&limit= → {"entries": [Webhook (Mini)], "limit", "next_marker"}
    GET|PUT|DELETE /2.0/webhooks/{id}

* one webhook per item, per app, per user: a second one on the same target is 409 (the
  simulator serves one app and one user, so per target);
* the target must exist (404) and may not be the root folder (Box: "none on the root folder");
* ``triggers`` must be Box's trigger names (400 otherwise);
* the address must be an HTTPS URL on port 443 that is not a box.com host (400 otherwise).

**The one relaxation** (``allow_any_port``, used by the tests and the demo): an address on
another port than 443 — and so a receiver on 127.0.0.1 — is accepted, because a test can
neither bind port 443 nor get a certificate from a public CA. Everything else stays as strict:
HTTPS only, and the receiver's certificate is verified (against ``ca_file``, the test CA,
instead of the public CAs).

Deliveries: when a new file is uploaded (direct upload, committed upload session, or a seeded
file) into a folder with a ``FILE.UPLOADED`` webhook, *or into any folder below it* ("Webhooks
do cascade, so if a webhook is set on a parent folder, it will also monitor sub-folders",
guides/webhooks/v2/create-v2), the simulator POSTs the payload (reference
resources/webhook-invocation: ``type`` ``webhook_event``, ``id``, ``created_at``, ``trigger``,
``webhook``, ``created_by``, ``source`` = the file) with Box's headers, signed with the primary
and the secondary key (guides/webhooks/v2/signatures-v2). New versions of a file are not
delivered (a2-to-a3 never needs them).

A delivery that gets no 2xx within ``timeout_s`` (Box: 30 s) is retried up to ``max_retries``
times (Box: 10), the first after ``retry_base_s`` (Box: about 5 minutes) and then with
exponential back-off (guides/webhooks/handle/retries); each retry has a new
``BOX-DELIVERY-ID`` and timestamp and the same payload ``id``. Tests and the demo scale the
delays down with ``retry_base_s``.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import itertools
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from simulators.box.state import ROOT_ID, BoxError, Item, now_iso, service_user
from simulators.box.views import file_full

if TYPE_CHECKING:
    from simulators.box.state import BoxState

# developer.box.com reference post-webhooks, "triggers"
TRIGGERS = frozenset({
    "FILE.UPLOADED", "FILE.PREVIEWED", "FILE.DOWNLOADED", "FILE.TRASHED", "FILE.DELETED", "FILE.RESTORED",
    "FILE.COPIED", "FILE.MOVED", "FILE.LOCKED", "FILE.UNLOCKED", "FILE.RENAMED", "COMMENT.CREATED",
    "COMMENT.UPDATED", "COMMENT.DELETED", "TASK_ASSIGNMENT.CREATED", "TASK_ASSIGNMENT.UPDATED",
    "METADATA_INSTANCE.CREATED", "METADATA_INSTANCE.UPDATED", "METADATA_INSTANCE.DELETED", "FOLDER.CREATED",
    "FOLDER.RENAMED", "FOLDER.DOWNLOADED", "FOLDER.RESTORED", "FOLDER.DELETED", "FOLDER.COPIED", "FOLDER.MOVED",
    "FOLDER.TRASHED", "WEBHOOK.DELETED", "COLLABORATION.CREATED", "COLLABORATION.ACCEPTED",
    "COLLABORATION.REJECTED", "COLLABORATION.REMOVED", "COLLABORATION.UPDATED", "SHARED_LINK.DELETED",
    "SHARED_LINK.CREATED", "SHARED_LINK.UPDATED", "SIGN_REQUEST.COMPLETED", "SIGN_REQUEST.DECLINED",
    "SIGN_REQUEST.EXPIRED", "SIGN_REQUEST.SIGNER_EMAIL_BOUNCED"})
MAX_LIST_LIMIT = 1000


@dataclass
class WebhookSettings:
    """Signature keys and delivery behaviour (Box's values by default)."""

    primary_key: str | None = None
    secondary_key: str | None = None
    allow_any_port: bool = False  # the one relaxation (see the module docstring)
    ca_file: str | None = None  # CA bundle the receiver's certificate must chain to; None = public CAs
    retry_base_s: float = 300.0
    max_retries: int = 10
    timeout_s: float = 30.0


@dataclass
class Webhook:
    id: str
    target_id: str
    target_type: str
    address: str
    triggers: list[str]
    created_at: str = field(default_factory=now_iso)

    def full(self) -> dict[str, Any]:
        return {**self.mini(), "created_by": service_user(), "created_at": self.created_at,
                "address": self.address, "triggers": list(self.triggers)}

    def mini(self) -> dict[str, Any]:
        return {"id": self.id, "type": "webhook", "target": {"id": self.target_id, "type": self.target_type}}


@dataclass(order=True)
class _Delivery:
    due: float
    seq: int
    webhook_id: str = field(compare=False)
    address: str = field(compare=False)
    payload: dict[str, Any] = field(compare=False)
    attempt: int = field(compare=False, default=1)


class WebhookRegistry:
    """The app's webhooks and the deliveries in flight (thread-safe; deliveries on worker threads)."""

    def __init__(self, state: BoxState, settings: WebhookSettings | None = None) -> None:
        self.state = state
        self.settings = settings or WebhookSettings()
        self.hooks: dict[str, Webhook] = {}
        self.log: list[dict[str, Any]] = []  # one entry per delivery attempt
        self._lock = threading.Condition()
        self._queue: list[_Delivery] = []
        self._seq = itertools.count()
        self._next_id = itertools.count(9_000_000)
        self._pool: ThreadPoolExecutor | None = None
        self._scheduler: threading.Thread | None = None
        self._stopped = False
        state.on_new_file.append(self.file_uploaded)

    # -- registration ---------------------------------------------------------------------
    def create(self, body: dict[str, Any]) -> Webhook:
        target_id, target_type = self._target(body.get("target"))
        address, triggers = self._address(body.get("address")), self._triggers(body.get("triggers"))
        with self._lock:
            if any(h.target_id == target_id and h.target_type == target_type for h in self.hooks.values()):
                raise BoxError(409, "conflict", f"A webhook for this app and user already exists on {target_type} "
                               f"{target_id}: update that one, or delete it first")
            hook = Webhook(str(next(self._next_id)), target_id, target_type, address, triggers)
            self.hooks[hook.id] = hook
            return hook

    def get(self, webhook_id: str) -> Webhook:
        with self._lock:
            hook = self.hooks.get(str(webhook_id))
        if hook is None:
            raise BoxError(404, "not_found", f"Could not find the specified resource (webhook {webhook_id})")
        return hook

    def update(self, webhook_id: str, body: dict[str, Any]) -> Webhook:
        hook = self.get(webhook_id)
        target = self._target(body["target"]) if body.get("target") is not None else None
        address = self._address(body["address"]) if body.get("address") is not None else None
        triggers = self._triggers(body["triggers"]) if body.get("triggers") is not None else None
        with self._lock:
            if target and any(h.id != hook.id and (h.target_id, h.target_type) == target for h in self.hooks.values()):
                raise BoxError(409, "conflict", f"A webhook for this app and user already exists on {target[1]} "
                               f"{target[0]}")
            if target:
                hook.target_id, hook.target_type = target
            hook.address = address or hook.address
            hook.triggers = triggers or hook.triggers
            return hook

    def delete(self, webhook_id: str) -> None:
        with self._lock:
            if self.hooks.pop(str(webhook_id), None) is None:
                raise BoxError(404, "not_found", f"Could not find the specified resource (webhook {webhook_id})")

    def page(self, marker: str | None, limit: int) -> dict[str, Any]:
        """Marker paging over the webhooks in id order (GET /webhooks returns Webhook (Mini) entries)."""
        if limit <= 0 or limit > MAX_LIST_LIMIT:
            raise BoxError(400, "invalid_limit", f"limit must be between 1 and {MAX_LIST_LIMIT}")
        with self._lock:
            hooks = sorted(self.hooks.values(), key=lambda h: int(h.id))
        start = next((i + 1 for i, h in enumerate(hooks) if h.id == marker), 0) if marker else 0
        page = hooks[start:start + limit]
        more = start + limit < len(hooks)
        return {"entries": [h.mini() for h in page], "limit": limit,
                "next_marker": page[-1].id if more and page else None, "prev_marker": None}

    def _target(self, raw: Any) -> tuple[str, str]:
        if not isinstance(raw, dict) or not raw.get("id") or raw.get("type") not in ("file", "folder"):
            raise BoxError(400, "bad_request", "'target' needs an 'id' and a 'type' of file or folder")
        target_id, target_type = str(raw["id"]), str(raw["type"])
        if target_type == "folder" and target_id == ROOT_ID:
            raise BoxError(400, "bad_request", "Webhooks cannot be set on the root folder (0)")
        self.state.get(target_id, target_type)  # 404 not_found
        return target_id, target_type

    def _address(self, raw: Any) -> str:
        if not isinstance(raw, str) or not raw:
            raise BoxError(400, "bad_request", "'address' must be the HTTPS URL to notify")
        url = urlsplit(raw)
        if url.scheme != "https" or not url.hostname:
            raise BoxError(400, "bad_request", f"The webhook address must be an HTTPS URL, got {raw!r}")
        if url.hostname.lower() == "box.com" or url.hostname.lower().endswith(".box.com"):
            raise BoxError(400, "bad_request", "The webhook address cannot be a box.com address")
        if (url.port or 443) != 443 and not self.settings.allow_any_port:
            raise BoxError(400, "bad_request", f"The webhook address must use the HTTPS port 443, got {url.port}")
        return raw

    @staticmethod
    def _triggers(raw: Any) -> list[str]:
        if not isinstance(raw, list) or not raw or any(t not in TRIGGERS for t in raw):
            raise BoxError(400, "bad_request", f"'triggers' must be a non-empty list of Box trigger names, got {raw!r}")
        return list(dict.fromkeys(raw))

    # -- deliveries -----------------------------------------------------------------------
    def file_uploaded(self, item: Item) -> None:
        """Queue a delivery for every FILE.UPLOADED webhook on the file's folder or one above it."""
        watched = {p.id for p in self.state.path_of(item)}
        with self._lock:
            hooks = [h for h in self.hooks.values() if h.target_type == "folder" and h.target_id in watched
                     and "FILE.UPLOADED" in h.triggers]
        if not hooks:
            return
        source = file_full(self.state, item)
        for hook in hooks:
            payload = {"type": "webhook_event", "id": str(uuid.uuid4()), "created_at": now_iso(),
                       "trigger": "FILE.UPLOADED", "webhook": {"id": hook.id, "type": "webhook"},
                       "created_by": service_user(), "source": source, "additional_info": []}
            self._schedule(_Delivery(time.monotonic(), next(self._seq), hook.id, hook.address, payload))

    def deliveries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(entry) for entry in self.log]

    def pending(self) -> int:
        """Deliveries waiting for their first attempt or a retry."""
        with self._lock:
            return len(self._queue)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._queue.clear()
            self._lock.notify_all()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def _schedule(self, delivery: _Delivery) -> None:
        with self._lock:
            if self._stopped:
                return
            heapq.heappush(self._queue, delivery)
            if self._scheduler is None:
                self._pool = ThreadPoolExecutor(4, thread_name_prefix="box-webhook-delivery")
                self._scheduler = threading.Thread(target=self._run, daemon=True, name="box-webhook-scheduler")
                self._scheduler.start()
            self._lock.notify_all()

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._stopped and (not self._queue or self._queue[0].due > time.monotonic()):
                    self._lock.wait(None if not self._queue else max(0.0, self._queue[0].due - time.monotonic()))
                if self._stopped:
                    return
                delivery = heapq.heappop(self._queue)
                pool = self._pool
            try:
                assert pool is not None
                pool.submit(self._attempt, delivery)
            except RuntimeError:  # stopped meanwhile
                return

    def _attempt(self, delivery: _Delivery) -> None:
        settings = self.settings
        body = json.dumps(delivery.payload).encode("utf-8")
        stamp = now_iso()
        headers = {"BOX-DELIVERY-ID": str(uuid.uuid4()), "BOX-DELIVERY-TIMESTAMP": stamp,
                   "BOX-SIGNATURE-VERSION": "1", "BOX-SIGNATURE-ALGORITHM": "HmacSHA256",
                   "User-Agent": "Box-WH-Client/0.1", "Content-Type": "application/json"}
        for header, key in (("BOX-SIGNATURE-PRIMARY", settings.primary_key),
                            ("BOX-SIGNATURE-SECONDARY", settings.secondary_key)):
            if key:
                mac = hmac.new(key.encode("utf-8"), body + stamp.encode("utf-8"), hashlib.sha256)
                headers[header] = base64.b64encode(mac.digest()).decode("ascii")
        entry: dict[str, Any] = {"payload_id": delivery.payload["id"], "delivery_id": headers["BOX-DELIVERY-ID"],
                                 "webhook_id": delivery.webhook_id, "file_id": delivery.payload["source"]["id"],
                                 "attempt": delivery.attempt, "sent_at": time.time(), "status": None, "error": None}
        try:
            response = httpx.post(delivery.address, content=body, headers=headers, timeout=settings.timeout_s,
                                  verify=settings.ca_file or True, follow_redirects=False)
            entry["status"] = response.status_code
            ok = 200 <= response.status_code < 300
        except httpx.HTTPError as exc:
            entry["error"] = f"{type(exc).__name__}: {exc}"
            ok = False
        with self._lock:
            self.log.append(entry)
        if not ok and delivery.attempt <= settings.max_retries:
            delay = settings.retry_base_s * 2 ** (delivery.attempt - 1)
            self._schedule(_Delivery(time.monotonic() + delay, next(self._seq), delivery.webhook_id, delivery.address,
                                     delivery.payload, delivery.attempt + 1))
