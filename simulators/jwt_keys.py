"""RSA key pairs for the Box JWT app of tests and the demo (generated at run time, never committed)."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass(frozen=True)
class JwtAppKeys:
    """An app key pair: the encrypted private key for the client, the public key for the simulator."""

    key_id: str
    private_key_pem: str  # encrypted PKCS#8, as the Box SDK's default decryptor requires
    passphrase: str
    public_key_pem: str


def make_jwt_app_keys(key_id: str, passphrase: str) -> JwtAppKeys:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode()),
    ).decode()
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return JwtAppKeys(key_id=key_id, private_key_pem=private_pem, passphrase=passphrase, public_key_pem=public_pem)
