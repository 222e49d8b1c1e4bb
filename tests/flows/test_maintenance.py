"""test-connections and check-certificate against the real parts."""

from __future__ import annotations

import base64

import pytest

from flows.maintenance import check_certificate, check_connections

pytestmark = pytest.mark.prefect


def test_connections_all_ok_then_one_refused(flow_env):
    state = check_connections(return_state=True)
    assert state.is_completed(), state.message
    assert state.message.count(": ok") == 4

    from blocks._cache import clear_cached_clients
    from blocks.mail_server import MailServer

    mail = MailServer.load("email")
    mail.password = "wrong"
    mail.save("email-wrong", overwrite=True)
    clear_cached_clients()
    state = check_connections(email_block="email-wrong", return_state=True)
    assert state.is_failed()
    assert "SMTP (email-wrong): failed – AuthError: the SMTP server refused the login" in state.message
    assert state.message.count(": ok") == 3


def test_check_certificate(flow_env, pki):
    from blocks.dam import DamCredentials

    DamCredentials(base_url="https://127.0.0.1:1", auth_method="mtls",
                   pfx_base64=base64.b64encode(pki.client_pfx.read_bytes()).decode(),
                   pfx_password="pfx-pass").save("dam-mtls", overwrite=True)
    state = check_certificate(dam_block="dam-mtls", return_state=True)
    assert state.is_completed(), state.message
    assert "chain of 1" in state.message and "key present" in state.message
    assert "pfx-pass" not in state.message

    DamCredentials(base_url="https://127.0.0.1:1", auth_method="mtls",
                   pfx_base64=base64.b64encode(pki.client_pfx.read_bytes()).decode(),
                   pfx_password="wrong").save("dam-mtls", overwrite=True)
    state = check_certificate(dam_block="dam-mtls", return_state=True)
    assert state.is_failed() and "wrong password" in state.message
