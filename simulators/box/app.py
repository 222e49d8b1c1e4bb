"""HTTP routes of the Box simulator (Starlette)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import anyio
import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from simulators.box.state import BoxError, Item, check_name, mini

if TYPE_CHECKING:
    from simulators.box import BoxSimulator

JWT_AUDIENCE = "https://api.box.com/oauth2/token"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def box_error_body(status: int, message: str, code: str | None = None, context_info: dict | None = None) -> dict:
    default = {401: "unauthorized", 404: "not_found", 429: "rate_limit_exceeded"}.get(
        status, "internal_server_error" if status >= 500 else "bad_request")
    return {"type": "error", "status": status, "code": code or default, "message": message,
            "context_info": context_info or {}, "help_url": "http://developers.box.com/docs/#errors",
            "request_id": secrets.token_hex(6)}


def _error(status: int, code: str, message: str, context_info: dict | None = None) -> JSONResponse:
    return JSONResponse(box_error_body(status, message, code, context_info), status_code=status)


def _truthy(value: str | None) -> bool:
    return (value or "").lower() == "true"


def build_app(sim: BoxSimulator) -> Starlette:  # noqa: C901 - one closure per route keeps state access obvious
    state = sim.state

    def base(request: Request) -> str:
        return f"{request.url.scheme}://{request.url.netloc}"

    def folder_json(item: Item, offset: int = 0, limit: int = 100) -> dict[str, Any]:
        kids = state.children(item.id)
        return {**mini(item), "created_at": item.created_at, "modified_at": item.created_at,
                "parent": mini(state.items[item.parent_id]) if item.parent_id else None,
                "path_collection": path_collection(item), "item_status": "active",
                "item_collection": {"total_count": len(kids), "offset": offset, "limit": limit,
                                    "entries": [mini(k) for k in kids[offset:offset + limit]]}}

    def path_collection(item: Item) -> dict[str, Any]:
        chain = state.path_of(item)
        return {"total_count": len(chain), "entries": [mini(p) for p in chain]}

    def file_json(item: Item) -> dict[str, Any]:
        return {**mini(item), "created_at": item.created_at, "modified_at": item.created_at,
                "content_created_at": item.created_at, "description": "", "item_status": "active",
                "parent": mini(state.items[item.parent_id]) if item.parent_id in state.items else None,
                "path_collection": path_collection(item)}

    def authorised(request: Request) -> bool:
        header = request.headers.get("authorization", "")
        return header.startswith("Bearer ") and sim.token_valid(header[7:])

    def api(handler):  # noqa: ANN001, ANN202 - decorator
        async def wrapped(request: Request) -> Response:
            if not authorised(request):
                return _error(401, "unauthorized", "Unauthorized: missing, unknown or expired access token")
            try:
                return await handler(request)
            except BoxError as exc:
                return _error(exc.status, exc.code, exc.message, exc.context_info)
        return wrapped

    # -- OAuth2 --------------------------------------------------------------------------
    async def token(request: Request) -> Response:
        form = await request.form()
        grant = form.get("grant_type")
        if form.get("client_id") != sim.client_id or form.get("client_secret") != sim.client_secret:
            return JSONResponse({"error": "invalid_client", "error_description": "The client credentials are invalid"},
                                status_code=400)
        if grant == JWT_GRANT:
            assertion = str(form.get("assertion") or "")
            try:
                kid = jwt.get_unverified_header(assertion).get("kid")
                key = sim.public_keys.get(kid or "")
                if key is None:
                    raise jwt.InvalidTokenError(f"unknown public key id {kid!r}")
                claims = jwt.decode(assertion, key, algorithms=["RS256"], audience=JWT_AUDIENCE,
                                    options={"require": ["exp", "iss", "sub", "jti"]})
                if claims["iss"] != sim.client_id:
                    raise jwt.InvalidTokenError("iss is not the client id")
                if claims.get("box_sub_type") == "enterprise" and str(claims["sub"]) != sim.enterprise_id:
                    raise jwt.InvalidTokenError("unknown enterprise")
            except jwt.InvalidTokenError as exc:
                return JSONResponse({"error": "invalid_grant", "error_description": f"Invalid JWT: {exc}"},
                                    status_code=400)
        elif grant != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type", "error_description": str(grant)}, status_code=400)
        return JSONResponse({"access_token": sim.issue_token(), "expires_in": int(sim.token_ttl),
                             "token_type": "bearer", "restricted_to": []})

    # -- folders -------------------------------------------------------------------------
    @api
    async def get_folder(request: Request) -> Response:
        item = state.get(request.path_params["id"], "folder")
        q = request.query_params
        return JSONResponse(folder_json(item, int(q.get("offset", 0)), int(q.get("limit", 100))))

    @api
    async def create_folder(request: Request) -> Response:
        body = await request.json()
        parent = (body.get("parent") or {}).get("id")
        if not body.get("name") or parent is None:
            raise BoxError(400, "bad_request", "name and parent.id are required")
        item = state.create_folder(str(parent), str(body["name"]))
        return JSONResponse(folder_json(item), status_code=201)

    @api
    async def delete_folder(request: Request) -> Response:
        state.delete(request.path_params["id"], "folder", _truthy(request.query_params.get("recursive")))
        return Response(status_code=204)

    @api
    async def folder_items(request: Request) -> Response:
        folder = state.get(request.path_params["id"], "folder")
        q = request.query_params
        kids = state.children(folder.id)
        limit = min(int(q.get("limit", 100)), 1000)
        if _truthy(q.get("usemarker")):
            start = int(base64.urlsafe_b64decode(q["marker"]).decode()) if q.get("marker") else 0
            page = kids[start:start + limit]
            out: dict[str, Any] = {"entries": [mini(k) for k in page], "limit": limit}
            if start + limit < len(kids):
                out["next_marker"] = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
            return JSONResponse(out)
        offset = int(q.get("offset", 0))
        return JSONResponse({"total_count": len(kids), "offset": offset, "limit": limit,
                             "entries": [mini(k) for k in kids[offset:offset + limit]],
                             "order": [{"by": "type", "direction": "ASC"}, {"by": "name", "direction": "ASC"}]})

    # -- files ---------------------------------------------------------------------------
    @api
    async def preflight(request: Request) -> Response:
        body = await request.json() if (await request.body()) else {}
        parent = str((body.get("parent") or {}).get("id", ""))
        name = str(body.get("name") or "")
        state.get(parent, "folder")
        check_name(name)
        if int(body.get("size") or 0) > sim.direct_upload_max * 1000:
            raise BoxError(413, "file_size_too_large", "File is too large")
        if existing := state.conflict(parent, name):
            raise BoxError(409, "item_name_in_use", "Item with the same name already exists",
                           {"conflicts": mini(existing)})
        return JSONResponse({"upload_url": f"{base(request)}/api/2.0/files/content", "upload_token": None})

    async def _multipart(request: Request) -> tuple[dict[str, Any], Any]:
        form = await request.form(max_part_size=1024 * 1024)
        attributes = json.loads(str(form.get("attributes") or "{}"))
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise BoxError(400, "bad_request", "multipart body needs attributes then file")
        return attributes, upload

    @api
    async def upload(request: Request) -> Response:
        attributes, upload_file = await _multipart(request)
        try:
            parent = str((attributes.get("parent") or {}).get("id", ""))
            md5 = request.headers.get("content-md5")
            item = await anyio.to_thread.run_sync(
                lambda: state.store_file(parent, str(attributes.get("name") or ""), upload_file.file,
                                         expected_sha1=md5))
        finally:
            await upload_file.close()
        if item.size > sim.direct_upload_max:
            state.delete(item.id, "file")
            raise BoxError(413, "file_size_too_large", "Use an upload session for files this large")
        return JSONResponse({"total_count": 1, "entries": [file_json(item)]}, status_code=201)

    @api
    async def upload_version(request: Request) -> Response:
        existing = state.get(request.path_params["id"], "file")
        attributes, upload_file = await _multipart(request)
        try:
            item = await anyio.to_thread.run_sync(
                lambda: state.store_file(existing.parent_id or "0", existing.name, upload_file.file,
                                         replace_id=existing.id))
        finally:
            await upload_file.close()
        if attributes.get("name") and attributes["name"] != item.name:
            item.name = str(attributes["name"])
        return JSONResponse({"total_count": 1, "entries": [file_json(item)]}, status_code=201)

    @api
    async def get_file(request: Request) -> Response:
        return JSONResponse(file_json(state.get(request.path_params["id"], "file")))

    @api
    async def delete_file(request: Request) -> Response:
        state.delete(request.path_params["id"], "file")
        return Response(status_code=204)

    @api
    async def download(request: Request) -> Response:
        item = state.get(request.path_params["id"], "file")
        return RedirectResponse(f"{base(request)}/dl/{item.id}", status_code=302)

    async def download_target(request: Request) -> Response:
        try:
            item = state.get(request.path_params["id"], "file")
        except BoxError as exc:
            return _error(exc.status, exc.code, exc.message)
        path = state.file_path(item.id)
        start, end = 0, item.size - 1
        status = 200
        if m := re.match(r"bytes=(\d+)-(\d*)", request.headers.get("range", "")):
            start, end, status = int(m.group(1)), int(m.group(2) or end), 206

        async def body() -> AsyncIterator[bytes]:
            async with await anyio.open_file(path, "rb") as fh:
                await fh.seek(start)
                remaining = end - start + 1
                while remaining > 0:
                    chunk = await fh.read(min(256 * 1024, remaining))
                    if not chunk:
                        return
                    remaining -= len(chunk)
                    yield chunk

        headers = {"content-length": str(max(0, end - start + 1)), "accept-ranges": "bytes"}
        if status == 206:
            headers["content-range"] = f"bytes {start}-{end}/{item.size}"
        return StreamingResponse(body(), status_code=status, headers=headers, media_type="application/octet-stream")

    # -- upload sessions -----------------------------------------------------------------
    def session_json(request: Request, sid: str) -> dict[str, Any]:
        s = sim.sessions[sid]
        url = f"{base(request)}/api/2.0/files/upload_sessions/{sid}"
        return {"id": sid, "type": "upload_session", "session_expires_at": "2099-01-01T00:00:00Z",
                "part_size": s["part_size"], "total_parts": s["total_parts"], "num_parts_processed": len(s["parts"]),
                "session_endpoints": {"upload_part": url, "commit": url + "/commit", "abort": url,
                                      "list_parts": url + "/parts", "status": url, "log_event": url + "/log"}}

    @api
    async def create_session(request: Request) -> Response:
        body = await request.json()
        size, name, parent = int(body.get("file_size") or 0), str(body.get("file_name") or ""), str(body.get("folder_id"))
        state.get(parent, "folder")
        check_name(name)
        if size < sim.chunked_min_size:
            raise BoxError(400, "file_size_too_small", f"Upload sessions need at least {sim.chunked_min_size} bytes")
        if existing := state.conflict(parent, name):
            raise BoxError(409, "item_name_in_use", "Item with the same name already exists",
                           {"conflicts": mini(existing)})
        sid = secrets.token_hex(16).upper()
        sim.sessions[sid] = {"size": size, "name": name, "parent": parent, "part_size": sim.part_size,
                             "total_parts": -(-size // sim.part_size), "parts": {}}
        (state.storage / "parts" / sid).mkdir(parents=True, exist_ok=True)
        return JSONResponse(session_json(request, sid), status_code=201)

    def session(sid: str) -> dict[str, Any]:
        if sid not in sim.sessions:
            raise BoxError(404, "not_found", f"Upload session {sid} not found")
        return sim.sessions[sid]

    @api
    async def upload_part(request: Request) -> Response:
        sid = request.path_params["sid"]
        s = session(sid)
        m = re.match(r"bytes (\d+)-(\d+)/(\d+)$", request.headers.get("content-range", ""))
        if not m:
            raise BoxError(400, "bad_request", "content-range header required")
        start, end, total = map(int, m.groups())
        size = end - start + 1
        last = end + 1 == s["size"]
        if total != s["size"] or start % s["part_size"] or (size != s["part_size"] and not last) or end >= total:
            raise BoxError(416, "range_not_satisfiable", "Part range is not aligned with the session's part size")
        data = await request.body()  # one part (part_size bytes) at a time
        if len(data) != size:
            raise BoxError(400, "bad_request", f"Part is {len(data)} bytes, content-range says {size}")
        digest = hashlib.sha1(data)
        expected = request.headers.get("digest", "")
        if expected != "sha=" + base64.b64encode(digest.digest()).decode():
            raise BoxError(412, "precondition_failed", "Part digest does not match its content")
        (state.storage / "parts" / sid / f"{start:020d}").write_bytes(data)
        part = {"part_id": digest.hexdigest()[:8].upper(), "offset": start, "size": size, "sha1": digest.hexdigest()}
        s["parts"][start] = part
        return JSONResponse({"part": part})

    @api
    async def list_parts(request: Request) -> Response:
        s = session(request.path_params["sid"])
        parts = [s["parts"][k] for k in sorted(s["parts"])]
        return JSONResponse({"total_count": len(parts), "entries": parts, "offset": 0, "limit": 1000})

    @api
    async def commit(request: Request) -> Response:
        sid = request.path_params["sid"]
        s = session(sid)
        body = await request.json()
        offsets = sorted(s["parts"])
        if [p.get("offset") for p in body.get("parts", [])] != offsets or len(offsets) != s["total_parts"]:
            raise BoxError(400, "bad_request", "The parts list does not match the uploaded parts")
        part_dir = state.storage / "parts" / sid

        def assemble() -> Item:
            digest = hashlib.sha1()
            joined = part_dir / "joined"
            with open(joined, "wb") as out:
                for offset in offsets:
                    data = (part_dir / f"{offset:020d}").read_bytes()
                    digest.update(data)
                    out.write(data)
            if request.headers.get("digest", "") != "sha=" + base64.b64encode(digest.digest()).decode():
                raise BoxError(422, "checksum_mismatch", "The file digest does not match the parts")
            return state.store_file(s["parent"], s["name"], joined)

        item = await anyio.to_thread.run_sync(assemble)
        sim.sessions.pop(sid, None)
        return JSONResponse({"total_count": 1, "entries": [file_json(item)]}, status_code=201)

    @api
    async def abort(request: Request) -> Response:
        sim.sessions.pop(request.path_params["sid"], None)
        return Response(status_code=204)

    # -- admin for other processes --------------------------------------------------------
    async def admin_files(request: Request) -> Response:
        return JSONResponse({"files": sim.files(), "folders": sim.folders()})

    async def admin_keys(request: Request) -> Response:
        body = await request.json()
        sim.public_keys[str(body["kid"])] = str(body["pem"])
        return JSONResponse({"ok": True})

    async def admin_expire(request: Request) -> Response:
        sim.expire_tokens()
        return JSONResponse({"ok": True})

    async def admin_seed(request: Request) -> Response:
        body = await request.json()
        parent = body.get("parent_id") or "0"
        for part in body.get("path", []):
            existing = state.conflict(parent, part)
            parent = existing.id if existing else state.create_folder(parent, part).id
        file_id = sim.put_file(parent, body["name"], base64.b64decode(body.get("content_base64", "")))
        return JSONResponse({"id": file_id}, status_code=201)

    sessions = "/api/2.0/files/upload_sessions"
    routes = [
        Route("/oauth2/token", token, methods=["POST"]),
        Route("/2.0/folders", create_folder, methods=["POST"]),
        Route("/2.0/folders/{id}", get_folder, methods=["GET"]),
        Route("/2.0/folders/{id}", delete_folder, methods=["DELETE"]),
        Route("/2.0/folders/{id}/items", folder_items, methods=["GET"]),
        Route("/2.0/files/content", preflight, methods=["OPTIONS"]),
        Route("/api/2.0/files/content", upload, methods=["POST"]),
        Route("/api/2.0/files/{id}/content", upload_version, methods=["POST"]),
        Route("/2.0/files/{id}", get_file, methods=["GET"]),
        Route("/2.0/files/{id}", delete_file, methods=["DELETE"]),
        Route("/2.0/files/{id}/content", download, methods=["GET"]),
        Route("/dl/{id}", download_target, methods=["GET"]),
        Route(sessions, create_session, methods=["POST"]),
        Route(sessions + "/{sid}", upload_part, methods=["PUT"]),
        Route(sessions + "/{sid}", abort, methods=["DELETE"]),
        Route(sessions + "/{sid}/parts", list_parts, methods=["GET"]),
        Route(sessions + "/{sid}/commit", commit, methods=["POST"]),
        Route("/_sim/box/files", admin_files, methods=["GET"]),
        Route("/_sim/box/keys", admin_keys, methods=["POST"]),
        Route("/_sim/box/expire-tokens", admin_expire, methods=["POST"]),
        Route("/_sim/box/seed-file", admin_seed, methods=["POST"]),
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        return _error(404, "not_found", f"No route {request.method} {request.url.path}")

    async def bad_method(request: Request, exc: Exception) -> Response:
        return _error(405, "method_not_allowed", f"{request.method} not allowed on {request.url.path}")

    return Starlette(routes=routes, exception_handlers={404: not_found, 405: bad_method})
