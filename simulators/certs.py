"""A throw-away PKI for the mTLS tests and the demo (keys generated at run time, never committed).

``make_pki`` writes a CA, a server certificate for 127.0.0.1/localhost and a client
certificate packed as a password-protected PFX (key + certificate + CA chain), the way a
customer would hand one over. ``make_untrusted_client_pfx`` makes a client PFX signed by a
different CA, which the server must refuse.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from simulators.common import TLSConfig


@dataclass(frozen=True)
class Pki:
    """Paths of one generated PKI (all inside ``directory``)."""

    directory: Path
    ca_cert: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_pfx: Path
    client_password: str

    def server_tls(self, require_client_cert: bool = True) -> TLSConfig:
        """The simulator's TLS settings; with ``require_client_cert`` clients must present a
        certificate signed by this PKI's CA."""
        return TLSConfig(certfile=self.server_cert, keyfile=self.server_key,
                         client_ca=self.ca_cert if require_client_cert else None)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "content-scaling test"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _make_ca(common_name: str, days: int = 30) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = _key()
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name)).issuer_name(_name(common_name))
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _issue(ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate, common_name: str, *, server: bool,
           days: int = 30) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = _key()
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name)).issuer_name(ca_cert.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server
                                              else ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName([
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _write(path: Path, data: bytes, private: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    if private:
        os.chmod(path, 0o600)
    return path


def _pfx(name: str, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate, chain: list[x509.Certificate],
         password: str) -> bytes:
    return pkcs12.serialize_key_and_certificates(
        name.encode(), key, cert, chain, serialization.BestAvailableEncryption(password.encode()))


def make_pki(directory: Path, client_password: str) -> Pki:
    """Generate a CA, a server certificate (SAN IP:127.0.0.1, DNS:localhost) and a client PFX in ``directory``."""
    directory = Path(directory)
    ca_key, ca_cert = _make_ca("content-scaling test CA")
    server_key, server_cert = _issue(ca_key, ca_cert, "127.0.0.1", server=True)
    client_key, client_cert = _issue(ca_key, ca_cert, "content-scaling DAM client", server=False)
    key_pem = server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())
    return Pki(
        directory=directory,
        ca_cert=_write(directory / "ca.pem", _pem(ca_cert)),
        server_cert=_write(directory / "server.pem", _pem(server_cert) + _pem(ca_cert)),
        server_key=_write(directory / "server-key.pem", key_pem, private=True),
        client_cert=_write(directory / "client.pem", _pem(client_cert)),
        client_pfx=_write(directory / "client.pfx", _pfx("dam-client", client_key, client_cert, [ca_cert],
                                                         client_password), private=True),
        client_password=client_password,
    )


def make_untrusted_client_pfx(directory: Path, password: str, file_name: str = "untrusted-client.pfx") -> Path:
    """A client PFX signed by a CA the server does not know (the wrong-certificate case)."""
    ca_key, ca_cert = _make_ca("some other CA")
    key, cert = _issue(ca_key, ca_cert, "content-scaling DAM client", server=False)
    return _write(Path(directory) / file_name, _pfx("dam-client", key, cert, [ca_cert], password), private=True)
