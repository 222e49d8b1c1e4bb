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

from domain.tracking_ids import ALPHABET, LENGTH, canonical_tracking_id

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
    pattern = _pattern(convention)
    # Tracking IDs are matched as people type them: the alphabet has no look-alikes, so a
    # lower-case ID can only mean the upper-case one.
    match = pattern.match(normalised) or pattern.match(_tracking_id_upper_cased(normalised))
    if not match:
        raise FileNameError(explain_bad_name(normalised))
    parts = {k: v.strip() for k, v in match.groupdict().items()}
    if not parts["description"]:
        raise FileNameError("the description part is empty")
    parts["tracking_id"] = parts["tracking_id"].upper()
    return ReturnedFileName(**parts)


CONVENTION = "<tracking ID>_<description>_<language>_<state>.<extension> (e.g. K7M2QX_Hero banner_it-IT_Lazio.jpg)"
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z]{2,4})?$")
_EXTENSION = re.compile(r"^[A-Za-z0-9]{1,10}$")


def _tracking_id_upper_cased(name: str) -> str:
    head, sep, rest = name.partition("_")
    upper = canonical_tracking_id(head)
    return f"{upper}{sep}{rest}" if sep and upper else name


def explain_bad_name(name: str) -> str:
    """Exactly what keeps ``name`` from following the convention, part by part (for people)."""
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        return f"the name has no extension (such as .jpg); expected {CONVENTION}"
    if not _EXTENSION.match(extension):
        return f"the extension {extension!r} is not a file extension (letters and digits, at most 10)"
    parts = stem.split("_")
    if len(parts) < 4:
        return (f"the name has {len(parts)} part(s) separated by '_', it needs at least 4: {CONVENTION}")
    tracking_id, language, state = parts[0], parts[-2], parts[-1]
    if len(tracking_id) != LENGTH:
        return (f"the first part {tracking_id!r} is not a tracking ID: a tracking ID has {LENGTH} characters "
                f"(e.g. K7M2QX); expected {CONVENTION}")
    wrong = sorted({ch for ch in tracking_id.upper() if ch not in ALPHABET})
    if wrong:
        return (f"the tracking ID {tracking_id!r} contains {', '.join(repr(c) for c in wrong)}, which tracking IDs "
                "never contain (they use the digits 2-9 and the letters A-Z except I, L and O)")
    if not "_".join(parts[1:-2]).strip():
        return "the description part is empty"
    if not _LANGUAGE.match(language):
        return f"the language part {language!r} is not a language code such as it-IT or fr"
    if not state.strip():
        return "the state part is empty"
    return f"the name does not follow {CONVENTION}"
