"""Running the parts (simulators, a Prefect server…) as child processes, for the demo and the
benchmark: start one with its output in a log file, read the base URL it prints, wait until
it answers."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import httpx


def spawn(cmd: list[str], log_path: Path, env: dict[str, str], cwd: Path) -> subprocess.Popen:
    """Start ``cmd`` in its own session (so it can be stopped with its children), output to ``log_path``."""
    log = open(log_path, "wb")  # noqa: SIM115 - the child owns it
    return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)


def read_base_url(log_path: Path, schemes: tuple[str, ...] = ("http://", "https://"), timeout: float = 60,
                  proc: subprocess.Popen | None = None) -> str:
    """The base URL a simulator prints as the last word of a line of its log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace") if log_path.exists() else ""
        for line in text.splitlines():
            word = line.strip().split()[-1] if line.strip() else ""
            if word.startswith(schemes):
                return word
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.1)
    tail = log_path.read_text(errors="replace")[-2000:] if log_path.exists() else ""
    raise RuntimeError(f"{log_path.stem} did not start (see {log_path}): {tail}")


def wait_healthy(url: str, name: str, timeout: float) -> None:
    """Wait until ``url`` answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{name} did not become healthy at {url}")


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
