"""Sending email over SMTP with STARTTLS (port 587), an HTML part and a plain-text part."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage

from clients.errors import AuthError, InvalidData, TransientError


class Mailer:
    """One SMTP connection per message (the flows send a handful per run). Thread-safe."""

    def __init__(self, host: str, port: int, from_address: str, *, username: str | None = None,
                 password: str | None = None, ca_bundle: str | None = None, timeout_s: float = 30.0) -> None:
        self.host, self.port, self.from_address = host, port, from_address
        self._username, self._password = username, password
        self._context = ssl.create_default_context(cafile=ca_bundle)
        self.timeout_s = timeout_s

    def check(self) -> None:
        """Connect, STARTTLS and log in without sending anything (connection tests)."""
        with self._session():
            pass

    def send(self, to: list[str], subject: str, html: str, text: str) -> None:
        if not to:
            raise InvalidData("no recipients configured for this email", system="smtp")
        message = EmailMessage()
        message["Subject"], message["From"], message["To"] = subject, self.from_address, ", ".join(to)
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        with self._session() as smtp:
            smtp.send_message(message)

    @contextmanager
    def _session(self) -> Iterator[smtplib.SMTP]:
        """A logged-in STARTTLS session; SMTP failures become the typed errors."""
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                smtp.starttls(context=self._context)
                if self._username:
                    smtp.login(self._username, self._password or "")
                yield smtp
        except smtplib.SMTPAuthenticationError as exc:
            raise AuthError(f"the SMTP server refused the login ({exc.smtp_code})", system="smtp") from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise InvalidData(f"the SMTP server refused the recipients {sorted(exc.recipients)}", system="smtp") from exc
        except ssl.SSLCertVerificationError as exc:
            raise AuthError(f"the SMTP server's certificate is not trusted: {exc.verify_message}", system="smtp") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientError(f"SMTP failed: {type(exc).__name__}: {exc}", system="smtp") from exc
