"""``python -m simulators.otmm --port N [--seed demo|empty]``: prints its base URL, then serves.

The OAuth client ID and secret come from ``--client-id`` / ``--client-secret``, else from
OTMM_SIM_CLIENT_ID / OTMM_SIM_CLIENT_SECRET, else ``demo-client`` / ``demo-secret``; the
service user (session login, password grants) from ``--username`` / ``--password``, else
OTMM_SIM_USERNAME / OTMM_SIM_PASSWORD, else ``demo-user`` / ``demo-password`` (prefer the
environment for secrets: argv is visible to other users). ``--tls-cert``/``--tls-key``
serve HTTPS; ``--client-ca`` also requires client certificates signed by that CA (use it with
``--auth mtls``, where the certificate replaces the bearer token).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from simulators.common import TLSConfig, serve_forever
from simulators.otmm import OtmmSimulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m simulators.otmm", description="OTMM + OTDS simulator")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed on start).")
    parser.add_argument("--seed", choices=["demo", "empty"], default="demo")
    parser.add_argument("--token-ttl", type=float, default=3600.0, help="Token lifetime in seconds.")
    parser.add_argument("--client-id", default=os.environ.get("OTMM_SIM_CLIENT_ID", "demo-client"))
    parser.add_argument("--client-secret", default=os.environ.get("OTMM_SIM_CLIENT_SECRET", "demo-secret"))
    parser.add_argument("--username", default=os.environ.get("OTMM_SIM_USERNAME", "demo-user"))
    parser.add_argument("--password", default=os.environ.get("OTMM_SIM_PASSWORD", "demo-password"))
    parser.add_argument("--session-timeout", type=float, default=1800.0,
                        help="Seconds without use after which an OTMM session ends.")
    parser.add_argument("--auth", choices=["oauth", "mtls"], default="oauth",
                        help="oauth: tokens and sessions; mtls: the client certificate only.")
    parser.add_argument("--tls-cert", type=Path, help="Server certificate (PEM, may include the chain).")
    parser.add_argument("--tls-key", type=Path, help="Server private key (PEM).")
    parser.add_argument("--client-ca", type=Path, help="Require client certificates signed by this CA (mTLS).")
    parser.add_argument("--lock-required", action=argparse.BooleanOptionalAction, default=True,
                        help="PATCH needs the caller's lock (default: yes).")
    parser.add_argument("--upload-dir", type=Path, help="Where uploaded files go (default: a temporary directory).")
    parser.add_argument("--import-delay", type=float, default=0.0,
                        help="Seconds before an import job reports its asset.")
    args = parser.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    if args.client_ca and not args.tls_cert:
        parser.error("--client-ca needs --tls-cert and --tls-key")
    if args.auth == "mtls" and not args.client_ca:
        parser.error("--auth mtls needs --client-ca (the client certificate is the only authentication)")
    sim = OtmmSimulator(client_id=args.client_id, client_secret=args.client_secret, token_ttl=args.token_ttl,
                        lock_required=args.lock_required, auth_mode=args.auth, upload_dir=args.upload_dir,
                        import_delay=args.import_delay, username=args.username, password=args.password,
                        session_timeout=args.session_timeout)
    if args.seed == "demo":
        sim.seed_demo()
    tls = TLSConfig(args.tls_cert, args.tls_key, args.client_ca) if args.tls_cert else None
    try:
        serve_forever(sim.app, args.port, tls, "OTMM simulator at")
    finally:
        sim.close()


if __name__ == "__main__":
    main()
