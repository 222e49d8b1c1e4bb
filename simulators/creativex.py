"""A CreativeX scoring endpoint for tests and the demo (``python -m simulators.creativex``).

``POST /v1/scores`` with ``Authorization: Bearer <api key>`` and JSON
``{"tracking_id", "file_name", "sha1"}`` answers ``{"score": 0..100, "report_url": "…"}``;
the score is derived from the SHA-1 so runs are reproducible. Every request is recorded.
"""

from __future__ import annotations

import argparse
import os
import threading
from typing import Any

from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse

from simulators.common import FaultInjector, SimulatorMiddleware, serve_forever


class CreativeXSimulator:
    """In-memory CreativeX: ``app`` to serve, ``requests`` to inspect."""

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.injector = FaultInjector()
        api = FastAPI(title="CreativeX simulator")

        @api.post("/v1/scores")
        async def score(request: Request, authorization: str = Header(default="")) -> JSONResponse:
            if authorization != f"Bearer {self.api_key}":
                return JSONResponse({"error": "invalid_api_key", "message": "API key missing or wrong"}, 401)
            body = await request.json()
            sha1 = str(body.get("sha1") or "")
            if len(sha1) != 40:
                return JSONResponse({"error": "invalid_request", "message": "sha1 must be 40 hex digits"}, 400)
            with self._lock:
                self.requests.append(body)
            return JSONResponse({"score": int(sha1[:8], 16) % 101,
                                 "report_url": f"https://app.creativex.com/reports/{sha1[:16]}"})

        self.app = SimulatorMiddleware(api, self.injector, lambda status, msg: {"error": "fault", "message": msg})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    sim = CreativeXSimulator(api_key=os.environ.get("CREATIVEX_SIM_API_KEY", "demo-creativex-key"))
    serve_forever(sim.app, args.port, None, "CreativeX simulator at")


if __name__ == "__main__":
    main()
