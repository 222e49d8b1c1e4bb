"""HTTP routes of the Box simulator (Starlette), shaped after what ``box_sdk_gen`` 10.x sends.

Route map (``/api/2.0`` is the SDK's ``upload_url`` prefix; upload routes also answer on
``/2.0`` so a client configured with ``upload_url == base_url`` works too)::

    POST    /oauth2/token                                   JWT bearer or client-credentials grant
    POST    /oauth2/revoke
    GET     /2.0/folders/{id}                               FolderFull with item_collection
    POST    /2.0/folders                                    201, 409 item_name_in_use (conflicts: list)
    DELETE  /2.0/folders/{id}?recursive=                    204
    GET     /2.0/folders/{id}/items                         offset or marker paging
    OPTIONS /2.0/files/content                              preflight: 200 upload_url, or 409 (conflicts: object)
    OPTIONS /2.0/files/{id}/content                         preflight of a new version
    POST    /api/2.0/files/content                          multipart upload → 201 {"entries":[FileFull]}
    POST    /api/2.0/files/{id}/content                     new version (multipart) → 201
    GET     /2.0/files/{id}    DELETE /2.0/files/{id}        FileFull / 204
    GET     /2.0/files/{id}/content                         302 → /dl/{id} (no auth; Range → 206)
    POST    /api/2.0/files/upload_sessions                  chunked upload session
    POST    /api/2.0/files/{id}/upload_sessions             session for a new version
    GET|PUT|DELETE /api/2.0/files/upload_sessions/{sid}     status / part / abort
    GET     /api/2.0/files/upload_sessions/{sid}/parts
    POST    /api/2.0/files/upload_sessions/{sid}/plan         no cached parts ({"hits": []})
    POST    /api/2.0/files/upload_sessions/{sid}/commit
    POST|GET /2.0/webhooks   GET|PUT|DELETE /2.0/webhooks/{id}   webhooks V2 (webhooks.py)
    /_sim/box/...                                           admin routes for tests and the demo (admin.py)

Every ``/2.0`` and ``/api/2.0`` route counts against its user's rate limits when they are on
(``limits.py``): a call, and for the upload routes an upload as well.

Every error is Box's JSON error object with ``Content-Type: application/json``.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import math
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from simulators.box.admin import admin_routes
from simulators.box.jwt_auth import GrantError
from simulators.box.limits import RATE_LIMIT_MESSAGE, RequestKind
from simulators.box.state import BoxError, Item, check_name, iso, sort_key
from simulators.box.uploads import discard_body, read_json, receive_multipart, receive_raw
from simulators.box.views import (
    FILE_MINI_KEYS,
    FOLDER_MINI_KEYS,
    box_error_body,
    entry,
    file_full,
    folder_full,
    select,
    wanted_fields,
)

if TYPE_CHECKING:
    from simulators.box import BoxSimulator

Handler = Callable[[Request], Awaitable[Response]]
MAX_LIMIT = 1000
MAX_OFFSET = 10000
UNAUTHORIZED_HEADER = ('Bearer realm="Service", error="invalid_token", '
                       'error_description="The access token provided is invalid."')


def error_response(exc: BoxError) -> JSONResponse:
    return JSONResponse(box_error_body(exc.status, exc.message, exc.code, exc.context_info),
                        status_code=exc.status, headers=exc.headers)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def _int_param(request: Request, name: str, default: int, code: str) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise BoxError(400, code, f"{name.capitalize()} is not a valid number") from exc
    if value < 0:
        raise BoxError(400, code, f"{name.capitalize()} must not be negative")
    return value


def _parent_id(body: dict[str, Any]) -> str:
    parent = body.get("parent")
    if not isinstance(parent, dict) or parent.get("id") in (None, ""):
        raise BoxError(400, "bad_request", "'parent.id' is required")
    return str(parent["id"])


def _base(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def _encode_marker(item: Item) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(sort_key(item))).encode()).decode().rstrip("=")


def _decode_marker(marker: str) -> tuple[int, str, int]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(marker + "=" * (-len(marker) % 4)))
        return int(raw[0]), str(raw[1]), int(raw[2])
    except (ValueError, TypeError, IndexError, binascii.Error) as exc:
        raise BoxError(400, "invalid_request_parameters", "Invalid marker") from exc


def _range_satisfiable(header: str, size: int) -> bool:
    """Whether a ``Range: bytes=...`` header selects at least one byte (RFC 9110)."""
    unit, _, specs = header.partition("=")
    if unit.strip().lower() != "bytes":
        return False
    for spec in specs.split(","):
        start, sep, end = spec.strip().partition("-")
        try:
            if not sep:
                return False
            if start == "":
                if int(end) > 0 and size > 0:
                    return True
            elif int(start) < size and (end == "" or int(end) >= int(start)):
                return True
        except ValueError:
            return False
    return False


def _sorted_children(kids: list[Item], sort: str | None, direction: str | None) -> list[Item]:
    """Folders before files; within each, by ``sort`` (name/id/date/size) and ``direction``."""
    keys: dict[str, Callable[[Item], Any]] = {
        "name": lambda i: (i.name.casefold(), int(i.id)), "id": lambda i: int(i.id),
        "date": lambda i: (i.modified_at, int(i.id)), "size": lambda i: (i.size, int(i.id))}
    key = keys.get((sort or "name").lower(), keys["name"])
    out = sorted(kids, key=key, reverse=(direction or "ASC").upper() == "DESC")
    return sorted(out, key=lambda i: 0 if i.type == "folder" else 1)


def build_app(sim: BoxSimulator) -> Starlette:  # noqa: C901 - one closure per route keeps state access obvious
    """The Starlette app (without the shared fault-injection middleware)."""
    state, sessions, tokens = sim.state, sim.sessions, sim.tokens

    def api(handler: Handler, kind: RequestKind = "call") -> Handler:
        """Bearer auth (401 otherwise), the user's rate limits (429, ``limits.py``) and Box error
        bodies. ``kind`` is ``"upload"`` for Box's upload requests (they also count as calls)."""
        inner = plain(handler)

        async def wrapped(request: Request) -> Response:
            header = request.headers.get("authorization", "")
            scheme, _, token = header.partition(" ")
            user = tokens.subject(token.strip()) if scheme.lower() == "bearer" else None
            if user is None:
                await discard_body(request)  # read what the client sends so it sees the 401, not a reset
                return error_response(BoxError(401, "unauthorized", "Unauthorized: the access token is missing, "
                                               "unknown or expired", headers={"WWW-Authenticate": UNAUTHORIZED_HEADER}))
            retry_after = sim.limits.admit(user, kind)
            if retry_after is not None:
                await discard_body(request)
                return error_response(BoxError(429, "rate_limit_exceeded", RATE_LIMIT_MESSAGE,
                                               headers={"retry-after": str(retry_after)}))
            return await inner(request)
        return wrapped

    def upload_api(handler: Handler) -> Handler:
        return api(handler, "upload")

    def plain(handler: Handler) -> Handler:
        async def wrapped(request: Request) -> Response:
            try:
                return await handler(request)
            except BoxError as exc:
                return error_response(exc)
        return wrapped

    # -- OAuth2 --------------------------------------------------------------------------
    async def token(request: Request) -> Response:
        form = await request.form()
        fields = {k: str(v) for k, v in form.items() if isinstance(v, str)}
        try:
            return JSONResponse(tokens.grant(fields))
        except GrantError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)

    async def revoke(request: Request) -> Response:
        form = await request.form()
        with tokens.lock:
            tokens.tokens.pop(str(form.get("token") or ""), None)
        return Response(status_code=200)

    # -- folders -------------------------------------------------------------------------
    async def get_folder(request: Request) -> Response:
        item = state.get(request.path_params["id"], "folder")
        offset = _int_param(request, "offset", 0, "invalid_offset")
        limit = min(_int_param(request, "limit", 100, "invalid_limit"), MAX_LIMIT)
        q = request.query_params
        kids = _sorted_children(state.children(item.id), q.get("sort"), q.get("direction"))
        full = folder_full(state, item, offset=offset, limit=limit, kids=kids)
        return JSONResponse(select(full, wanted_fields(q.get("fields")), FOLDER_MINI_KEYS))

    async def create_folder(request: Request) -> Response:
        body = await read_json(request)
        item = state.create_folder(_parent_id(body), body.get("name"))  # type: ignore[arg-type]
        full = folder_full(state, item, kids=[])
        return JSONResponse(select(full, wanted_fields(request.query_params.get("fields")), FOLDER_MINI_KEYS),
                            status_code=201)

    async def delete_folder(request: Request) -> Response:
        state.delete(request.path_params["id"], "folder", _truthy(request.query_params.get("recursive")),
                     request.headers.get("if-match"))
        return Response(status_code=204)

    async def update_folder(request: Request) -> Response:
        body = await read_json(request)
        parent = body.get("parent") if isinstance(body.get("parent"), dict) else {}
        item = state.update(request.path_params["id"], "folder", body.get("name"), parent.get("id"),
                            request.headers.get("if-match"))
        full = folder_full(state, item, kids=state.children(item.id))
        return JSONResponse(select(full, wanted_fields(request.query_params.get("fields")), FOLDER_MINI_KEYS))

    async def folder_items(request: Request) -> Response:
        folder = state.get(request.path_params["id"], "folder")
        q = request.query_params
        fields = wanted_fields(q.get("fields"))
        limit = min(_int_param(request, "limit", 100, "invalid_limit"), MAX_LIMIT)
        if _truthy(q.get("usemarker")):
            kids = state.children(folder.id)  # marker order is the default order (stable across pages)
            start = 0
            if q.get("marker"):
                start = bisect.bisect_right([sort_key(k) for k in kids], _decode_marker(q["marker"]))
            page = kids[start:start + limit]
            out: dict[str, Any] = {"limit": limit, "entries": [entry(state, k, fields) for k in page],
                                   "order": [{"by": "type", "direction": "ASC"}, {"by": "name", "direction": "ASC"}]}
            if page and start + len(page) < len(kids):
                out["next_marker"] = _encode_marker(page[-1])
            return JSONResponse(out)
        offset = _int_param(request, "offset", 0, "invalid_offset")
        if offset > MAX_OFFSET:
            raise BoxError(400, "invalid_offset", f"Offsets above {MAX_OFFSET} are rejected; use marker paging")
        kids = _sorted_children(state.children(folder.id), q.get("sort"), q.get("direction"))
        return JSONResponse({"total_count": len(kids), "offset": offset, "limit": limit,
                             "entries": [entry(state, k, fields) for k in kids[offset:offset + limit]],
                             "order": [{"by": "type", "direction": "ASC"},
                                       {"by": (q.get("sort") or "name").lower(),
                                        "direction": (q.get("direction") or "ASC").upper()}]})

    # -- files ---------------------------------------------------------------------------
    def file_response(request: Request, item: Item, status: int = 200) -> JSONResponse:
        full = select(file_full(state, item), wanted_fields(request.query_params.get("fields")), FILE_MINI_KEYS)
        return JSONResponse(full, status_code=status)

    def files_response(request: Request, item: Item) -> JSONResponse:
        full = select(file_full(state, item), wanted_fields(request.query_params.get("fields")), FILE_MINI_KEYS)
        return JSONResponse({"total_count": 1, "entries": [full]}, status_code=201)

    async def preflight(request: Request) -> Response:
        body = await read_json(request)
        parent, name = _parent_id(body), body.get("name")
        if body.get("size") is not None and (not isinstance(body["size"], int) or body["size"] < 0):
            raise BoxError(400, "bad_request", "'size' must be a non-negative integer")
        state.check_new(parent, name)  # type: ignore[arg-type]
        return JSONResponse({"upload_url": f"{_base(request)}/api/2.0/files/content?upload_session_id="
                                           f"{secrets.token_hex(16).upper()}", "upload_token": None})

    async def preflight_version(request: Request) -> Response:
        item = state.get(request.path_params["id"], "file")
        body = await read_json(request)
        name = body.get("name")
        if name and str(name).casefold() != item.name.casefold():
            state.check_new(str(item.parent_id), str(name))
        return JSONResponse({"upload_url": f"{_base(request)}/api/2.0/files/{item.id}/content", "upload_token": None})

    async def _receive_upload(request: Request) -> tuple[dict[str, Any], Any]:
        got = await receive_multipart(request, state.new_upload_path(), sim.direct_upload_max)
        try:
            if got.error:
                raise got.error
            if got.overflow:
                raise BoxError(413, "request_entity_too_large",
                               f"Request Entity too Large: direct uploads are limited to {sim.direct_upload_max} "
                               "bytes, use a chunked upload session")
            md5 = request.headers.get("content-md5")
            if md5 and md5.strip().lower() != got.sha1:
                raise BoxError(400, "bad_digest", "The specified content-md5 did not match what we received")
        except BaseException:
            got.discard()
            raise
        return got.attributes, got

    async def upload(request: Request) -> Response:
        attributes, got = await _receive_upload(request)
        try:
            item = state.commit_file(_parent_id(attributes), attributes.get("name"), got.tmp, got.size, got.sha1,
                                     content_created_at=attributes.get("content_created_at"),
                                     content_modified_at=attributes.get("content_modified_at"))
        finally:
            got.discard()
        return files_response(request, item)

    async def upload_version(request: Request) -> Response:
        item = state.get(request.path_params["id"], "file")
        attributes, got = await _receive_upload(request)
        try:
            if_match = request.headers.get("if-match")
            if if_match and if_match != str(item.version):
                raise BoxError(412, "precondition_failed",
                               "The resource has been modified. Retrieve the resource again and retry")
            name = attributes.get("name") or item.name
            check_name(name)
            item = state.commit_file(str(item.parent_id), name, got.tmp, got.size, got.sha1, replace_id=item.id,
                                     content_modified_at=attributes.get("content_modified_at"))
        finally:
            got.discard()
        return files_response(request, item)

    async def get_file(request: Request) -> Response:
        return file_response(request, state.get(request.path_params["id"], "file"))

    async def update_file(request: Request) -> Response:
        body = await read_json(request)
        parent = body.get("parent") if isinstance(body.get("parent"), dict) else {}
        item = state.update(request.path_params["id"], "file", body.get("name"), parent.get("id"),
                            request.headers.get("if-match"))
        return file_response(request, item)

    async def delete_file(request: Request) -> Response:
        state.delete(request.path_params["id"], "file", if_match=request.headers.get("if-match"))
        return Response(status_code=204)

    async def download(request: Request) -> Response:
        item = state.get(request.path_params["id"], "file")
        return RedirectResponse(f"{_base(request)}/dl/{item.id}", status_code=302)

    async def download_target(request: Request) -> Response:
        item = state.get(request.path_params["id"], "file")
        path = state.file_path(item.id)
        if not path.exists():
            raise BoxError(404, "not_found", f"No content for file {item.id}")
        range_header = request.headers.get("range")
        if range_header and not _range_satisfiable(range_header, item.size):
            raise BoxError(416, "range_not_satisfiable", f"Range {range_header!r} is outside 0-{item.size}",
                           headers={"content-range": f"bytes */{item.size}"})
        return FileResponse(path, media_type="application/octet-stream", filename=item.name,
                            content_disposition_type="attachment", headers={"etag": f'"{item.version}"'})

    # -- upload sessions -----------------------------------------------------------------
    def session_json(request: Request, sid: str) -> dict[str, Any]:
        s = sessions.get(sid)
        url = f"{_base(request)}/api/2.0/files/upload_sessions/{sid}"
        return {"id": sid, "type": "upload_session", "session_expires_at": iso(s.expires_at),
                "part_size": s.part_size, "total_parts": s.total_parts, "num_parts_processed": len(s.parts),
                "session_endpoints": {"upload_part": url, "commit": url + "/commit", "abort": url,
                                      "list_parts": url + "/parts", "status": url, "log_event": url + "/log",
                                      "plan": url + "/plan"}}

    async def create_session(request: Request) -> Response:
        body = await read_json(request)
        folder_id = str(body.get("folder_id") or "")
        name = body.get("file_name")
        check_name(name)
        state.get(folder_id, "folder")
        s = sessions.create(folder_id, str(name), body.get("file_size"), sim.part_size, sim.chunked_min_size)
        return JSONResponse(session_json(request, s.id), status_code=201)

    async def create_version_session(request: Request) -> Response:
        item = state.get(request.path_params["id"], "file")
        body = await read_json(request)
        name = str(body.get("file_name") or item.name)
        check_name(name)
        s = sessions.create(str(item.parent_id), name, body.get("file_size"), sim.part_size,
                            sim.chunked_min_size, replace_id=item.id)
        return JSONResponse(session_json(request, s.id), status_code=201)

    async def get_session(request: Request) -> Response:
        return JSONResponse(session_json(request, request.path_params["sid"]))

    async def upload_part(request: Request) -> Response:
        s = sessions.get(request.path_params["sid"])
        try:
            offset, size = sessions.parse_range(s, request.headers.get("content-range"))
        except BoxError:
            await discard_body(request)
            raise
        got = await receive_raw(request, state.new_upload_path(), limit=size)
        part = sessions.add_part(s, offset, size, got.tmp, got.size, got.sha1,  # type: ignore[arg-type]
                                 request.headers.get("digest"))
        return JSONResponse({"part": part})

    async def list_parts(request: Request) -> Response:
        s = sessions.get(request.path_params["sid"])
        offset = _int_param(request, "offset", 0, "invalid_offset")
        limit = min(_int_param(request, "limit", MAX_LIMIT, "invalid_limit"), MAX_LIMIT)
        return JSONResponse(sessions.parts_page(s, offset, limit))

    async def commit(request: Request) -> Response:
        s = sessions.get(request.path_params["sid"])
        body = await read_json(request)
        digest = request.headers.get("digest")
        attributes = body.get("attributes") if isinstance(body.get("attributes"), dict) else None
        # Box assembles the parts after the commit request: "If the session is still being
        # processed, the API returns 202 Accepted with a Retry-After header; commit again after
        # that many seconds" (developer.box.com guides/uploads/chunked/commit-session). The
        # simulator keeps a session "processing" for ``commit_processing_s`` after its first commit.
        waiting = sessions.processing_left(s, sim.commit_processing_s)
        if waiting > 0:
            return Response(status_code=202, headers={"retry-after": str(max(1, math.ceil(
                min(waiting, sim.commit_retry_after_s))))})
        item = await anyio.to_thread.run_sync(sessions.commit, s, body.get("parts"), digest, attributes)
        return files_response(request, item)

    async def abort(request: Request) -> Response:
        sessions.abort(request.path_params["sid"])
        return Response(status_code=204)

    async def plan(request: Request) -> Response:
        """Which parts the server already has (``upload_big_file_version``): none, so all are uploaded."""
        sessions.get(request.path_params["sid"])
        await read_json(request)
        return JSONResponse({"hits": []})

    async def log_event(request: Request) -> Response:
        sessions.get(request.path_params["sid"])
        await discard_body(request)
        return Response(status_code=204)

    # -- webhooks (V2) -------------------------------------------------------------------
    webhooks = sim.webhooks

    async def create_webhook(request: Request) -> Response:
        return JSONResponse(webhooks.create(await read_json(request)).full(), status_code=201)

    async def list_webhooks(request: Request) -> Response:
        limit = _int_param(request, "limit", 100, "invalid_limit")
        return JSONResponse(webhooks.page(request.query_params.get("marker"), limit))

    async def get_webhook(request: Request) -> Response:
        return JSONResponse(webhooks.get(request.path_params["id"]).full())

    async def update_webhook(request: Request) -> Response:
        return JSONResponse(webhooks.update(request.path_params["id"], await read_json(request)).full())

    async def delete_webhook(request: Request) -> Response:
        webhooks.delete(request.path_params["id"])
        return Response(status_code=204)

    # -- routing -------------------------------------------------------------------------
    routes = [
        Route("/2.0/webhooks", api(create_webhook), methods=["POST"]),
        Route("/2.0/webhooks", api(list_webhooks), methods=["GET"]),
        Route("/2.0/webhooks/{id}", api(get_webhook), methods=["GET"]),
        Route("/2.0/webhooks/{id}", api(update_webhook), methods=["PUT"]),
        Route("/2.0/webhooks/{id}", api(delete_webhook), methods=["DELETE"]),
        Route("/oauth2/token", token, methods=["POST"]),
        Route("/oauth2/revoke", revoke, methods=["POST"]),
        Route("/2.0/folders", api(create_folder), methods=["POST"]),
        Route("/2.0/folders/{id}", api(get_folder), methods=["GET"]),
        Route("/2.0/folders/{id}", api(delete_folder), methods=["DELETE"]),
        Route("/2.0/folders/{id}", api(update_folder), methods=["PUT"]),
        Route("/2.0/files/{id}", api(update_file), methods=["PUT"]),
        Route("/2.0/folders/{id}/items", api(folder_items), methods=["GET"]),
        Route("/2.0/files/content", api(preflight), methods=["OPTIONS"]),
        Route("/2.0/files/{id}/content", api(preflight_version), methods=["OPTIONS"]),
        Route("/2.0/files/{id}", api(get_file), methods=["GET"]),
        Route("/2.0/files/{id}", api(delete_file), methods=["DELETE"]),
        Route("/2.0/files/{id}/content", api(download), methods=["GET"]),
        Route("/dl/{id}", plain(download_target), methods=["GET"]),
    ]
    for prefix in ("/api/2.0", "/2.0"):
        # Every request of Box's upload API (upload.box.com: direct uploads, new versions and
        # each request of an upload session) counts as an upload request, the strict reading
        # of "240 file upload requests per minute" (the rate-limits guide names no exception).
        routes += [
            Route(f"{prefix}/files/content", upload_api(upload), methods=["POST"]),
            Route(f"{prefix}/files/upload_sessions", upload_api(create_session), methods=["POST"]),
            Route(f"{prefix}/files/upload_sessions/{{sid}}", upload_api(get_session), methods=["GET"]),
            Route(f"{prefix}/files/upload_sessions/{{sid}}", upload_api(upload_part), methods=["PUT"]),
            Route(f"{prefix}/files/upload_sessions/{{sid}}", upload_api(abort), methods=["DELETE"]),
            Route(f"{prefix}/files/upload_sessions/{{sid}}/parts", upload_api(list_parts), methods=["GET"]),
            Route(f"{prefix}/files/upload_sessions/{{sid}}/commit", upload_api(commit), methods=["POST"]),
            Route(f"{prefix}/files/upload_sessions/{{sid}}/log", upload_api(log_event), methods=["POST"]),
            Route(f"{prefix}/files/upload_sessions/{{sid}}/plan", upload_api(plan), methods=["POST"]),
            Route(f"{prefix}/files/{{id}}/content", upload_api(upload_version), methods=["POST"]),
            Route(f"{prefix}/files/{{id}}/upload_sessions", upload_api(create_version_session), methods=["POST"]),
        ]
    routes += [Route(path, plain(handler), methods=methods) for path, handler, methods in admin_routes(sim)]

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        text = exc.detail if isinstance(exc, HTTPException) else "Internal Server Error"
        if status == 404:
            text = f"No route {request.method} {request.url.path}"
        headers = getattr(exc, "headers", None) or {}
        return error_response(BoxError(status, "", str(text), headers=dict(headers)))

    async def server_error(request: Request, exc: Exception) -> Response:
        return error_response(BoxError(500, "internal_server_error", f"Internal Server Error: {exc!r}"))

    return Starlette(routes=routes, exception_handlers={HTTPException: http_error, Exception: server_error})
