"""An embedded PostgreSQL (the ``pgserver`` wheel) for the demo and tests when no DSN is set."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

_servers: dict[Path, object] = {}
_lock = threading.Lock()


def embedded_postgres_dsn(data_dir: Path | str, *, keep_running: bool = True) -> str:
    """Start (or join) the PostgreSQL server whose data lives in ``data_dir``; return its DSN.

    The server listens on a Unix socket inside ``data_dir`` only (no TCP port). With
    ``keep_running`` it outlives this process (stop it with :func:`stop_embedded_postgres`).
    """
    import pgserver  # imported lazily: starting it is only needed without a DSN

    logging.getLogger("pgserver").setLevel(logging.WARNING)
    path = Path(data_dir).resolve()
    with _lock:
        server = _servers.get(path)
        if server is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            server = pgserver.get_server(path, cleanup_mode=None if keep_running else "stop")
            _servers[path] = server
        return server.get_uri()  # type: ignore[attr-defined]


def stop_embedded_postgres(data_dir: Path | str) -> bool:
    """Stop the embedded server of ``data_dir`` if one runs. Returns whether one was stopped."""
    import subprocess

    from pgserver._commands import POSTGRES_BIN_PATH

    path = Path(data_dir).resolve()
    if not (path / "postmaster.pid").exists():
        return False
    cmd = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(path), "-w", "stop", "-m", "fast"]
    try:
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    except subprocess.CalledProcessError:
        # pgserver runs postgres as the 'pgserver' system user when we are root
        subprocess.run(["su", "pgserver", "-s", "/bin/sh", "-c", " ".join(cmd)], check=False,
                       capture_output=True, timeout=60)
    _servers.pop(path, None)
    return True
