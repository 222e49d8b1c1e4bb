"""``python -m simulators.box --port N --storage DIR --public-key KID=path.pem [...]``.

Prints ``Box simulator at <base URL>`` and serves until killed. The client ID and secret come
from ``--client-id``/``--client-secret`` or, better (argv is visible to other users),
BOX_SIM_CLIENT_ID / BOX_SIM_CLIENT_SECRET. More public keys can be added at run time with
``POST /_sim/box/keys``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from simulators.box import BoxSimulator, MiB
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
                       token_ttl=args.token_ttl, persist=not args.no_persist)
    tls = TLSConfig(args.tls_cert, args.tls_key) if args.tls_cert and args.tls_key else None
    serve_forever(sim.app, args.port, tls, "Box simulator at")


if __name__ == "__main__":
    main()
