"""What every simulator shares: fault injection, a request log, and a real HTTP(S) server.

Fault injection is driven over HTTP so a test (or the demo, or a benchmark) can change a
running simulator from another process:

    POST   /_sim/faults    {"path": "^/otmmapi/v6/assets/.*/contents$", "method": "GET",
                            "kind": "status", "status": 503, "count": 2}
    DELETE /_sim/faults    clear every rule
    GET    /_sim/requests  the request log (method, path, status, selected headers)
    DELETE /_sim/requests  clear the log

Rule kinds:
    status       answer with ``status`` (and ``Retry-After: retry_after`` when set; 429 always has one)
    latency      sleep ``seconds`` before handling the request (stacks with other rules)
    drop         let the response start, then drop the connection after ``after_bytes`` body bytes
    hang         sleep ``seconds`` and then drop the connection without any response (client timeouts)
    barrier      hold each matching request until ``parties`` of them are waiting (at most ``seconds``,
                 default 30), then let them all go: lines up two clients, e.g. two overlapping runs
    resize       answer with a body ``size_delta`` bytes shorter (< 0) or longer (> 0) than the real one,
                 with a ``Content-Length`` that matches it and a clean end: a server whose answer
                 disagrees with what it declared elsewhere (an OTMM ``contents`` answer shorter than
                 the asset's ``content_size``, a Box download longer than the file's ``size``)

``count`` is how many matching requests the rule affects (``-1`` = until cleared);
``probability`` (0..1, default 1) makes a rule hit only that share of matching requests, with
a seeded random generator (``seed``) so runs are reproducible. ``bandwidth`` (bytes/s per
stream) on a ``latency`` rule throttles response bodies.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import socket
import ssl
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from pydantic import BaseModel, Field

ASGIApp = Callable[[dict, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]]
ErrorBody = Callable[[int, str], dict]


class FaultRule(BaseModel):
    """One fault-injection rule, as posted to ``/_sim/faults``."""

    path: str = Field(".*", description="Regular expression matched (re.search) against the URL path.")
    method: str | None = Field(None, description="HTTP method to match; any when empty.")
    kind: str = Field("status", description="status | latency | drop | hang | barrier | resize.")
    parties: int = Field(2, description="Requests a barrier rule waits for before releasing them all.")
    status: int = 503
    retry_after: int | None = None
    seconds: float = 0.0
    after_bytes: int = 0
    bandwidth: int | None = Field(None, description="Bytes per second per response body (latency rules).")
    size_delta: int = Field(0, description="Bytes removed (< 0) from or added (> 0) to the body (resize rules).")
    count: int = -1
    probability: float = 1.0
    seed: int | None = None


@dataclass
class _ActiveRule:
    rule: FaultRule
    pattern: re.Pattern[str]
    remaining: int
    rng: random.Random


@dataclass
class FaultInjector:
    """Thread-safe store of fault rules and of the request log."""

    rules: list[_ActiveRule] = field(default_factory=list)
    log: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # In-process observers (tests): called with (log entry, "request" | "response") when a request
    # arrives (before any fault) and when its response has been sent; an exception raised on
    # "request" drops the connection without handling it.
    observers: list[Callable[[dict[str, Any], str], None]] = field(default_factory=list)

    def add(self, rule: FaultRule) -> None:
        with self.lock:
            self.rules.append(
                _ActiveRule(rule, re.compile(rule.path), rule.count, random.Random(rule.seed))
            )

    def clear(self) -> None:
        with self.lock:
            self.rules.clear()

    def matching(self, method: str, path: str) -> list[FaultRule]:
        """Rules that fire for this request (consuming their counts)."""
        fired: list[FaultRule] = []
        with self.lock:
            for active in self.rules:
                rule = active.rule
                if rule.method and rule.method.upper() != method.upper():
                    continue
                if not active.pattern.search(path) or active.remaining == 0:
                    continue
                if rule.probability < 1.0 and active.rng.random() >= rule.probability:
                    continue
                if active.remaining > 0:
                    active.remaining -= 1
                fired.append(rule)
        return fired

    def record(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.log.append(entry)

    def notify(self, entry: dict[str, Any], phase: str) -> None:
        for observer in list(self.observers):
            observer(entry, phase)


_LOGGED_HEADERS = ("authorization", "content-type", "content-length", "digest", "content-range", "as-user")


class SimulatorMiddleware:
    """ASGI middleware: admin routes under ``/_sim``, fault injection, request log."""

    def __init__(self, app: ASGIApp, injector: FaultInjector, error_body: ErrorBody) -> None:
        self.app = app
        self.injector = injector
        self.error_body = error_body
        self._barriers: dict[int, dict[str, Any]] = {}  # barrier rules' state (event-loop thread only)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        method: str = scope["method"]
        if path in ("/_sim/faults", "/_sim/requests"):
            await self._admin(scope, receive, send)
            return
        if path.startswith("/_sim/"):  # simulator-specific admin routes: no faults, no log
            await self.app(scope, receive, send)
            return

        headers = {k.decode().lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        entry: dict[str, Any] = {
            "method": method,
            "path": path,
            "query": scope.get("query_string", b"").decode("latin-1"),
            "headers": {k: v for k, v in headers.items() if k in _LOGGED_HEADERS},
            "time": time.time(),
            "status": None,
        }
        self.injector.record(entry)
        self.injector.notify(entry, "request")

        rules = self.injector.matching(method, path)
        bandwidth: int | None = None
        drop_after: int | None = None
        for rule in rules:
            if rule.kind == "latency":
                if rule.seconds:
                    await asyncio.sleep(rule.seconds)
                if rule.bandwidth:
                    bandwidth = rule.bandwidth
        for rule in rules:
            if rule.kind == "barrier":
                await self._barrier(rule)
        for rule in rules:
            if rule.kind == "hang":
                await asyncio.sleep(rule.seconds)
                entry["status"] = "hang"
                raise ConnectionAbortedError("simulated hang: connection dropped without a response")
            if rule.kind == "status":
                await _drain(receive)
                entry["status"] = rule.status
                await _send_error(send, rule, self.error_body)
                return
            if rule.kind == "drop":
                drop_after = rule.after_bytes
        resize = next((r.size_delta for r in rules if r.kind == "resize" and r.size_delta), 0)

        sent = 0
        resized = _Resizer(resize)

        async def wrapped_send(message: dict) -> None:
            nonlocal sent
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
                if resize:
                    message = resized.start(message)
            if message["type"] == "http.response.body" and resize:
                message = resized.body(message)
            if message["type"] == "http.response.body":
                body: bytes = message.get("body", b"")
                if drop_after is not None and sent + len(body) > drop_after:
                    keep = max(0, drop_after - sent)
                    if keep:
                        await send({"type": "http.response.body", "body": body[:keep], "more_body": True})
                    entry["status"] = "dropped"
                    raise ConnectionResetError("simulated dropped connection mid-body")
                if bandwidth and body:
                    await asyncio.sleep(len(body) / bandwidth)
                sent += len(body)
            await send(message)

        await self.app(scope, receive, wrapped_send)
        self.injector.notify(entry, "response")

    async def _barrier(self, rule: FaultRule) -> None:
        waiting = self._barriers.setdefault(id(rule), {"arrived": 0, "event": asyncio.Event()})
        waiting["arrived"] += 1
        if waiting["arrived"] >= rule.parties:
            waiting["event"].set()
        try:
            await asyncio.wait_for(waiting["event"].wait(), rule.seconds or 30.0)
        except TimeoutError:
            pass

    async def _admin(self, scope: dict, receive: Callable, send: Callable) -> None:
        path, method = scope["path"], scope["method"]
        if path == "/_sim/faults" and method == "POST":
            payload = json.loads(await _read_body(receive) or b"{}")
            for raw in payload if isinstance(payload, list) else [payload]:
                self.injector.add(FaultRule.model_validate(raw))
            await _send_json(send, 201, {"ok": True})
        elif path == "/_sim/faults" and method == "DELETE":
            self.injector.clear()
            await _send_json(send, 200, {"ok": True})
        elif path == "/_sim/requests" and method == "GET":
            with self.injector.lock:
                log = list(self.injector.log)
            await _send_json(send, 200, {"requests": log})
        elif path == "/_sim/requests" and method == "DELETE":
            with self.injector.lock:
                self.injector.log.clear()
            await _send_json(send, 200, {"ok": True})
        else:
            await _send_json(send, 405, {"error": f"{method} not allowed on {path}"})


class _Resizer:
    """Makes a response body ``delta`` bytes shorter (the last bytes never go out) or longer
    (filler bytes after the real ones), with a ``Content-Length`` to match: the answer ends
    cleanly, so only a client that checks it against another declaration notices."""

    def __init__(self, delta: int) -> None:
        self.delta = delta
        self._tail = b""

    def start(self, message: dict) -> dict:
        headers = []
        for key, value in message.get("headers", []):
            if key.lower() == b"content-length":
                value = str(max(0, int(value) + self.delta)).encode()
            headers.append((key, value))
        return {**message, "headers": headers}

    def body(self, message: dict) -> dict:
        data = self._tail + message.get("body", b"")
        last = not message.get("more_body", False)
        if self.delta < 0:
            keep = max(0, len(data) + self.delta)  # hold back the last |delta| bytes until the end
            data, self._tail = data[:keep], data[keep:]
        elif last:
            data += b"\x00" * self.delta
        return {**message, "body": data}


async def _read_body(receive: Callable) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _drain(receive: Callable) -> None:
    """Read (and discard) the request body so the client sees the error, not a reset."""
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body"):
            return


async def _send_json(send: Callable, status: int, payload: Any, extra: list | None = None) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + (extra or [])})
    await send({"type": "http.response.body", "body": body})


async def _send_error(send: Callable, rule: FaultRule, error_body: ErrorBody) -> None:
    extra = []
    retry_after = rule.retry_after if rule.retry_after is not None else (0 if rule.status == 429 else None)
    if retry_after is not None:
        extra.append((b"retry-after", str(int(retry_after)).encode()))
    await _send_json(send, rule.status, error_body(rule.status, "simulated fault"), extra)


@dataclass
class TLSConfig:
    """Server-side TLS: certificate + key, and optionally a CA that client certificates must chain to."""

    certfile: Path
    keyfile: Path
    client_ca: Path | None = None


def bind_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening socket; port 0 picks a free port (read it back with ``getsockname``).

    The protocol number is given on purpose: asyncio sets ``TCP_NODELAY`` on accepted
    connections only when ``sock.proto == IPPROTO_TCP``. Without it, Nagle's algorithm meets the
    client's delayed ACKs and every kept-alive request waited ~40 ms (median 44 ms measured).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(512)
    sock.set_inheritable(True)
    return sock


def uvicorn_config(app: ASGIApp, tls: TLSConfig | None = None) -> uvicorn.Config:
    kwargs: dict[str, Any] = {"log_level": "warning", "access_log": False, "lifespan": "off",
                              "timeout_keep_alive": 30}
    if tls:
        kwargs.update(ssl_certfile=str(tls.certfile), ssl_keyfile=str(tls.keyfile))
        if tls.client_ca:
            kwargs.update(ssl_ca_certs=str(tls.client_ca), ssl_cert_reqs=ssl.CERT_REQUIRED)
    return uvicorn.Config(app, **kwargs)


class ServerThread:
    """Runs an ASGI app on 127.0.0.1 in a background thread (tests and the demo use it).

    Example:
        with ServerThread(app) as server:
            httpx.get(server.base_url + "/...")
    """

    def __init__(self, app: ASGIApp, tls: TLSConfig | None = None, port: int = 0) -> None:
        self.sock = bind_socket(port=port)
        self.port = self.sock.getsockname()[1]
        self.scheme = "https" if tls else "http"
        self.base_url = f"{self.scheme}://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn_config(app, tls))
        self.thread = threading.Thread(target=self._run, daemon=True, name=f"sim-{self.port}")

    def _run(self) -> None:
        asyncio.run(self.server.serve(sockets=[self.sock]))

    def start(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"simulator on port {self.port} did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_forever(app: ASGIApp, port: int, tls: TLSConfig | None, banner: str) -> None:
    """Entry point of ``python -m simulators.<name>``: bind, print the base URL, serve."""
    sock = bind_socket(port=port)
    scheme = "https" if tls else "http"
    print(f"{banner} {scheme}://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    server = uvicorn.Server(uvicorn_config(app, tls))
    asyncio.run(server.serve(sockets=[sock]))
