"""One live client per process and configuration.

Prefect hands tasks copies of block objects, so a client cached on the instance would be
rebuilt for every task. Clients here are thread-safe and are shared by every task of the
process that uses the same block values (secrets included in the key, kept only in memory).

The clients are closed when the process ends (``atexit``), which is where a client signs out
(an OTMM session is deleted). Not at the end of each flow run: a worker runs every flow run in
a process of its own, so process end *is* the end of the run; under ``prefect serve`` (and in
tests) runs share the process and may overlap, and closing a client one run still uses would
break that run. A session left open between runs ends by the DAM's inactivity timeout, and a
client whose session has ended signs in again on the 401.
"""

from __future__ import annotations

import atexit
import hashlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from prefect.blocks.core import Block
from pydantic import SecretBytes, SecretStr

T = TypeVar("T")
_clients: dict[str, Any] = {}
_lock = threading.Lock()


def cached_client(block: Block, build: Callable[[], T]) -> T:
    """The live client of ``block``'s values, built once per process by ``build``."""
    key = _identity(block)
    with _lock:
        if key not in _clients:
            _clients[key] = build()
        return _clients[key]


def _identity(block: Block) -> str:
    """A digest of the block's field values (secrets included). Read field by field: a Block's
    ``model_dump`` costs ~35 ms, which every task paid when this ran per asset."""
    values = []
    for name in type(block).model_fields:
        value = getattr(block, name)
        if isinstance(value, SecretStr | SecretBytes):
            value = value.get_secret_value()
        values.append(f"{name}={value!r}")
    return type(block).__name__ + hashlib.sha256("\n".join(values).encode()).hexdigest()


def clear_cached_clients() -> None:
    """Close and forget every live client (at process exit; tests that restart a simulator call it too)."""
    with _lock:
        for client in _clients.values():
            close = getattr(client, "close", None)
            if callable(close):
                try:
                    close()
                except Exception:  # noqa: BLE001 - closing is best effort
                    pass
        _clients.clear()


atexit.register(clear_cached_clients)


def ca_bundle_file(pem: str | None) -> str | None:
    """Write the (public) CA bundle to a file once per content; ssl wants a path."""
    if not pem:
        return None
    import hashlib
    import tempfile
    from pathlib import Path

    path = Path(tempfile.gettempdir()) / f"content-scaling-ca-{hashlib.sha256(pem.encode()).hexdigest()[:16]}.pem"
    if not path.exists():
        path.write_text(pem)
    return str(path)
