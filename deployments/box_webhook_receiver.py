"""The Box webhook receiver: verified ``FILE.UPLOADED`` deliveries become Prefect events.

    .venv/bin/python -m deployments.box_webhook_receiver --port 8090
        [--host 127.0.0.1] [--keys-block box-webhook] [--tracking-db-block tracking-db]
        [--tls-cert cert.pem --tls-key key.pem]

Prints ``Box webhook receiver at <base URL>``; Box posts to ``<public address>/box/webhook``.
In production it listens on 127.0.0.1 behind a reverse proxy that terminates HTTPS on port 443
(Box delivers nowhere else); ``--tls-*`` serve HTTPS directly (the demo and the tests). Like every project command it needs ``PREFECT_API_URL`` (and
``PREFECT_API_AUTH_STRING`` for a server with API authentication), checked first.

For each delivery, in this order (Box wants a 2xx within 30 s; this answers in milliseconds):

1. the signature headers are verified (``domain.box_webhooks``): a forged, stale or malformed
   delivery gets a 4xx, runs nothing, and is logged with its delivery id and the reason only —
   never the body, a signature or a key;
2. the payload id is recorded in the tracking database (``box_webhook_deliveries``): a
   delivery seen before (Box retried it, or sent it twice at once, before or after a restart)
   gets a 200 and runs nothing; a database that cannot be reached gets a 503 (Box retries);
3. a ``box.file.uploaded`` Prefect event is emitted for the file (resource id
   ``box.file.<id>``, event id derived from the payload id); the ``a2-to-a3-webhook``
   deployment's trigger turns these into import runs (prefect.yaml).

Anything else Box sends (other triggers, folders) is acknowledged and ignored.
"""

from __future__ import annotations

import argparse
import logging
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from domain.box_webhooks import DeliveryRefused, DeliveryVerifier, WebhookEvent, parse_event

PATH = "/box/webhook"
EVENT = "box.file.uploaded"
MAX_BODY_BYTES = 256 * 1024  # a Box payload is a few KiB
_EVENT_IDS = uuid.UUID("7f0c6f55-7a52-4f0e-9a51-3c1f0e4b2b6a")  # namespace of the events' uuid5 ids
logger = logging.getLogger("content_scaling.box_webhook_receiver")


def announce_upload(event: WebhookEvent) -> None:
    """Emit the Prefect event for one uploaded file (buffered and sent by Prefect's events worker).

    The event id is derived from Box's payload id, so the same upload is one event even if it
    were announced twice.
    """
    from prefect.events import emit_event

    emit_event(event=EVENT,
               resource={"prefect.resource.id": f"box.file.{event.source_id}",
                         "prefect.resource.name": event.source_name, "box.file.id": event.source_id,
                         "box.folder.id": event.parent_id or ""},
               id=uuid.uuid5(_EVENT_IDS, event.id),
               payload={"box_payload_id": event.id, "trigger": event.trigger, "webhook_id": event.webhook_id,
                        "created_at": event.created_at})


def build_app(verifier: DeliveryVerifier, db: Any, announce: Callable[[WebhookEvent], None] = announce_upload
              ) -> FastAPI:
    """The receiver's ASGI app. ``db`` is a :class:`clients.tracking_db.TrackingDatabase`."""
    app = FastAPI(title="content-scaling Box webhook receiver", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=_flush_events_on_exit)

    @app.get("/health")
    def health() -> dict[str, bool]:
        return {"ok": True}

    @app.post(PATH)
    async def receive(request: Request) -> JSONResponse:
        delivery = _printable(request.headers.get("box-delivery-id", "(no delivery id)"))
        try:
            body = await _read_body(request)
            verifier.verify(body, request.headers)
            event = parse_event(body)
        except DeliveryRefused as refused:
            logger.warning("refused Box delivery %s: %s", delivery, refused.reason)
            return JSONResponse({"error": refused.reason}, status_code=refused.status)
        if not event.is_upload:
            logger.info("Box delivery %s: %s on %s %s ignored", delivery, event.trigger, event.source_type,
                        event.source_id)
            return JSONResponse({"status": "ignored"})
        try:
            new = await run_in_threadpool(db.record_webhook_delivery, payload_id=event.id, trigger=event.trigger,
                                          box_file_id=event.source_id, box_folder_id=event.parent_id,
                                          webhook_id=event.webhook_id, event_created_at=event.created_at)
        except Exception as exc:  # noqa: BLE001 - answered with a 503 so Box delivers it again later
            logger.error("Box delivery %s (payload %s) not recorded, Box will retry: %s", delivery,
                         _printable(event.id), type(exc).__name__)
            return JSONResponse({"error": "the delivery could not be recorded; deliver it again"}, status_code=503)
        if not new:
            logger.info("Box delivery %s: payload %s seen before (file %s); nothing to do", delivery,
                        _printable(event.id), event.source_id)
            return JSONResponse({"status": "duplicate"})
        try:
            await run_in_threadpool(announce, event)
        except Exception as exc:  # noqa: BLE001 - recorded: the next triggered run or the poll imports it
            logger.error("Box delivery %s: file %s recorded, but the Prefect event failed: %s", delivery,
                         event.source_id, type(exc).__name__)
        logger.info("Box delivery %s: file %s uploaded (payload %s) → %s", delivery, event.source_id,
                    _printable(event.id), EVENT)
        return JSONResponse({"status": "accepted"})

    return app


@asynccontextmanager
async def _flush_events_on_exit(app: FastAPI) -> AsyncIterator[None]:
    """Events still buffered when the receiver stops are sent before it exits."""
    yield
    from prefect.events.worker import EventsWorker

    await run_in_threadpool(EventsWorker.drain_all)


async def _read_body(request: Request) -> bytes:
    """The raw body (the signature covers these exact bytes), refused above ``MAX_BODY_BYTES``."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise DeliveryRefused(f"body of {declared} bytes is larger than a Box payload", status=413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise DeliveryRefused("body larger than a Box payload", status=413)
        chunks.append(chunk)
    return b"".join(chunks)


def _printable(value: str) -> str:
    """Header or payload values in a log line: printable characters only, at most 64."""
    return "".join(ch if ch.isprintable() else "?" for ch in value)[:64]


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    from blocks.box_webhook import BoxWebhookKeys
    from blocks.tracking_database import TrackingDatabaseBlock
    from deployments.api_access import api_errors_as_messages, check_api_access

    parser = argparse.ArgumentParser(prog="python -m deployments.box_webhook_receiver", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1", help="Listen address (behind the reverse proxy: 127.0.0.1).")
    parser.add_argument("--port", type=int, default=8090, help="Listen port; 0 picks a free one.")
    parser.add_argument("--keys-block", default="box-webhook", help="Name of the Box Webhook Keys block.")
    parser.add_argument("--tracking-db-block", default="tracking-db", help="Name of the Tracking Database block.")
    parser.add_argument("--tls-cert", help="Serve HTTPS with this certificate (PEM) instead of plain HTTP.")
    parser.add_argument("--tls-key", help="The certificate's private key (PEM).")
    args = parser.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with api_errors_as_messages():  # a missing or refused PREFECT_API_AUTH_STRING: one line, exit 1
        check_api_access()
        verifier = BoxWebhookKeys.load(args.keys_block).get_verifier()
        db = TrackingDatabaseBlock.load(args.tracking_db_block).get_client()
    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(128)
    scheme = "https" if args.tls_cert else "http"
    print(f"Box webhook receiver at {scheme}://{args.host}:{sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(build_app(verifier, db), log_level="warning", access_log=False,
                            ssl_certfile=args.tls_cert, ssl_keyfile=args.tls_key)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
