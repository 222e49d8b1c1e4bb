"""``python -m simulators.box --port N --storage DIR --public-key KID=path.pem [...]``.

Prints ``Box simulator at <base URL>`` and serves until killed. ``--rate-limits`` enforces
Box's per-user limits (``--calls-per-minute``, ``--uploads-per-minute``, ``--calls-burst``,
``--uploads-burst``). The client ID and secret come
from ``--client-id``/``--client-secret`` or, better (argv is visible to other users),
BOX_SIM_CLIENT_ID / BOX_SIM_CLIENT_SECRET. More public keys can be added at run time with
``POST /_sim/box/keys``. Webhook signature keys come from BOX_SIM_WEBHOOK_PRIMARY_KEY and
BOX_SIM_WEBHOOK_SECONDARY_KEY (or ``POST /_sim/box/webhook-settings``).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from simulators.box import BoxSimulator, MiB, WebhookSettings
from simulators.box.limits import (
    BOX_CALLS_PER_MINUTE,
    BOX_UPLOADS_PER_MINUTE,
    DEFAULT_CALLS_BURST,
    DEFAULT_UPLOADS_BURST,
    BoxRateLimits,
)
from simulators.common import TLSConfig, serve_forever


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m simulators.box", description="Box API simulator")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default).")
    parser.add_argument("--storage", type=Path, required=True, help="Directory for file contents and state.json.")
    parser.add_argument("--public-key", action="append", default=[], metavar="KID=PATH",
                        help="Register an app public key (PEM file); repeatable.")
    parser.add_argument("--client-id", default=os.environ.get("BOX_SIM_CLIENT_ID", "cs-box"))
    parser.add_argument("--client-secret", default=os.environ.get("BOX_SIM_CLIENT_SECRET"),
                        help="Defaults to $BOX_SIM_CLIENT_SECRET (required one way or the other).")
    parser.add_argument("--enterprise-id", default=os.environ.get("BOX_SIM_ENTERPRISE_ID", "12345"))
    parser.add_argument("--part-size", type=int, default=8 * MiB, help="Upload-session part size in bytes.")
    parser.add_argument("--chunked-min-size", type=int, default=20 * MiB,
                        help="Smallest file an upload session accepts (bytes).")
    parser.add_argument("--direct-upload-max", type=int, default=50 * MiB,
                        help="Largest direct (multipart) upload in bytes.")
    parser.add_argument("--token-ttl", type=float, default=3600.0, help="Access token lifetime in seconds.")
    parser.add_argument("--no-persist", action="store_true", help="Do not keep state.json in the storage dir.")
    parser.add_argument("--webhook-ca", type=Path,
                        help="CA bundle a webhook receiver's certificate must chain to (default: public CAs).")
    parser.add_argument("--webhook-any-port", action="store_true",
                        help="Accept webhook addresses on another port than 443 (the tests' and demo's relaxation).")
    parser.add_argument("--webhook-retry-base-s", type=float, default=300.0,
                        help="Delay before the first retry of a failed webhook delivery (Box: about 300 s).")
    limits = parser.add_argument_group("rate limits", "Box's per-user limits (off unless --rate-limits); "
                                       "see simulators/box/limits.py")
    limits.add_argument("--rate-limits", action="store_true", help="Enforce the limits below (429 + Retry-After).")
    limits.add_argument("--calls-per-minute", type=float, default=BOX_CALLS_PER_MINUTE,
                        help=f"API calls per minute per user (Box: {BOX_CALLS_PER_MINUTE:g}).")
    limits.add_argument("--uploads-per-minute", type=float, default=BOX_UPLOADS_PER_MINUTE,
                        help=f"Upload requests per minute per user, inside the calls (Box: {BOX_UPLOADS_PER_MINUTE:g}).")
    limits.add_argument("--calls-burst", type=int, default=DEFAULT_CALLS_BURST,
                        help=f"Calls a rested user may make at once (default {DEFAULT_CALLS_BURST}).")
    limits.add_argument("--uploads-burst", type=int, default=DEFAULT_UPLOADS_BURST,
                        help=f"Uploads a rested user may make at once (default {DEFAULT_UPLOADS_BURST}).")
    parser.add_argument("--tls-cert", type=Path)
    parser.add_argument("--tls-key", type=Path)
    args = parser.parse_args(argv)
    if not args.client_secret:
        parser.error("no client secret: set BOX_SIM_CLIENT_SECRET or pass --client-secret")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    keys: dict[str, str] = {}
    for spec in args.public_key:
        kid, sep, path = spec.partition("=")
        if not sep or not kid or not path:
            raise SystemExit(f"--public-key expects KID=PATH, got {spec!r}")
        keys[kid] = Path(path).read_text()
    sim = BoxSimulator(storage_dir=args.storage, client_id=args.client_id, client_secret=args.client_secret,
                       public_keys=keys, enterprise_id=args.enterprise_id, part_size=args.part_size,
                       chunked_min_size=args.chunked_min_size, direct_upload_max=args.direct_upload_max,
                       token_ttl=args.token_ttl, persist=not args.no_persist,
                       webhook_settings=WebhookSettings(
                           primary_key=os.environ.get("BOX_SIM_WEBHOOK_PRIMARY_KEY") or None,
                           secondary_key=os.environ.get("BOX_SIM_WEBHOOK_SECONDARY_KEY") or None,
                           allow_any_port=args.webhook_any_port,
                           ca_file=str(args.webhook_ca) if args.webhook_ca else None,
                           retry_base_s=args.webhook_retry_base_s),
                       rate_limits=BoxRateLimits(enabled=args.rate_limits, calls_per_minute=args.calls_per_minute,
                                                 uploads_per_minute=args.uploads_per_minute,
                                                 calls_burst=args.calls_burst, uploads_burst=args.uploads_burst))
    tls = TLSConfig(args.tls_cert, args.tls_key) if args.tls_cert and args.tls_key else None
    serve_forever(sim.app, args.port, tls, "Box simulator at")


if __name__ == "__main__":
    main()
