"""The Box simulator's data: folders and files in memory, file bytes on disk."""

from __future__ import annotations

import hashlib
import itertools
import shutil
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO


class BoxError(Exception):
    """An error the API answers with Box's JSON error body."""

    def __init__(self, status: int, code: str, message: str, context_info: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.context_info = status, code, message, context_info or {}


@dataclass
class Item:
    id: str
    type: str  # "folder" | "file"
    name: str
    parent_id: str | None
    created_at: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    size: int = 0
    sha1: str = ""
    version: int = 1


def check_name(name: str) -> None:
    """Box's name rules (400 item_name_invalid)."""
    bad = (
        not name or name in (".", "..") or "/" in name or "\\" in name or name != name.strip()
        or len(name) > 255 or any(unicodedata.category(ch) == "Cc" for ch in name)
    )
    if bad:
        raise BoxError(400, "item_name_invalid", f"Item name invalid: {name!r}")


class BoxState:
    """Thread-safe store. Root folder is ``0`` ("All Files")."""

    def __init__(self, storage_dir: Path) -> None:
        self.storage = Path(storage_dir)
        (self.storage / "files").mkdir(parents=True, exist_ok=True)
        (self.storage / "parts").mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self.items: dict[str, Item] = {"0": Item("0", "folder", "All Files", None)}
        self._ids = itertools.count(1000)

    def new_id(self) -> str:
        with self.lock:
            return str(next(self._ids))

    def get(self, item_id: str, kind: str) -> Item:
        with self.lock:
            item = self.items.get(item_id)
        if item is None or item.type != kind:
            raise BoxError(404, "not_found", f"Could not find the specified {kind} {item_id}")
        return item

    def children(self, folder_id: str) -> list[Item]:
        with self.lock:
            return sorted((i for i in self.items.values() if i.parent_id == folder_id), key=lambda i: (i.type != "folder", i.name.lower(), int(i.id)))

    def conflict(self, parent_id: str, name: str) -> Item | None:
        folded = name.casefold()
        with self.lock:
            return next((i for i in self.items.values() if i.parent_id == parent_id and i.name.casefold() == folded), None)

    def create_folder(self, parent_id: str, name: str) -> Item:
        check_name(name)
        with self.lock:
            self.get(parent_id, "folder")
            existing = self.conflict(parent_id, name)
            if existing:
                raise BoxError(409, "item_name_in_use", "Item with the same name already exists",
                               {"conflicts": [mini(existing)]})
            item = Item(self.new_id(), "folder", name, parent_id)
            self.items[item.id] = item
            return item

    def file_path(self, file_id: str) -> Path:
        return self.storage / "files" / file_id

    def store_file(self, parent_id: str, name: str, source: BinaryIO | Path, *, replace_id: str | None = None,
                   expected_sha1: str | None = None) -> Item:
        """Copy ``source`` to disk (streamed, hashing), then register it (name checked twice: before and after)."""
        check_name(name)
        with self.lock:
            self.get(parent_id, "folder")
            if replace_id is None and (existing := self.conflict(parent_id, name)):
                raise BoxError(409, "item_name_in_use", "Item with the same name already exists",
                               {"conflicts": mini(existing)})
        file_id = replace_id or self.new_id()
        tmp = self.storage / "files" / f".{file_id}.{threading.get_ident()}.tmp"
        digest, size = hashlib.sha1(), 0
        src = open(source, "rb") if isinstance(source, Path) else source  # noqa: SIM115
        try:
            with open(tmp, "wb") as out:
                while chunk := src.read(1024 * 1024):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
        finally:
            if isinstance(source, Path):
                src.close()
        if expected_sha1 and expected_sha1.lower() != digest.hexdigest():
            tmp.unlink(missing_ok=True)
            raise BoxError(400, "sha1_mismatch", "The SHA-1 of the content does not match the content-md5 header")
        with self.lock:
            if replace_id is None and (existing := self.conflict(parent_id, name)):
                tmp.unlink(missing_ok=True)
                raise BoxError(409, "item_name_in_use", "Item with the same name already exists",
                               {"conflicts": mini(existing)})
            tmp.replace(self.file_path(file_id))
            if replace_id:
                item = self.get(replace_id, "file")
                item.size, item.sha1, item.version = size, digest.hexdigest(), item.version + 1
            else:
                item = Item(file_id, "file", name, parent_id, size=size, sha1=digest.hexdigest())
                self.items[file_id] = item
            return item

    def delete(self, item_id: str, kind: str, recursive: bool = False) -> None:
        with self.lock:
            item = self.get(item_id, kind)
            kids = self.children(item_id)
            if kids and not recursive:
                raise BoxError(400, "folder_not_empty", "Folder is not empty")
            for kid in kids:
                self.delete(kid.id, kid.type, recursive=True)
            del self.items[item.id]
            if kind == "file":
                self.file_path(item_id).unlink(missing_ok=True)

    def path_of(self, item: Item) -> list[Item]:
        """Ancestors from the root (excluded) down to the parent."""
        chain: list[Item] = []
        with self.lock:
            parent = item.parent_id
            while parent is not None:
                p = self.items[parent]
                chain.append(p)
                parent = p.parent_id
        return list(reversed(chain))

    def relative_path(self, item: Item) -> str:
        return "/".join([p.name for p in self.path_of(item) if p.id != "0"] + [item.name])

    def reset_storage(self) -> None:
        shutil.rmtree(self.storage / "parts", ignore_errors=True)
        (self.storage / "parts").mkdir(parents=True, exist_ok=True)


def mini(item: Item) -> dict[str, Any]:
    out: dict[str, Any] = {"type": item.type, "id": item.id, "name": item.name, "etag": str(item.version - 1),
                           "sequence_id": str(item.version - 1)}
    if item.type == "file":
        out.update(sha1=item.sha1, size=item.size, file_version={"type": "file_version", "id": f"v{item.id}",
                                                                  "sha1": item.sha1})
    return out
