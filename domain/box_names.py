"""Names of folders and files in Box, built from DAM names.

Box refuses names that contain ``/`` or ``\\``, that are ``.`` or ``..``, that start or end
with a space, that contain non-printable characters, or that are longer than 255 characters.
A campaign name or DAM file name may contain any of these, so every name we send to Box goes
through :func:`box_safe_name` first.
"""

from __future__ import annotations

import unicodedata

MAX_NAME_LENGTH = 255
_FORBIDDEN = {"/": "_", "\\": "_"}


def box_safe_name(name: str, *, fallback: str = "unnamed") -> str:
    """A name Box accepts, as close to ``name`` as possible (extension kept when shortening)."""
    cleaned = "".join(
        _FORBIDDEN.get(ch, ch) for ch in unicodedata.normalize("NFC", name)
        if unicodedata.category(ch)[0] != "C"  # control, format, unassigned: never printable
    ).strip()
    if cleaned in ("", ".", ".."):
        cleaned = fallback
    if len(cleaned) > MAX_NAME_LENGTH:
        stem, dot, ext = cleaned.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            cleaned = stem[: MAX_NAME_LENGTH - len(ext) - 1].rstrip() + "." + ext
        else:
            cleaned = cleaned[:MAX_NAME_LENGTH].rstrip()
    return cleaned


def campaign_folder_name(number: str, name: str, suffix: str = "", prefix: str = "") -> str:
    """``<prefix><number>-<name><suffix>``, e.g. ``C000000078-Spring Launch`` (A1→A2),
    ``MASTERS_C000000078-Spring Launch`` (B1→B2) or ``C000000078-Spring Launch-Revisions`` (A5→A6)."""
    return box_safe_name(f"{prefix}{number}-{name}{suffix}")


def tracked_file_name(tracking_id: str, dam_file_name: str) -> str:
    """The Box file name of a DAM asset: the tracking ID first, so a returning file can be matched.

    The ID is carried once: a DAM name that already starts with it (a localised version back
    from an earlier cycle is called ``K7M2QX_…``) is not prefixed again.
    """
    prefix = f"{tracking_id}_"
    name = dam_file_name
    while name[:len(prefix)].upper() == prefix.upper():
        name = name[len(prefix):]
    return box_safe_name(f"{prefix}{name}")
