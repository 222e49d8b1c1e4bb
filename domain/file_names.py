"""Parsing the names of localised files that agencies return through Box (A2→A3).

The convention lives in ``config/file_names.toml``; a name that does not follow it is not an
error of the run: the file stays in Box and is reported with the reason.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel

DEFAULT_CONVENTION_FILE = Path(__file__).resolve().parent.parent / "config" / "file_names.toml"
MAX_NAME_LENGTH = 255


class ReturnedFileName(BaseModel):
    """What a well-formed agency file name carries."""

    tracking_id: str
    description: str
    language: str
    state: str
    extension: str


class FileNameError(ValueError):
    """The reason a file name cannot be used (shown to people in the run artifact and email)."""


@lru_cache(maxsize=4)
def _pattern(path: Path | None = None) -> re.Pattern[str]:
    with open(path or DEFAULT_CONVENTION_FILE, "rb") as fh:
        pattern = re.compile(tomllib.load(fh)["pattern"])
    missing = {"tracking_id", "description", "language", "state", "extension"} - set(pattern.groupindex)
    if missing:
        raise ValueError(f"file-name pattern lacks the groups {sorted(missing)}")
    return pattern


def parse_returned_file_name(name: str, convention: Path | None = None) -> ReturnedFileName:
    """Split an agency file name into its parts, or raise :class:`FileNameError` saying why not."""
    if not name or not name.strip():
        raise FileNameError("the file name is empty")
    if len(name) > MAX_NAME_LENGTH:
        raise FileNameError(f"the file name is {len(name)} characters long (at most {MAX_NAME_LENGTH})")
    if any(unicodedata.category(ch)[0] == "C" for ch in name):
        raise FileNameError("the file name contains control characters")
    if "/" in name or "\\" in name or name.startswith("."):
        raise FileNameError("the file name contains a path")
    normalised = unicodedata.normalize("NFC", name)
    match = _pattern(convention).match(normalised)
    if not match:
        raise FileNameError(
            "the name does not follow <tracking ID>_<description>_<language>_<state>.<extension> "
            "(e.g. K7M2QX_Hero banner_it-IT_Lazio.jpg)"
        )
    parts = {k: v.strip() for k, v in match.groupdict().items()}
    if not parts["description"]:
        raise FileNameError("the description part is empty")
    return ReturnedFileName(**parts)
