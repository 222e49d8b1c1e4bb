"""A real SMTP server (aiosmtpd) with STARTTLS and login that keeps every message it receives.

Messages are kept in memory and written as ``.eml`` files to ``directory`` (open them in any
mail program). ``python -m simulators.mail --port N --directory DIR`` runs it standalone.
"""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import threading
import time
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MailServer:
    """SMTP on 127.0.0.1 that requires STARTTLS (and, when given, a username/password)."""

    def __init__(self, directory: Path, certfile: Path, keyfile: Path, username: str | None = None,
                 password: str | None = None, port: int = 0) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(certfile), str(keyfile))
        self.port = port or _free_port()
        auth = None
        if username is not None:
            def auth(server, session, envelope, mechanism, data):  # noqa: ANN001, ANN202, ARG001
                ok = isinstance(data, LoginPassword) and data.login.decode() == username \
                    and data.password.decode() == password
                return AuthResult(success=ok, handled=False)
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, tls_context=context,
                                     require_starttls=True, authenticator=auth, auth_require_tls=True,
                                     auth_required=username is not None)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802 - aiosmtpd hook
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
            index = len(self.messages)
        (self.directory / f"{time.strftime('%Y%m%d-%H%M%S')}-{index:03d}.eml").write_bytes(envelope.content)
        return "250 Message accepted for delivery"

    def start(self) -> MailServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> MailServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    import argparse
    import os

    parser = argparse.ArgumentParser(description="SMTP server (STARTTLS) that keeps every message as .eml")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--directory", type=Path, required=True)
    parser.add_argument("--cert", type=Path, required=True)
    parser.add_argument("--key", type=Path, required=True)
    args = parser.parse_args()
    server = MailServer(args.directory, args.cert, args.key, username=os.environ.get("MAIL_SIM_USERNAME"),
                        password=os.environ.get("MAIL_SIM_PASSWORD"), port=args.port).start()
    print(f"SMTP server at smtp://127.0.0.1:{server.port}", flush=True)
    try:
        threading.Event().wait()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
