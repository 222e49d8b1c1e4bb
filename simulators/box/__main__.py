"""``python -m simulators.box --port N --storage DIR --public-key KID=path.pem``.

The client ID and secret come from BOX_SIM_CLIENT_ID / BOX_SIM_CLIENT_SECRET (never argv).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from simulators.box import BoxSimulator
from simulators.common import serve_forever


def main() -> None:
    parser = argparse.ArgumentParser(description="Box API simulator")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--storage", type=Path, required=True, help="Directory for file contents.")
    parser.add_argument("--public-key", action="append", default=[], metavar="KID=PATH",
                        help="Register an app public key (PEM file); repeatable.")
    parser.add_argument("--enterprise-id", default="12345")
    parser.add_argument("--part-size", type=int, default=8 * 1024 * 1024)
    parser.add_argument("--chunked-min-size", type=int, default=20 * 1024 * 1024)
    parser.add_argument("--direct-upload-max", type=int, default=50 * 1024 * 1024)
    args = parser.parse_args()
    keys = {}
    for spec in args.public_key:
        kid, _, path = spec.partition("=")
        keys[kid] = Path(path).read_text()
    sim = BoxSimulator(storage_dir=args.storage, client_id=os.environ.get("BOX_SIM_CLIENT_ID", "demo-box-client"),
                       client_secret=os.environ.get("BOX_SIM_CLIENT_SECRET", "demo-box-secret"), public_keys=keys,
                       enterprise_id=args.enterprise_id, part_size=args.part_size,
                       chunked_min_size=args.chunked_min_size, direct_upload_max=args.direct_upload_max)
    serve_forever(sim.app, args.port, None, "Box simulator at")


if __name__ == "__main__":
    main()
