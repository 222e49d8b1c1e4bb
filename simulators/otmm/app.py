"""HTTP routes of the OTMM simulator (Starlette): OTDS tokens, ``/otmmapi/v6``, ``/_sim/otmm``.

Choices where ``reference/otmm_api.md`` marks behaviour [U]/[I] (all documented here):

* Auth (reference §2): ``oauth`` mode serves every sign-in a tenant may use. Bearer tokens
  from OTDS (``/otdsws/oauth2/token``, grants ``client_credentials`` and ``password``) or from
  OTMM's own ``/otmmapi/v6/sessions/oauth2/token`` (password grant); or an OTMM session from
  ``POST /otmmapi/v6/sessions``, then ``X-Requested-By: <session id>`` plus its credentials
  (``otmmauthtoken``, ``Bearer otmmToken <digest>``, ``JSESSIONID``; any presented must
  match). Every ``/otmmapi`` route needs one of them: 401 ``exception_body`` with
  ``error_code`` ``TOKEN_MISSING``, ``TOKEN_INVALID``, ``TOKEN_EXPIRED``, ``SESSION_INVALID``,
  ``SESSION_EXPIRED`` or ``SESSION_ID_REQUIRED`` (the real codes are not public). Sessions
  end after ``session_timeout`` seconds without use (Tomcat's default is 30 minutes; OTMM's
  setting is not public) or on ``DELETE /otmmapi/v6/sessions`` (204). ``mtls`` mode trusts
  the TLS layer (the server requires a client certificate) and needs no sign-in. The lock
  owner is the token's OAuth client (client credentials) or the signed-in user; in ``mtls``
  mode it is the simulator's client id.
* Locks: ``PUT /assets/{id}/state`` ``action=lock|unlock`` works on asset and folder ids and is
  idempotent for the owner; another owner's lock → 409 ``LOCKED_BY_OTHER``. With
  ``lock_required`` a ``PATCH`` without the caller's lock → 409 ``FOLDER_NOT_LOCKED`` /
  ``ASSET_NOT_LOCKED``. ``PATCH`` answers 200 with the updated ``folder_resource`` /
  ``asset_resource`` (metadata included).
* ``/folders/{id}/children``: folders and assets mixed, sorted by name (case-insensitive, then
  id; ``desc_NAME`` reverses); ``after`` is a 0-based offset, ``limit`` defaults to 50 and 0
  means all. ``folder_children`` holds only ``asset_list``.
* ``/folders/{id}/folders``: ``after``/``limit`` work too (default: all).
* ``GET /folders/{id}``: ``container_child_counts`` and ``path_list`` always; ``metadata`` with
  ``load_type=metadata|full`` or ``custom`` + ``data_load_request.load_metadata``. ``path_list``
  parents run from the tree root down to the direct parent.
* Search: folders (campaign folders) and assets both match; results are ordered by
  ``date_imported`` ascending, then id (``sort=asc_NAME|desc_NAME`` sorts by name);
  ``folder_filter_type=direct`` restricts to direct children of ``folder_filter``, anything
  else (``all``) to all descendants; ``limit`` defaults to 50, 0 = all; ``asset_list`` holds
  full objects (metadata with ``load_type=metadata|full``) and is empty with
  ``return_type=ids``.
* ``POST /assets``: each ``files`` part must match a manifest ``file_name`` (else 400); the
  asset exists at once; the job reports it after ``import_delay`` seconds (default 0).
  ``GET /jobs/{id}`` answers ``job_resource.job{job_id,status,asset_ids}`` (our shape).
* ``/assets/{id}/contents``: ``Content-Length``, ``Content-Type``, ``Content-Disposition``
  (``attachment`` unless ``disposition=inline``; ``filename*=UTF-8''…``), single ``Range``
  requests answered 206; ``rendition_type`` other than master → 404 (no renditions exist).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote_plus

import anyio
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from simulators.otmm.content import CHUNK, file_chunks, generated_chunks
from simulators.otmm.metadata import apply_elements
from simulators.otmm.search import compile_conditions, keyword_predicate, parse_condition_list, sort_key
from simulators.otmm.state import (
    PUBLIC_ROOT,
    PUBLIC_TREE,
    Asset,
    Folder,
    Job,
    Node,
    Session,
    SimError,
    now_iso,
)

if TYPE_CHECKING:
    from simulators.otmm import OtmmSimulator

API = "/otmmapi/v6"
ASSET_TYPE = "com.artesia.asset.Asset"
CONTAINER_TYPE = "com.artesia.container.Container"
TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
OTMM_TOKEN_PREFIX = "otmmToken "  # Authorization: Bearer otmmToken <message_digest> (reference §2.4)
DEFAULT_PAGE = 50
MAX_JSON_PART = 16 * 1024 * 1024

_DEFAULT_CODES = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
                  405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 423: "LOCKED", 429: "TOO_MANY_REQUESTS",
                  500: "INTERNAL_SERVER_ERROR", 502: "BAD_GATEWAY", 503: "SERVICE_UNAVAILABLE",
                  504: "GATEWAY_TIMEOUT"}


def otmm_error_body(status: int, message: str, error_code: str | None = None,
                    debug_message: str | None = None) -> dict[str, Any]:
    """OTMM's error envelope (also what fault injection answers with)."""
    code = error_code or _DEFAULT_CODES.get(status, "SERVER_ERROR" if status >= 500 else "REQUEST_ERROR")
    return {"exception_body": {"http_response_code": status, "error_code": code,
                               "debug_message": debug_message or message, "message": message}}


def _error(status: int, message: str, error_code: str | None = None,
           headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(otmm_error_body(status, message, error_code), status_code=status, headers=headers)


def content_type_of(mime_type: str) -> str:
    """OTMM's ``content_type`` for a MIME type."""
    mime = mime_type.lower()
    if mime.startswith("image/"):
        return "BITMAP"
    if mime == "application/pdf":
        return "ACROBAT"
    if mime.startswith("video/"):
        return "VIDEO"
    if mime.startswith("audio/"):
        return "AUDIO"
    if any(k in mime for k in ("msword", "officedocument", "ms-excel", "ms-powerpoint")):
        return "MSOFFICE"
    if mime.startswith("text/"):
        return "TEXT"
    return "OTHER"


def content_disposition(kind: str, file_name: str) -> str:
    ascii_name = file_name.encode("ascii", "replace").decode().replace('"', "_").replace("\\", "_")
    ascii_name = "".join(ch if 32 <= ord(ch) < 127 else "_" for ch in ascii_name)  # no CR/LF/NUL in a header
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name, safe='')}"


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _int(params: dict[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SimError(400, f"parameter {name} must be an integer, not {raw!r}", "INVALID_PARAMETER") from exc
    if value < 0:
        raise SimError(400, f"parameter {name} must not be negative", "INVALID_PARAMETER")
    return value


def _json_param(raw: str | None, name: str) -> Any:
    if raw is None or raw == "":
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise SimError(400, f"parameter {name} is not valid JSON: {exc}", "INVALID_PARAMETER") from exc


def _dig(payload: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(payload, dict):
            return None
        payload = payload.get(key)
    return payload


def _page(items: list[Any], after: int, limit: int) -> list[Any]:
    return items[after:after + limit] if limit else items[after:]


def build_app(sim: OtmmSimulator) -> Starlette:  # noqa: C901 - one closure per route keeps state access obvious
    state = sim.state

    # -- rendering ---------------------------------------------------------------------------
    def path_list(node: Node) -> list[dict[str, Any]]:
        parents = [{"id": f.id, "name": f.name} for f in state.ancestors(node)]
        return [{"tree_descriptor": {"tree_id": PUBLIC_TREE, "detached": False}, "parents": parents}]

    def folder_json(folder: Folder, with_metadata: bool) -> dict[str, Any]:
        with state.lock:
            out: dict[str, Any] = {
                "asset_id": folder.id, "container_id": folder.id, "name": folder.name, "type": CONTAINER_TYPE,
                "data_type": "CONTAINER", "container_type_id": folder.container_type_id,
                "metadata_model_id": folder.metadata_model_id, "date_imported": folder.date_imported,
                "date_last_updated": folder.date_last_updated, "asset_state": "NORMAL", "deleted": False,
                "locked": folder.lock_owner is not None, "container_child_counts": state.child_counts(folder.id),
                "path_list": path_list(folder), "security_policy_list": [{"id": 2}],
            }
            if with_metadata:
                out["metadata"] = sim.layout.render(folder)
            return out

    def asset_json(asset: Asset, with_metadata: bool) -> dict[str, Any]:
        with state.lock:
            out: dict[str, Any] = {
                "asset_id": asset.id, "original_asset_id": asset.id, "name": asset.name, "type": ASSET_TYPE,
                "content_type": content_type_of(asset.mime_type), "mime_type": asset.mime_type,
                "content_size": asset.size, "asset_state": "NORMAL", "content_state": "NORMAL",
                "locked": asset.lock_owner is not None, "checked_out": False, "deleted": False, "expired": False,
                "latest_version": True, "version": 1, "date_imported": asset.date_imported,
                "date_last_updated": asset.date_last_updated, "import_job_id": asset.import_job_id,
                "metadata_model_id": asset.metadata_model_id,
                "master_content_info": {"id": asset.content_id, "name": asset.name, "mime_type": asset.mime_type,
                                        "content_size": asset.size, "content_kind": "MASTER",
                                        "url": f"{API}/renditions/{asset.content_id}"},
                "path_list": path_list(asset), "security_policy_list": [{"id": 2}],
            }
            if with_metadata:
                out["metadata"] = sim.layout.render(asset)
            return out

    def node_json(node: Node, with_metadata: bool) -> dict[str, Any]:
        return folder_json(node, with_metadata) if isinstance(node, Folder) else asset_json(node, with_metadata)

    def wants_metadata(params: dict[str, str]) -> bool:
        load_type = (params.get("load_type") or "").lower()
        if load_type in ("metadata", "full"):
            return True
        if load_type == "custom":
            request = _json_param(params.get("data_load_request"), "data_load_request")
            request = request.get("data_load_request", request) if isinstance(request, dict) else {}
            return isinstance(request, dict) and _truthy(request.get("load_metadata"))
        return False

    # -- request helpers -------------------------------------------------------------------
    async def params_of(request: Request) -> dict[str, str]:
        """Query string merged with a form body (JSON params may arrive either way)."""
        out = dict(request.query_params)
        ctype = request.headers.get("content-type", "")
        if request.method in ("POST", "PUT", "PATCH") and ctype.startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")):
            try:
                form = await request.form()
            except MultiPartException as exc:
                raise SimError(400, f"malformed form body: {exc}", "INVALID_PARAMETER") from exc
            for key, value in form.multi_items():
                if isinstance(value, str):
                    out[key] = value
        return out

    async def json_body(request: Request) -> Any:
        try:
            return json.loads(await request.body() or b"null")
        except ValueError as exc:
            raise SimError(400, f"the body is not valid JSON: {exc}", "INVALID_JSON") from exc

    def caller_of(request: Request, *, session_call: bool = False) -> tuple[str, Session | None]:
        """Who is calling (the lock owner), and their OTMM session if they signed in with one.

        A bearer token (OTDS or OTMM's own) is enough on its own [C S1]. Otherwise the session
        credentials: every one the call presents (``otmmauthtoken``, ``Bearer otmmToken``, the
        ``JSESSIONID`` cookie) must belong to the same live session, and ``X-Requested-By`` must
        carry its id, except on the sessions calls themselves [C S3/S4 comments].
        """
        if sim.auth_mode == "mtls":
            return sim.client_id, None
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        credentials = credentials.strip()
        if scheme.lower() == "bearer" and credentials and not credentials.startswith(OTMM_TOKEN_PREFIX):
            owner, why = state.token_owner(credentials)
            if owner is None:
                if why == "expired":
                    raise SimError(401, "The access token has expired; request a new one", "TOKEN_EXPIRED")
                raise SimError(401, "The access token is not valid (unknown token)", "TOKEN_INVALID")
            return owner, None
        session = session_of(request, credentials.removeprefix(OTMM_TOKEN_PREFIX).strip()
                             if scheme.lower() == "bearer" else None)
        if session is None:
            raise SimError(401, "Authentication required: the request carries no bearer token and no session "
                           "(missing)", "TOKEN_MISSING")
        if not session_call and request.headers.get("x-requested-by", "").strip() != str(session.id):
            raise SimError(401, "The X-Requested-By header must carry the session id", "SESSION_ID_REQUIRED")
        return session.login_name, session

    def session_of(request: Request, otmm_token: str | None) -> Session | None:
        """The live session every presented session credential points to; ``None`` without any."""
        presented = [("digest", d) for d in (otmm_token, request.headers.get("otmmauthtoken")) if d]
        if request.cookies.get("JSESSIONID"):
            presented.append(("jsessionid", request.cookies["JSESSIONID"]))
        if not presented:
            return None
        found = [state.find_session(digest=v) if kind == "digest" else state.find_session(jsessionid=v)
                 for kind, v in presented]
        first = found[0]
        if first is None or any(f is not first for f in found):
            raise SimError(401, "The session credentials are not valid (unknown session, or parts of "
                           "different sessions)", "SESSION_INVALID")
        with state.lock:
            now = time.monotonic()
            if first.closed or first.revoked or now - first.last_used > sim.session_timeout:
                raise SimError(401, "The session has expired or was closed; sign in again", "SESSION_EXPIRED")
            first.last_used = now
        return first

    def owner_of(request: Request) -> str:
        return caller_of(request)[0]

    Handler = Callable[[Request, str], Awaitable[Response]]

    def api(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def wrapped(request: Request) -> Response:
            return await handler(request, owner_of(request))
        return wrapped

    def user_ok(username: str, password: str) -> bool:
        return secrets.compare_digest(username.encode(), sim.username.encode()) and \
            secrets.compare_digest(password.encode(), sim.password.encode())

    def client_ok(client_id: str, client_secret: str) -> bool:
        return secrets.compare_digest(client_id.encode(), sim.client_id.encode()) and \
            secrets.compare_digest(client_secret.encode(), sim.client_secret.encode())

    # -- OTDS ------------------------------------------------------------------------------
    async def oauth_token(request: Request) -> Response:
        """Reference §2.2: client_credentials [C S2] and password [C S2] grants; errors follow
        RFC 6749 §5.2 (``invalid_client`` 401, ``invalid_grant`` 400 for a wrong user password)."""
        form = await request.form()
        client_id = str(form.get("client_id") or "")
        client_secret = str(form.get("client_secret") or "")
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic" and encoded:
            try:
                user, _, password = base64.b64decode(encoded.strip()).decode().partition(":")
                client_id, client_secret = unquote_plus(user), unquote_plus(password)
            except (ValueError, UnicodeDecodeError):
                pass
        if not client_ok(client_id, client_secret):
            return JSONResponse({"error": "invalid_client", "error_description": "Client authentication failed: "
                                 "unknown client or wrong secret"}, status_code=401,
                                headers={"WWW-Authenticate": 'Basic realm="OTDS"'})
        grant = form.get("grant_type")
        if grant == "client_credentials":
            owner, method = client_id, "oauth2"
        elif grant == "password":
            username, password = str(form.get("username") or ""), str(form.get("password") or "")
            if not user_ok(username, password):
                return JSONResponse({"error": "invalid_grant", "error_description": "Authentication failed: "
                                     "wrong user name or password"}, status_code=400)
            owner, method = username, "otds_password"
        else:
            return JSONResponse({"error": "unsupported_grant_type",
                                 "error_description": f"grant_type {grant!r} is not supported"}, status_code=400)
        token = secrets.token_urlsafe(32)
        state.issue_token(token, owner, sim.token_ttl, method)
        return JSONResponse({"access_token": token, "issued_token_type": TOKEN_TYPE, "token_type": "Bearer",
                             "expires_in": max(0, math.ceil(sim.token_ttl))},
                            headers={"Cache-Control": "no-store"})

    # -- sessions --------------------------------------------------------------------------
    async def create_session(request: Request) -> Response:
        """Reference §2.4 [C S3, S4, S20]: form ``username``/``password`` → ``session_resource``
        and a ``JSESSIONID`` cookie [C S5, S19]. A wrong password → 401 ``exception_body`` [I]."""
        params = await params_of(request)
        username, password = params.get("username") or "", params.get("password") or ""
        if not username or not password:
            raise SimError(400, "give username and password (form fields)", "INVALID_PARAMETER")
        if not user_ok(username, password):
            raise SimError(401, "The user name or password is incorrect", "INVALID_CREDENTIALS")
        session = state.open_session(username)
        response = JSONResponse(session_json(session))
        response.set_cookie("JSESSIONID", session.jsessionid, path="/otmmapi", httponly=True,
                            secure=request.url.scheme == "https")
        return response

    def session_json(session: Session) -> dict[str, Any]:
        # The envelope of reference §2.4 (S4/S20). validation_key and user_id are placeholders.
        return {"session_resource": {"session": {
            "domain_name": "OTMM", "id": session.id, "local_session": False, "login_name": session.login_name,
            "message_digest": session.message_digest, "role_name": "Integration",
            "user_full_name": session.login_name, "user_id": "1001", "user_role_id": 1,
            "validation_key": int(session.message_digest[:7], 16)}}}

    async def get_session(request: Request) -> Response:
        owner, session = caller_of(request, session_call=True)
        if session is not None:
            return JSONResponse(session_json(session))
        session_id = int(hashlib.sha1(owner.encode()).hexdigest()[:7], 16)
        return JSONResponse({"session_resource": {"session": {
            "domain_name": "OTMM", "id": session_id, "local_session": False, "login_name": owner,
            "role_name": "Integration", "user_full_name": owner, "user_id": "1001"}}})

    async def delete_session(request: Request) -> Response:
        """``DELETE /v6/sessions`` [C S13] ends the caller's session (204; the code is our choice)."""
        _owner, session = caller_of(request, session_call=True)
        if session is not None:
            with state.lock:
                session.closed = True
        return Response(status_code=204)

    async def otmm_token(request: Request) -> Response:
        """OTMM's own password grant, reference §2.3 [C S1]: form ``username``, ``password``,
        ``grant_type=password``, ``client_id``, ``client_secret`` → ``token_info.oauth_token.
        accessToken``. Errors and any other answer field are not public [U]: errors come as
        ``exception_body`` (401 for a wrong client or password, 400 for another grant), and the
        answer states no lifetime (the token still expires after ``token_ttl``)."""
        params = await params_of(request)
        if not client_ok(params.get("client_id") or "", params.get("client_secret") or ""):
            raise SimError(401, "Unknown OAuth client or wrong client secret", "INVALID_CLIENT")
        if params.get("grant_type") != "password":
            raise SimError(400, f"grant_type {params.get('grant_type')!r} is not supported", "UNSUPPORTED_GRANT_TYPE")
        username = params.get("username") or ""
        if not user_ok(username, params.get("password") or ""):
            raise SimError(401, "The user name or password is incorrect", "INVALID_CREDENTIALS")
        token = secrets.token_urlsafe(32)
        state.issue_token(token, username, sim.token_ttl, "otmm_password")
        return JSONResponse({"token_info": {"oauth_token": {"accessToken": token}}},
                            headers={"Cache-Control": "no-store"})

    # -- folders ---------------------------------------------------------------------------
    @api
    async def root_folders(request: Request, owner: str) -> Response:
        return JSONResponse({"folders_resource": {"folder_list": [folder_json(state.folder(PUBLIC_ROOT), False)]}})

    @api
    async def get_folder(request: Request, owner: str) -> Response:
        params = await params_of(request)
        folder = state.folder(request.path_params["id"])
        return JSONResponse({"folder_resource": {"folder": folder_json(folder, wants_metadata(params))}})

    @api
    async def sub_folders(request: Request, owner: str) -> Response:
        params = await params_of(request)
        state.folder(request.path_params["id"])
        with_metadata = wants_metadata(params)
        folders = [k for k in state.children(request.path_params["id"]) if isinstance(k, Folder)]
        page = _page(folders, _int(params, "after", 0), _int(params, "limit", 0))
        return JSONResponse({"folders_resource": {"folder_list": [folder_json(f, with_metadata) for f in page]}})

    @api
    async def children(request: Request, owner: str) -> Response:
        params = await params_of(request)
        folder_id = request.path_params["id"]
        state.folder(folder_id)
        with_metadata = wants_metadata(params)
        items = state.children(folder_id)
        if (params.get("sort") or "").lower().startswith("desc_"):
            items.reverse()
        page = _page(items, _int(params, "after", 0), _int(params, "limit", DEFAULT_PAGE))
        return JSONResponse({"folder_children": {"asset_list": [node_json(n, with_metadata) for n in page]}})

    def check_edit_lock(node: Node, owner: str, what: str) -> None:
        if node.lock_owner is not None and node.lock_owner != owner:
            raise SimError(409, f"{what} {node.id} is locked by {node.lock_owner} (another user)",
                           "LOCKED_BY_OTHER")
        if sim.lock_required and node.lock_owner != owner:
            raise SimError(409, f"{what} is not locked: lock {node.id} (PUT /assets/{{id}}/state action=lock) "
                           "before editing it", f"{what.upper()}_NOT_LOCKED")

    async def patch_node(request: Request, owner: str, node: Node, envelope: str) -> list[str]:
        body = await json_body(request)
        metadata = _dig(body, envelope, "data", "metadata")
        if not isinstance(metadata, list):
            raise SimError(400, f"the body must be {{\"{envelope}\": {{\"data\": {{\"metadata\": [...]}}}}}}",
                           "INVALID_JSON")
        with state.lock:
            check_edit_lock(node, owner, "folder" if isinstance(node, Folder) else "asset")
            written = apply_elements(node, metadata, state.table_of)
            node.date_last_updated = now_iso()
        return written

    @api
    async def patch_folder(request: Request, owner: str) -> Response:
        folder = state.folder(request.path_params["id"])
        await patch_node(request, owner, folder, "edited_folder")
        return JSONResponse({"folder_resource": {"folder": folder_json(folder, True)}})

    # -- search ----------------------------------------------------------------------------
    @api
    async def search_text(request: Request, owner: str) -> Response:
        params = await params_of(request)
        predicate = compile_conditions(parse_condition_list(params.get("search_condition_list")))
        keywords = keyword_predicate(params.get("keyword_query"))
        folder_filter = params.get("folder_filter") or None
        direct = (params.get("folder_filter_type") or "all").lower() == "direct"
        if folder_filter:
            state.folder(folder_filter)
        after, limit = _int(params, "after", 0), _int(params, "limit", DEFAULT_PAGE)
        key, descending = sort_key(params.get("sort"))
        with_metadata = wants_metadata(params)
        ids_only = (params.get("return_type") or "").lower() == "ids"
        with state.lock:
            hits = [n for n in state.all_nodes()
                    if (folder_filter is None or state.below(n, folder_filter, direct)) and predicate(n)
                    and keywords(n)]
            hits.sort(key=key, reverse=descending)
            page = _page(hits, after, limit)
            asset_list = [] if ids_only else [node_json(n, with_metadata) for n in page]
        return JSONResponse({"search_result_resource": {
            "search_result": {"asset_id_list": [n.id for n in page], "hit_count": len(page),
                              "total_hit_count": len(hits), "offset": after, "contains_invalid_conditions": False,
                              "facet_field_response_list": [], "asset_group_count": {"entry": []}},
            "asset_list": asset_list}})

    # -- assets ----------------------------------------------------------------------------
    @api
    async def get_asset(request: Request, owner: str) -> Response:
        params = await params_of(request)
        asset = state.asset(request.path_params["id"])
        return JSONResponse({"asset_resource": {"asset": asset_json(asset, wants_metadata(params))}})

    @api
    async def patch_asset(request: Request, owner: str) -> Response:
        asset = state.asset(request.path_params["id"])
        await patch_node(request, owner, asset, "edited_asset")
        return JSONResponse({"asset_resource": {"asset": asset_json(asset, True)}})

    @api
    async def asset_state(request: Request, owner: str) -> Response:
        params = await params_of(request)
        node = state.node(request.path_params["id"])
        action = (params.get("action") or "").lower()
        with state.lock:
            if action not in ("lock", "unlock"):
                raise SimError(400, f"action must be lock or unlock, not {action!r}", "INVALID_PARAMETER")
            if node.lock_owner is not None and node.lock_owner != owner:
                raise SimError(409, f"{node.id} is locked by {node.lock_owner} (another user)", "LOCKED_BY_OTHER")
            node.lock_owner = owner if action == "lock" else None
        return JSONResponse({"asset_resource": {"asset": node_json(node, False)}})

    def stream_content(request: Request, asset: Asset, disposition: str) -> Response:
        size = asset.size
        start, end, status = 0, size, 200
        headers = {"Content-Type": asset.mime_type, "Accept-Ranges": "bytes",
                   "Content-Disposition": content_disposition(disposition, asset.name)}
        spec = request.headers.get("range", "")
        if spec.startswith("bytes=") and "," not in spec:
            first, _, last = spec[6:].strip().partition("-")
            try:
                if first:
                    start, end = int(first), (int(last) + 1 if last else size)
                else:
                    start, end = max(0, size - int(last)), size
            except ValueError:
                start, end = 0, size
            else:
                end = min(end, size)
                if start >= size or start >= end:
                    return _error(416, f"range {spec} not satisfiable for {size} bytes", "RANGE_NOT_SATISFIABLE",
                                  headers={"Content-Range": f"bytes */{size}"})
                status = 206
                headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        headers["Content-Length"] = str(end - start)
        if asset.file_path is not None:
            body = file_chunks(asset.file_path, start, end)
        else:
            body = generated_chunks(asset.id, size, start, end)
        return StreamingResponse(body, status_code=status, headers=headers)

    @api
    async def asset_contents(request: Request, owner: str) -> Response:
        params = await params_of(request)
        asset = state.asset(request.path_params["id"])
        rendition = (params.get("rendition_type") or "master").lower()
        if rendition not in ("master", "original"):
            raise SimError(404, f"asset {asset.id} has no {rendition} rendition", "RENDITION_NOT_FOUND")
        disposition = "inline" if (params.get("disposition") or "").lower() == "inline" else "attachment"
        return stream_content(request, asset, disposition)

    @api
    async def rendition(request: Request, owner: str) -> Response:
        with state.lock:
            asset_id = state.content_ids.get(request.path_params["id"])
        if asset_id is None:
            raise SimError(404, f"rendition {request.path_params['id']} was not found", "NOT_FOUND")
        return stream_content(request, state.asset(asset_id), "inline")

    # -- upload ----------------------------------------------------------------------------
    @api
    async def create_asset(request: Request, owner: str) -> Response:
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise SimError(400, "POST /assets needs multipart/form-data", "INVALID_REQUEST")
        try:
            form = await request.form(max_part_size=MAX_JSON_PART)
        except MultiPartException as exc:
            raise SimError(400, f"malformed multipart body: {exc}", "INVALID_REQUEST") from exc
        try:
            return await _create_asset(form)
        finally:
            await form.close()

    async def _create_asset(form: Any) -> Response:
        parent_id = form.get("parent_folder_id")
        if not isinstance(parent_id, str) or not parent_id:
            raise SimError(400, "parent_folder_id is required", "INVALID_REQUEST")
        manifest_raw, representation_raw = form.get("manifest"), form.get("asset_representation")
        template = form.get("import_template_id")
        if not isinstance(manifest_raw, str):
            raise SimError(400, "the manifest part is required", "INVALID_REQUEST")
        manifest = _json_param(manifest_raw, "manifest")
        representation = _json_param(representation_raw if isinstance(representation_raw, str) else None,
                                     "asset_representation")
        if representation is None and not template:
            raise SimError(400, "give asset_representation and/or import_template_id", "INVALID_REQUEST")
        master_files = _dig(manifest, "upload_manifest", "master_files")
        if not isinstance(master_files, list) or not master_files:
            raise SimError(400, "manifest.upload_manifest.master_files must be a non-empty list", "INVALID_REQUEST")
        entries = [_dig(m, "file") for m in master_files]
        if not all(isinstance(e, dict) and isinstance(e.get("file_name"), str) and e["file_name"] for e in entries):
            raise SimError(400, "every master_files entry needs file.file_name", "INVALID_REQUEST")
        uploads = [v for k, v in form.multi_items() if k == "files" and isinstance(v, UploadFile)]
        by_name = {u.filename: u for u in uploads}
        for entry in entries:
            if entry["file_name"] not in by_name:
                sent = ", ".join(repr(u.filename) for u in uploads) or "no file"
                raise SimError(400, f"the manifest names {entry['file_name']!r} but the request carries {sent}",
                               "FILE_NAME_MISMATCH")
        if len(uploads) != len(entries):
            raise SimError(400, f"{len(uploads)} file part(s) for {len(entries)} manifest entr(ies)",
                           "FILE_NAME_MISMATCH")
        asset_json_in = _dig(representation, "asset_resource", "asset") if representation is not None else {}
        if representation is not None and not isinstance(asset_json_in, dict):
            raise SimError(400, "asset_representation must be {\"asset_resource\": {\"asset\": {...}}}",
                           "INVALID_REQUEST")
        elements = _dig(asset_json_in, "metadata", "metadata_element_list") or []
        model_id = asset_json_in.get("metadata_model_id") or sim.fields.metadata_model_id
        state.folder(parent_id)
        scratch = Node("new", "new", None, str(model_id), "", "")
        apply_elements(scratch, elements, state.table_of)  # validates before anything is stored

        job_id = state.next_job_id()
        created: list[str] = []
        for entry in entries:
            upload = by_name[entry["file_name"]]
            target = sim.upload_dir / f"{uuid.uuid4().hex}.bin"
            size, sha1 = await anyio.to_thread.run_sync(_store, upload.file, target)
            node = Node("new", "new", None, str(model_id), "", "")
            apply_elements(node, elements, state.table_of)
            mime = entry.get("file_type") or upload.content_type or "application/octet-stream"
            asset = state.add_asset(parent_id, entry["file_name"], size=size, mime_type=str(mime),
                                    metadata_model_id=str(model_id), fields=node.fields, tables=node.tables,
                                    file_path=target, sha1=sha1, import_job_id=int(job_id))
            created.append(asset.id)
            with state.lock:
                state.uploads.append({"asset_id": asset.id, "name": asset.name, "parent_folder_id": parent_id,
                                      "asset_representation": representation, "manifest": manifest,
                                      "import_template_id": template if isinstance(template, str) else None,
                                      "size": size, "sha1": sha1, "mime_type": asset.mime_type, "job_id": job_id,
                                      "file_path": str(target)})
        with state.lock:
            state.jobs[job_id] = Job(job_id, created, time.monotonic() + sim.import_delay)
        return JSONResponse({"job_handle": {"job_id": job_id}}, status_code=202)

    def job(job_id: str) -> Job:
        with state.lock:
            found = state.jobs.get(job_id)
        if found is None:
            raise SimError(404, f"job {job_id} was not found", "JOB_NOT_FOUND")
        return found

    @api
    async def get_job(request: Request, owner: str) -> Response:
        found = job(request.path_params["job_id"])
        done = time.monotonic() >= found.ready_at
        return JSONResponse({"job_resource": {"job": {"job_id": found.job_id,
                                                      "status": "COMPLETED" if done else "IN_PROGRESS",
                                                      "asset_ids": found.asset_ids if done else []}}})

    @api
    async def job_assets(request: Request, owner: str) -> Response:
        found = job(request.path_params["job_id"])
        done = time.monotonic() >= found.ready_at
        assets = [asset_json(state.asset(a), False) for a in found.asset_ids] if done else []
        return JSONResponse({"assets_resource": {"asset_list": assets}})

    # -- simulator admin -------------------------------------------------------------------
    async def admin_expire(request: Request) -> Response:
        sim.expire_tokens()
        return JSONResponse({"ok": True})

    async def admin_campaigns(request: Request) -> Response:
        return JSONResponse({"campaigns": sim.campaigns()})

    async def admin_set_status(request: Request) -> Response:
        body = await json_body(request)
        status = body.get("status") if isinstance(body, dict) else None
        if not isinstance(status, str) or not status:
            raise SimError(400, "body must be {\"status\": \"A1\"}", "INVALID_JSON")
        sim.set_campaign_status(request.path_params["id"], status)
        return JSONResponse({"ok": True})

    async def admin_rename(request: Request) -> Response:
        body = await json_body(request)
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise SimError(400, "body must be {\"name\": \"New name\"}", "INVALID_JSON")
        sim.rename_campaign(request.path_params["id"], name)
        return JSONResponse({"ok": True})

    async def admin_uploads(request: Request) -> Response:
        return JSONResponse({"uploads": sim.uploaded_assets()})

    async def admin_stats(request: Request) -> Response:
        with state.lock:
            return JSONResponse({"token_requests": sim.token_requests, "sign_ins": dict(state.sign_ins),
                                 "folders": len(state.folders),
                                 "assets": len(state.assets), "uploads": len(state.uploads)})

    # -- errors ----------------------------------------------------------------------------
    async def on_sim_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SimError)
        headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if exc.status == 401 else None
        return _error(exc.status, exc.message, exc.error_code, headers)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            message = f"No resource at {request.method} {request.url.path}"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        else:
            message = str(exc.detail)
        return _error(exc.status_code, message, headers=dict(exc.headers or {}))

    async def on_crash(request: Request, exc: Exception) -> Response:
        return _error(500, f"simulator error: {type(exc).__name__}: {exc}")

    routes = [
        Route("/otdsws/oauth2/token", oauth_token, methods=["POST"]),
        Route(f"{API}/sessions", create_session, methods=["POST"]),
        Route(f"{API}/sessions", get_session, methods=["GET"]),
        Route(f"{API}/sessions", delete_session, methods=["DELETE"]),
        Route(f"{API}/sessions/oauth2/token", otmm_token, methods=["POST"]),
        Route(f"{API}/folders/rootfolders", root_folders, methods=["GET"]),
        Route(f"{API}/folders/{{id}}", get_folder, methods=["GET"]),
        Route(f"{API}/folders/{{id}}", patch_folder, methods=["PATCH"]),
        Route(f"{API}/folders/{{id}}/folders", sub_folders, methods=["GET"]),
        Route(f"{API}/folders/{{id}}/children", children, methods=["GET"]),
        Route(f"{API}/search/text", search_text, methods=["GET", "POST"]),
        Route(f"{API}/assets", create_asset, methods=["POST"]),
        Route(f"{API}/assets/{{id}}", get_asset, methods=["GET"]),
        Route(f"{API}/assets/{{id}}", patch_asset, methods=["PATCH"]),
        Route(f"{API}/assets/{{id}}/contents", asset_contents, methods=["GET"]),
        Route(f"{API}/assets/{{id}}/state", asset_state, methods=["PUT"]),
        Route(f"{API}/renditions/{{id}}", rendition, methods=["GET"]),
        Route(f"{API}/jobs/{{job_id}}", get_job, methods=["GET"]),
        Route(f"{API}/jobs/{{job_id}}/assets", job_assets, methods=["GET"]),
        Route("/_sim/otmm/expire-tokens", admin_expire, methods=["POST"]),
        Route("/_sim/otmm/campaigns", admin_campaigns, methods=["GET"]),
        Route("/_sim/otmm/campaigns/{id}/status", admin_set_status, methods=["POST", "PUT"]),
        Route("/_sim/otmm/campaigns/{id}/name", admin_rename, methods=["POST", "PUT"]),
        Route("/_sim/otmm/uploads", admin_uploads, methods=["GET"]),
        Route("/_sim/otmm/stats", admin_stats, methods=["GET"]),
    ]
    return Starlette(routes=routes, exception_handlers={SimError: on_sim_error, HTTPException: on_http_error,
                                                        Exception: on_crash})


def _store(source: Any, target: Path) -> tuple[int, str]:
    """Copy an uploaded (spooled) file to ``target`` in chunks; returns (size, sha1)."""
    digest = hashlib.sha1()
    size = 0
    source.seek(0)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as out:
        while True:
            chunk = source.read(CHUNK)
            if not chunk:
                break
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


__all__ = ["build_app", "content_type_of", "otmm_error_body"]
