"""The Box simulator's data: folders and files in memory, file bytes on disk.

Layout under ``storage_dir``::

    files/<file_id>        the current content of each file (replaced atomically on a new version)
    tmp/                   uploads in flight (same file system, so moving a finished upload is a rename)
    sessions/<id>/<offset> parts of chunked upload sessions
    state.json             folders and file metadata, rewritten after every change (``persist=True``),
                           so a restarted simulator (the demo) keeps what was uploaded

Names are unique per folder, compared case-insensitively (``str.casefold``), across files and
folders, as on Box. Every public method takes the state's lock, so the app's event-loop thread,
worker threads and the test thread can all use it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

ROOT_ID = "0"
ROOT_NAME = "All Files"
MAX_NAME_LENGTH = 255
COPY_CHUNK = 1024 * 1024
SERVICE_ACCOUNT = {"type": "user", "id": "31337", "name": "Content Scaling Service Account",
                   "login": "AutomationUser_31337@boxdevedition.com"}


class BoxError(Exception):
    """An error the API answers with Box's JSON error body."""

    def __init__(self, status: int, code: str, message: str, context_info: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.context_info = context_info or {}
        self.headers = headers or {}


def iso(epoch: float) -> str:
    """Box timestamps: ISO 8601 with an explicit offset, no fractions."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(epoch))


def now_iso() -> str:
    return iso(time.time())


@dataclass
class Item:
    """A folder or a file (``type``), as Box describes it."""

    id: str
    type: str  # "folder" | "file"
    name: str
    parent_id: str | None
    created_at: str = field(default_factory=now_iso)
    modified_at: str = ""
    content_created_at: str | None = None
    content_modified_at: str | None = None
    size: int = 0
    sha1: str = ""
    version: int = 0  # etag / sequence_id; +1 on every change
    version_id: str = ""

    def __post_init__(self) -> None:
        self.modified_at = self.modified_at or self.created_at


def check_name(name: Any) -> str:
    """Box's name rules: 400 ``item_name_invalid`` (or ``item_name_too_long`` above 255 characters)."""
    if not isinstance(name, str) or not name:
        raise BoxError(400, "bad_request", "'name' is required and must be a non-empty string")
    if len(name) > MAX_NAME_LENGTH:
        raise BoxError(400, "item_name_too_long", f"Item name too long ({len(name)} > {MAX_NAME_LENGTH} characters)")
    if (name in (".", "..") or "/" in name or "\\" in name or name != name.strip(" ")
            or any(ord(ch) < 32 or ord(ch) == 127 for ch in name)):
        raise BoxError(400, "item_name_invalid", f"Item name invalid: {name!r}")
    return name


def mini(item: Item) -> dict[str, Any]:
    """The mini representation (folder: type/id/etag/sequence_id/name; file: + sha1, file_version)."""
    root = item.id == ROOT_ID
    out: dict[str, Any] = {"type": item.type, "id": item.id,
                           "sequence_id": None if root else str(item.version),
                           "etag": None if root else str(item.version), "name": item.name}
    if item.type == "file":
        out["sha1"] = item.sha1
        out["file_version"] = {"type": "file_version", "id": item.version_id, "sha1": item.sha1}
    return out


class HashingWriter:
    """Writes to a file while computing SHA-1 and counting bytes (never holds the content)."""

    def __init__(self, path: Path, limit: int | None = None) -> None:
        self.path = path
        self.limit = limit
        self.digest = hashlib.sha1()
        self.size = 0
        self.overflow = False
        self._fh: BinaryIO | None = open(path, "wb")  # noqa: SIM115 - closed in close()

    def write(self, data: bytes | memoryview) -> None:
        self.size += len(data)
        if self.limit is not None and self.size > self.limit:
            self.overflow = True  # keep counting (the body is drained) but stop storing
        if self.overflow or self._fh is None:
            return
        self.digest.update(data)
        self._fh.write(data)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def discard(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)

    @property
    def sha1(self) -> str:
        return self.digest.hexdigest()


class BoxState:
    """Thread-safe folder tree and file registry. The root folder is ``0`` ("All Files")."""

    def __init__(self, storage_dir: Path, persist: bool = True) -> None:
        self.storage = Path(storage_dir)
        self.files_dir = self.storage / "files"
        self.tmp_dir = self.storage / "tmp"
        self.sessions_dir = self.storage / "sessions"
        for d in (self.tmp_dir, self.sessions_dir):  # leftovers of a previous run (sessions are not kept)
            shutil.rmtree(d, ignore_errors=True)
        for d in (self.files_dir, self.tmp_dir, self.sessions_dir):
            d.mkdir(parents=True, exist_ok=True)
        self.persist = persist
        self.state_file = self.storage / "state.json"
        self.lock = threading.RLock()
        self.items: dict[str, Item] = {ROOT_ID: Item(ROOT_ID, "folder", ROOT_NAME, None, created_at="")}
        self.children_index: dict[str, dict[str, str]] = {ROOT_ID: {}}  # folder id -> casefold name -> id
        self._next_id = 1000
        self._flush_timer: threading.Timer | None = None
        # Called with every new file once it is stored (not for new versions): webhook deliveries.
        self.on_new_file: list[Callable[[Item], None]] = []
        self._load()

    # -- persistence ----------------------------------------------------------------------
    def _load(self) -> None:
        if not (self.persist and self.state_file.exists()):
            return
        data = json.loads(self.state_file.read_text())
        for raw in data.get("items", []):
            item = Item(**raw)
            if item.type == "file" and not self.file_path(item.id).exists():
                continue
            self.items[item.id] = item
            if item.type == "folder":
                self.children_index.setdefault(item.id, {})
        for item in self.items.values():
            if item.parent_id is not None:
                self.children_index.setdefault(item.parent_id, {})[item.name.casefold()] = item.id
        self._next_id = int(data.get("next_id", 1000))

    def _save(self) -> None:
        """Schedule a write of ``state.json`` 0.2 s from now (changes in between share that write)."""
        if not self.persist:
            return
        with self.lock:
            if self._flush_timer is None:
                self._flush_timer = threading.Timer(0.2, self.flush)
                self._flush_timer.daemon = True
                self._flush_timer.start()

    def flush(self) -> None:
        """Write ``state.json`` now, atomically."""
        if not self.persist:
            return
        with self.lock:
            self._flush_timer = None
            payload = {"next_id": self._next_id,
                       "items": [asdict(i) for i in self.items.values() if i.id != ROOT_ID]}
            tmp = self.state_file.with_suffix(".json.tmp")
            try:
                tmp.write_text(json.dumps(payload))
                tmp.replace(self.state_file)
            except OSError:  # storage removed under us (a finished test): nothing left to keep
                pass

    # -- lookups --------------------------------------------------------------------------
    def new_id(self) -> str:
        with self.lock:
            self._next_id += 1
            return str(self._next_id - 1)

    def get(self, item_id: str, kind: str) -> Item:
        """The item, or 404 ``not_found`` (also when it is of the other kind)."""
        with self.lock:
            item = self.items.get(str(item_id))
        if item is None or item.type != kind:
            raise BoxError(404, "not_found", f"Could not find the specified resource ({kind} {item_id})")
        return item

    def children(self, folder_id: str) -> list[Item]:
        """Folders first, then files; each by name (case-insensitive), then id."""
        with self.lock:
            kids = [self.items[i] for i in self.children_index.get(folder_id, {}).values()]
        return sorted(kids, key=sort_key)

    def conflict(self, parent_id: str, name: str) -> Item | None:
        with self.lock:
            found = self.children_index.get(parent_id, {}).get(name.casefold())
            return self.items.get(found) if found else None

    def path_of(self, item: Item) -> list[Item]:
        """Ancestors from the root down to the parent (the ``path_collection``)."""
        chain: list[Item] = []
        with self.lock:
            parent = item.parent_id
            while parent is not None and parent in self.items:
                p = self.items[parent]
                chain.append(p)
                parent = p.parent_id
        return list(reversed(chain))

    def relative_path(self, item: Item) -> str:
        """``a/b/c.jpg`` from the root (the root itself is not named)."""
        return "/".join([p.name for p in self.path_of(item) if p.id != ROOT_ID] + [item.name])

    def folder_size(self, folder_id: str) -> int:
        with self.lock:
            total, pending = 0, [folder_id]
            while pending:
                for kid_id in self.children_index.get(pending.pop(), {}).values():
                    kid = self.items[kid_id]
                    if kid.type == "file":
                        total += kid.size
                    else:
                        pending.append(kid.id)
            return total

    def file_path(self, file_id: str) -> Path:
        return self.files_dir / str(file_id)

    def snapshot(self, kind: str) -> list[Item]:
        with self.lock:
            return [i for i in self.items.values() if i.type == kind and i.id != ROOT_ID]

    # -- changes --------------------------------------------------------------------------
    def _conflict_error(self, existing: Item, as_list: bool) -> BoxError:
        m = mini(existing)
        return BoxError(409, "item_name_in_use", "Item with the same name already exists",
                        {"conflicts": [m] if as_list else m})

    def check_new(self, parent_id: str, name: str, *, as_list: bool = False) -> None:
        """Validate a new item: name rules, parent exists, no name clash (409)."""
        check_name(name)
        with self.lock:
            self.get(parent_id, "folder")
            if existing := self.conflict(parent_id, name):
                raise self._conflict_error(existing, as_list)

    def _link(self, item: Item) -> None:
        self.items[item.id] = item
        assert item.parent_id is not None
        self.children_index.setdefault(item.parent_id, {})[item.name.casefold()] = item.id
        if item.type == "folder":
            self.children_index.setdefault(item.id, {})

    def create_folder(self, parent_id: str, name: str) -> Item:
        """A new folder, or 409 with ``conflicts`` as a list (Box's folder form)."""
        with self.lock:
            self.check_new(parent_id, name, as_list=True)
            item = Item(self.new_id(), "folder", name, parent_id)
            self._link(item)
            self._save()
            return item

    def ensure_folder_path(self, parent_id: str, parts: Iterable[str]) -> str:
        """The folder at ``parent/parts...``, created as needed (seeding helper)."""
        with self.lock:
            for part in parts:
                existing = self.conflict(parent_id, part)
                if existing is not None and existing.type != "folder":
                    raise self._conflict_error(existing, as_list=True)
                parent_id = existing.id if existing else self.create_folder(parent_id, part).id
            return parent_id

    def _changeable(self, item_id: str, kind: str, if_match: str | None, verb: str) -> Item:
        """The item, unless it is the root (403) or ``if-match`` names another version (412)."""
        item = self.get(item_id, kind)
        if item.id == ROOT_ID:
            raise BoxError(403, "access_denied_insufficient_permissions", f"The root folder cannot be {verb}")
        if if_match and if_match != str(item.version):
            raise BoxError(412, "precondition_failed",
                           "The resource has been modified. Retrieve the resource again and retry")
        return item

    def update(self, item_id: str, kind: str, name: str | None = None, parent_id: str | None = None,
               if_match: str | None = None) -> Item:
        """Rename and/or move an item (``PUT /folders/:id``, ``PUT /files/:id``).

        Box's rules (developer.box.com reference put-files-id / put-folders-id): the name rules
        apply, a clash in the target folder is 409 ``item_name_in_use`` (folders: ``conflicts`` as
        a list), ``if-match`` mismatch is 412, and a folder cannot move into itself or below it.
        """
        with self.lock:
            item = self._changeable(item_id, kind, if_match, "changed")
            new_name = item.name if name is None else check_name(name)
            new_parent = item.parent_id if parent_id is None else str(parent_id)
            self.get(str(new_parent), "folder")
            if kind == "folder" and any(p.id == item.id for p in [*self.path_of(self.items[str(new_parent)]),
                                                                   self.items[str(new_parent)]]):
                raise BoxError(400, "bad_request", "A folder cannot be moved into itself or one of its sub-folders")
            clash = self.conflict(str(new_parent), new_name)
            if clash is not None and clash.id != item.id:
                raise self._conflict_error(clash, as_list=kind == "folder")
            assert item.parent_id is not None
            self.children_index.get(item.parent_id, {}).pop(item.name.casefold(), None)
            item.name, item.parent_id = new_name, str(new_parent)
            self.children_index.setdefault(item.parent_id, {})[item.name.casefold()] = item.id
            item.version += 1
            item.modified_at = now_iso()
            self._save()
            return item

    def new_upload_path(self) -> Path:
        return self.tmp_dir / f"{uuid.uuid4().hex}.part"

    def commit_file(self, parent_id: str, name: str, tmp: Path, size: int, sha1: str, *,
                    replace_id: str | None = None, content_created_at: str | None = None,
                    content_modified_at: str | None = None) -> Item:
        """Register an upload already on disk at ``tmp`` (moved, never copied).

        New files get the name checks (409 with ``conflicts`` as one object, Box's file form);
        ``replace_id`` makes it a new version of that file (renamed when ``name`` differs).
        """
        try:
            with self.lock:
                if replace_id is None:
                    self.check_new(parent_id, name)
                    item = Item(self.new_id(), "file", name, parent_id, content_created_at=content_created_at,
                                content_modified_at=content_modified_at or content_created_at)
                else:
                    item = self.get(replace_id, "file")
                    if name and name.casefold() != item.name.casefold():
                        self.check_new(str(item.parent_id), name)
                    if name and name != item.name:
                        self.children_index[str(item.parent_id)].pop(item.name.casefold(), None)
                        item.name = name
                    item.version += 1
                    item.modified_at = now_iso()
                    item.content_modified_at = content_modified_at or item.modified_at
                item.size, item.sha1, item.version_id = size, sha1, self.new_id()
                os.replace(tmp, self.file_path(item.id))
                self._link(item)
                self._save()
            if replace_id is None:
                for observer in list(self.on_new_file):
                    observer(item)
            return item
        finally:
            tmp.unlink(missing_ok=True)

    def store_file(self, parent_id: str, name: str, source: bytes | Path | BinaryIO, *,
                   replace_id: str | None = None, content_created_at: str | None = None) -> Item:
        """Copy ``source`` to disk (streamed, hashing), then register it (seeding helper)."""
        if replace_id is None:
            self.check_new(parent_id, name)  # fail before copying anything
        tmp = self.new_upload_path()
        writer = HashingWriter(tmp)
        if isinstance(source, bytes):
            source = io.BytesIO(source)
        src: BinaryIO = open(source, "rb") if isinstance(source, Path) else source  # noqa: SIM115
        try:
            while chunk := src.read(COPY_CHUNK):
                writer.write(chunk)
        except BaseException:
            writer.discard()
            raise
        finally:
            writer.close()
            if isinstance(source, Path):
                src.close()
        return self.commit_file(parent_id, name, tmp, writer.size, writer.sha1, replace_id=replace_id,
                                content_created_at=content_created_at)

    def delete(self, item_id: str, kind: str, recursive: bool = False, if_match: str | None = None) -> None:
        """Delete a file, or a folder (400 ``folder_not_empty`` unless ``recursive``)."""
        with self.lock:
            item = self._changeable(item_id, kind, if_match, "deleted")
            if kind == "folder" and self.children_index.get(item.id) and not recursive:
                raise BoxError(400, "folder_not_empty", "Cannot delete – folder not empty")
            self._unlink(item)
            self._save()

    def _unlink(self, item: Item) -> None:
        for kid_id in list(self.children_index.get(item.id, {}).values()):
            self._unlink(self.items[kid_id])
        self.children_index.pop(item.id, None)
        if item.parent_id is not None:
            self.children_index.get(item.parent_id, {}).pop(item.name.casefold(), None)
        del self.items[item.id]
        if item.type == "file":
            self.file_path(item.id).unlink(missing_ok=True)


def sort_key(item: Item) -> tuple[int, str, int]:
    """Box's default order: folders, then files; by name; ties by id."""
    return (0 if item.type == "folder" else 1, item.name.casefold(), int(item.id))


def service_user() -> dict[str, Any]:
    return dict(SERVICE_ACCOUNT)
