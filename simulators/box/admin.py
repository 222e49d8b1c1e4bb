"""Simulator admin routes under ``/_sim/box`` (no auth, no faults, not logged), for other processes.

    GET  /_sim/box/files           every file: id, name, parent_id, path, size, sha1, created_at, ...
    GET  /_sim/box/folders         every folder: id, name, parent_id, path
    POST /_sim/box/folders         {"parent_id": "0", "path": "a/b"} → {"id"} (created where missing)
    POST /_sim/box/keys            {"kid", "pem"}: register an app public key
    POST /_sim/box/expire-tokens   every issued access token becomes invalid
    POST /_sim/box/seed-file       JSON {"parent_id"?, "path"?, "name", "content_base64"} or multipart
                                   (fields parent_id/path/name + a "file" part) → 201 {"id", "path", "sha1", ...}
    GET  /_sim/box/stats           token requests, open upload sessions, counts
    POST /_sim/box/upload-processing {"commit_processing_s": 30, "retry_after_s": 1}: committed
                                   upload sessions stay "processing" (commit → 202 + Retry-After)
    POST /_sim/box/webhook-settings {"primary_key", "secondary_key", "retry_base_s", "max_retries",
                                   "timeout_s"}: change the webhook keys (the Developer Console's
                                   "generate key") or the delivery timing; omitted fields are kept
    GET  /_sim/box/webhook-deliveries every delivery attempt (payload_id, delivery_id, file_id,
                                   attempt, status or error), plus how many wait for a retry
    GET  /_sim/box/rate-limits     the per-user rate limits and what each user was admitted/refused
    POST /_sim/box/rate-limits     {"enabled": true, "calls_per_minute": 1000, "uploads_per_minute": 240,
                                   "calls_burst": 50, "uploads_burst": 12, "reset_counts": false}: change
                                   them (omitted fields keep their value; buckets start full)
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from simulators.box.limits import BoxRateLimits
from simulators.box.state import ROOT_ID, BoxError
from simulators.box.uploads import read_json

if TYPE_CHECKING:
    from simulators.box import BoxSimulator

Handler = Callable[[Request], Awaitable[Response]]


def path_parts(raw: Any) -> list[str]:
    """``"a/b"`` or ``["a", "b"]`` → ``["a", "b"]``."""
    if raw is None or raw == "":
        return []
    parts = raw if isinstance(raw, list) else str(raw).split("/")
    return [str(p) for p in parts if str(p)]


def admin_routes(sim: BoxSimulator) -> list[tuple[str, Handler, list[str]]]:
    """``(path, handler, methods)`` for every admin route (handlers raise :class:`BoxError`)."""
    state, tokens = sim.state, sim.tokens

    async def files(request: Request) -> Response:
        return JSONResponse(sim.files())

    async def folders(request: Request) -> Response:
        return JSONResponse(sim.folders())

    async def create_folders(request: Request) -> Response:
        body = await read_json(request)
        parts = path_parts(body.get("path")) + ([str(body["name"])] if body.get("name") else [])
        folder_id = state.ensure_folder_path(str(body.get("parent_id") or ROOT_ID), parts)
        return JSONResponse({"id": folder_id}, status_code=201)

    async def keys(request: Request) -> Response:
        body = await read_json(request)
        if not body.get("kid") or not body.get("pem"):
            raise BoxError(400, "bad_request", "'kid' and 'pem' are required")
        sim.add_public_key(str(body["kid"]), str(body["pem"]))
        return JSONResponse({"ok": True, "kids": sorted(tokens.public_keys)}, status_code=201)

    async def expire(request: Request) -> Response:
        sim.expire_tokens()
        return JSONResponse({"ok": True})

    async def stats(request: Request) -> Response:
        return JSONResponse({"token_requests": tokens.requests, "tokens_issued": tokens.issued,
                             "open_upload_sessions": len(sim.sessions.sessions),
                             "files": len(state.snapshot("file")), "folders": len(state.snapshot("folder")),
                             "rate_limits": sim.rate_limit_stats()})

    async def upload_processing(request: Request) -> Response:
        body = await read_json(request)
        try:
            sim.commit_processing_s = float(body.get("commit_processing_s", 0))
            sim.commit_retry_after_s = float(body.get("retry_after_s", sim.commit_retry_after_s))
        except (TypeError, ValueError) as exc:
            raise BoxError(400, "bad_request", "numbers expected") from exc
        return JSONResponse({"commit_processing_s": sim.commit_processing_s,
                             "retry_after_s": sim.commit_retry_after_s})

    async def webhook_settings(request: Request) -> Response:
        body = await read_json(request)
        settings = sim.webhooks.settings
        try:
            for name in ("primary_key", "secondary_key"):
                if name in body:
                    setattr(settings, name, str(body[name]) if body[name] else None)
            for name in ("retry_base_s", "timeout_s"):
                if name in body:
                    setattr(settings, name, float(body[name]))
            if "max_retries" in body:
                settings.max_retries = int(body["max_retries"])
        except (TypeError, ValueError) as exc:
            raise BoxError(400, "bad_request", "numbers expected for the timing fields") from exc
        return JSONResponse({"retry_base_s": settings.retry_base_s, "max_retries": settings.max_retries,
                             "timeout_s": settings.timeout_s, "allow_any_port": settings.allow_any_port})

    async def webhook_deliveries(request: Request) -> Response:
        return JSONResponse({"deliveries": sim.webhook_deliveries(), "pending": sim.webhooks.pending()})

    async def rate_limits(request: Request) -> Response:
        if request.method == "POST":
            body = await read_json(request)
            current = sim.limits.config.__dict__
            unknown = set(body) - set(current) - {"reset_counts"}
            if unknown:
                raise BoxError(400, "bad_request", f"unknown rate-limit field(s): {', '.join(sorted(unknown))}")
            try:
                sim.set_rate_limits(BoxRateLimits(**{k: body.get(k, v) for k, v in current.items()}))
            except (TypeError, ValueError) as exc:
                raise BoxError(400, "bad_request", str(exc)) from exc
            if body.get("reset_counts"):
                sim.limits.reset_counts()
        return JSONResponse(sim.rate_limit_stats())

    async def seed(request: Request) -> Response:
        """Seed a file (an agency upload) from another process."""
        content: Any
        if request.headers.get("content-type", "").startswith("multipart/"):
            form = await request.form()
            fields: dict[str, Any] = {k: str(v) for k, v in form.items() if isinstance(v, str)}
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise BoxError(400, "bad_request", "A 'file' part is required")
            content = upload.file
            fields.setdefault("name", upload.filename)
        else:
            fields = await read_json(request)
            try:
                content = base64.b64decode(str(fields.get("content_base64") or ""), validate=True)
            except binascii.Error as exc:
                raise BoxError(400, "bad_request", "'content_base64' is not base64") from exc
        name = str(fields.get("name") or "")
        parent = state.ensure_folder_path(str(fields.get("parent_id") or ROOT_ID), path_parts(fields.get("path")))
        item = await anyio.to_thread.run_sync(
            lambda: state.store_file(parent, name, content, content_created_at=fields.get("content_created_at")))
        return JSONResponse({"id": item.id, "parent_id": parent, "name": item.name, "size": item.size,
                             "sha1": item.sha1, "path": state.relative_path(item)}, status_code=201)

    return [
        ("/_sim/box/files", files, ["GET"]),
        ("/_sim/box/folders", folders, ["GET"]),
        ("/_sim/box/folders", create_folders, ["POST"]),
        ("/_sim/box/keys", keys, ["POST"]),
        ("/_sim/box/expire-tokens", expire, ["POST"]),
        ("/_sim/box/seed-file", seed, ["POST"]),
        ("/_sim/box/stats", stats, ["GET"]),
        ("/_sim/box/upload-processing", upload_processing, ["POST"]),
        ("/_sim/box/webhook-settings", webhook_settings, ["POST"]),
        ("/_sim/box/webhook-deliveries", webhook_deliveries, ["GET"]),
        ("/_sim/box/rate-limits", rate_limits, ["GET", "POST"]),
    ]
