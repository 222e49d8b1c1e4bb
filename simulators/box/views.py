"""JSON shapes of Box objects (FolderFull, FileFull, list entries) and the ``fields=`` filter."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from simulators.box.state import ROOT_ID, BoxState, Item, mini, service_user

FILE_MINI_KEYS = ("type", "id", "etag", "sequence_id", "name", "sha1", "file_version")
FOLDER_MINI_KEYS = ("type", "id", "etag", "sequence_id", "name")
HELP_URL = "https://developer.box.com/guides/api-calls/permissions-and-errors/common-errors/"
DEFAULT_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 409: "conflict", 410: "gone", 412: "precondition_failed",
                 413: "request_entity_too_large", 416: "range_not_satisfiable", 429: "rate_limit_exceeded",
                 500: "internal_server_error", 502: "bad_gateway", 503: "unavailable"}


def box_error_body(status: int, message: str, code: str | None = None,
                   context_info: dict[str, Any] | None = None) -> dict[str, Any]:
    """Box's client error object (also used by the shared fault injection)."""
    default = DEFAULT_CODES.get(status, "internal_server_error" if status >= 500 else "bad_request")
    return {"type": "error", "status": status, "code": code or default, "message": message,
            "context_info": context_info or {}, "help_url": HELP_URL, "request_id": secrets.token_hex(8)}


def wanted_fields(raw: str | None) -> set[str] | None:
    """``fields=a,b`` → ``{"a", "b"}``; ``None`` when absent (full representation)."""
    if raw is None:
        return None
    return {f.strip() for f in raw.split(",") if f.strip()}


def select(full: dict[str, Any], fields: set[str] | None, base: Iterable[str]) -> dict[str, Any]:
    """With ``fields=``, Box returns the mini representation plus the requested fields only."""
    if fields is None:
        return full
    keep = set(base) | fields
    return {k: v for k, v in full.items() if k in keep}


def path_collection(state: BoxState, item: Item) -> dict[str, Any]:
    chain = state.path_of(item)
    return {"total_count": len(chain), "entries": [mini(p) for p in chain]}


def file_full(state: BoxState, item: Item) -> dict[str, Any]:
    parent = state.items.get(item.parent_id or "")
    user = service_user()
    return {**mini(item), "size": item.size, "description": "",
            "extension": item.name.rsplit(".", 1)[-1].lower() if "." in item.name else "",
            "version_number": str(item.version + 1),
            "created_at": item.created_at, "modified_at": item.modified_at,
            "content_created_at": item.content_created_at or item.created_at,
            "content_modified_at": item.content_modified_at or item.modified_at,
            "trashed_at": None, "purged_at": None, "shared_link": None,
            "created_by": user, "modified_by": user, "owned_by": user,
            "parent": mini(parent) if parent else None, "path_collection": path_collection(state, item),
            "item_status": "active"}


def entry(state: BoxState, item: Item, fields: set[str] | None) -> dict[str, Any]:
    """A folder-listing entry: mini (+ ``size`` for files) or mini + the requested fields."""
    if fields is None:
        out = mini(item)
        if item.type == "file":
            out["size"] = item.size
        return out
    if item.type == "file":
        return select(file_full(state, item), fields, FILE_MINI_KEYS)
    return select(folder_full(state, item, with_items=False), fields, FOLDER_MINI_KEYS)


def folder_full(state: BoxState, item: Item, *, with_items: bool = True, offset: int = 0, limit: int = 100,
                kids: list[Item] | None = None) -> dict[str, Any]:
    root = item.id == ROOT_ID
    parent = state.items.get(item.parent_id or "")
    user = service_user()
    out: dict[str, Any] = {
        **mini(item), "size": state.folder_size(item.id), "description": "",
        "created_at": item.created_at or None, "modified_at": item.modified_at or None,
        "content_created_at": item.created_at or None, "content_modified_at": item.modified_at or None,
        "trashed_at": None, "purged_at": None, "shared_link": None, "folder_upload_email": None,
        "created_by": user, "modified_by": user, "owned_by": user,
        "parent": mini(parent) if parent else None, "path_collection": path_collection(state, item),
        "item_status": "active", "has_collaborations": False, "is_externally_owned": False,
        "can_non_owners_invite": True, "is_collaboration_restricted_to_enterprise": False,
    }
    if root:
        out["parent"] = None
    if with_items:
        kids = state.children(item.id) if kids is None else kids
        out["item_collection"] = {"total_count": len(kids), "entries": [mini(k) for k in kids[offset:offset + limit]],
                                  "offset": offset, "limit": limit,
                                  "order": [{"by": "type", "direction": "ASC"}, {"by": "name", "direction": "ASC"}]}
    return out
