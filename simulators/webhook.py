"""A status-webhook receiver for tests and the demo (``python -m simulators.webhook``): keeps every JSON POST.

``GET /_sim/webhook/received`` lists what arrived; faults come from ``simulators.common``.
"""

from __future__ import annotations

import argparse
import threading
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from simulators.common import FaultInjector, SimulatorMiddleware, serve_forever


class WebhookReceiver:
    """Records the JSON bodies posted to ``/hooks/{name}``."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.injector = FaultInjector()

        async def receive(request: Request) -> JSONResponse:
            body = await request.json()
            with self._lock:
                self.received.append({"hook": request.path_params["name"], "body": body})
            return JSONResponse({"ok": True})

        async def listing(request: Request) -> JSONResponse:
            with self._lock:
                return JSONResponse({"received": list(self.received)})

        app = Starlette(routes=[Route("/hooks/{name}", receive, methods=["POST"]),
                                Route("/_sim/webhook/received", listing, methods=["GET"])])
        self.app = SimulatorMiddleware(app, self.injector, lambda status, message: {"error": message})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    serve_forever(WebhookReceiver().app, parser.parse_args().port, None, "Webhook receiver at")


if __name__ == "__main__":
    main()
