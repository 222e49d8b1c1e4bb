"""The DAM Credentials block: each auth_method asks for its fields and builds its sign-in."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from blocks._cache import clear_cached_clients
from blocks.dam import DamCredentials
from clients.otmm import MutualTLS, OAuth2ClientCredentials, OtdsPasswordGrant, OtmmPasswordGrant, OtmmSession

BASE = "https://dam.example.test"


@pytest.mark.parametrize(("method", "given", "missing"), [
    ("oauth2", {"client_id": "c"}, "client_secret"),
    ("session", {}, "username and password"),
    ("session", {"username": "svc"}, "password"),
    ("otds_password", {"username": "svc", "password": "p"}, "client_id"),
    ("otmm_password", {"client_id": "c"}, "username and password"),
    ("mtls", {"pfx_password": "p"}, "pfx_base64"),
])
def test_each_method_names_the_fields_it_lacks(method: str, given: dict, missing: str) -> None:
    with pytest.raises(ValidationError, match=f"auth_method '{method}' needs {missing}"):
        DamCredentials(base_url=BASE, auth_method=method, **given)


def test_unknown_method_lists_the_known_ones() -> None:
    with pytest.raises(ValidationError, match="'oauth2', 'session', 'otds_password', 'otmm_password' or 'mtls'"):
        DamCredentials(base_url=BASE, auth_method="basic", username="svc", password="p")


def test_an_existing_document_keeps_meaning_oauth2() -> None:
    """Documents saved before the new methods carry no auth_method for them and no user fields."""
    old = DamCredentials.model_validate({"base_url": BASE, "client_id": "c", "client_secret": "s"})
    assert old.auth_method == "oauth2" and old.username is None and old.password is None
    assert isinstance(old._auth(), OAuth2ClientCredentials)


@pytest.mark.parametrize(("method", "kind", "url"), [
    ("session", OtmmSession, BASE + "/otmmapi/v6/sessions"),
    ("otds_password", OtdsPasswordGrant, "https://otds.example.test/otdsws/oauth2/token"),
    ("otmm_password", OtmmPasswordGrant, BASE + "/otmmapi/v6/sessions/oauth2/token"),
])
def test_password_methods_build_their_sign_in_without_showing_the_password(method, kind, url) -> None:
    block = DamCredentials(base_url=BASE + "/", auth_method=method, username="svc", password="PASS-canary-1",
                           client_id="c", otds_url="https://otds.example.test")
    auth = block._auth()
    assert isinstance(auth, kind) and auth.method == method
    assert url in repr(auth) and "svc" in repr(auth)
    assert "PASS-canary-1" not in repr(auth) + repr(block) + str(block.model_dump()) + block.sign_in_summary
    assert "svc" in block.sign_in_summary


def test_a_new_password_is_a_new_client() -> None:
    clear_cached_clients()
    first = DamCredentials(base_url=BASE, auth_method="session", username="svc", password="one")
    same = DamCredentials(base_url=BASE, auth_method="session", username="svc", password="one")
    changed = DamCredentials(base_url=BASE, auth_method="session", username="svc", password="two")
    assert first.get_client() is same.get_client()
    assert changed.get_client() is not first.get_client()
    clear_cached_clients()


def test_mtls_is_still_a_certificate(pki) -> None:
    import base64

    block = DamCredentials(base_url=BASE, auth_method="mtls", pfx_password=pki.client_password,
                           pfx_base64=base64.b64encode(pki.client_pfx.read_bytes()).decode())
    assert isinstance(block._auth(), MutualTLS) and block.sign_in_summary == "mTLS client certificate"
