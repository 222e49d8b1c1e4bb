"""Tracking IDs: 6 characters that travel in Box file names so a returning file can be matched.

The alphabet leaves out characters people confuse when they retype a file name (0/O, 1/I/L),
so 31**6 ≈ 887 million IDs; uniqueness is enforced by the tracking database.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 6
_PATTERN = re.compile(rf"^[{ALPHABET}]{{{LENGTH}}}$")


def new_tracking_id() -> str:
    """A random candidate; the database decides whether it is free."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def is_tracking_id(text: str) -> bool:
    return bool(_PATTERN.match(text))


def canonical_tracking_id(text: str) -> str | None:
    """``text`` as a tracking ID whatever its case (``k7m2qx`` → ``K7M2QX``), or None when it is not one."""
    upper = text.strip().upper()
    return upper if is_tracking_id(upper) and len(text.strip()) == LENGTH else None
