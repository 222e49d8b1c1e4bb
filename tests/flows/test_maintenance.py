"""test-connections and check-certificate against the real parts."""

from __future__ import annotations

import base64

import pytest

from flows.maintenance import check_certificate, check_connections
from tests.conftest import SIGN_IN_METHODS

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


def test_connections_with_every_dam_sign_in(flow_env):
    otmm = flow_env.otmm
    labels = {"oauth2": "OTDS client credentials of 'cs-test'", "session": "OTMM session login as 'cs-user'",
              "otds_password": "OTDS password grant as 'cs-user'", "otmm_password": "OTMM password grant as 'cs-user'"}
    for method in SIGN_IN_METHODS:
        name = "dam-" + method.replace("_", "-")  # block names take no underscore
        otmm.dam_block(auth_method=method).save(name, overwrite=True)
        state = check_connections(dam_block=name, return_state=True)
        assert state.is_completed(), state.message
        assert f"DAM ({name}): ok – signed in with {labels[method]}" in state.message
        assert otmm.sim.sign_ins(method) == 1

    otmm.dam_block(auth_method="session", password="wrong-pass-9c1").save("dam-wrong", overwrite=True)
    state = check_connections(dam_block="dam-wrong", return_state=True)
    assert state.is_failed()
    assert ("DAM (dam-wrong): failed – AuthError: OTMM session login (auth_method 'session') failed: the DAM "
            "refused user 'cs-user'") in state.message
    assert "wrong-pass-9c1" not in state.message
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

    for method in ("oauth2", "session"):  # no certificate: nothing to check, and the run says why
        flow_env.otmm.dam_block(auth_method=method).save("dam-other", overwrite=True)
        state = check_certificate(dam_block="dam-other", return_state=True)
        assert state.is_completed() and "nothing to check" in state.message
        assert f"(auth_method {method!r}), not with a client certificate" in state.message

def test_box_webhook_create_is_idempotent_and_follows_the_address_list_and_delete(flow_env):
    from flows.maintenance import manage_box_webhook
    from tests.flows.test_cli import cli

    box = flow_env.box.sim
    agency = box.create_folder("0", "Agency uploads")
    address = "https://127.0.0.1:9443/box/webhook"

    first = manage_box_webhook(action="create", address=address, agency_folder_id=agency, return_state=True)
    again = manage_box_webhook(action="create", address=address, agency_folder_id=agency, return_state=True)
    assert first.is_completed() and first.message.endswith(": created"), first.message
    assert again.message.endswith(": unchanged") and len(box.webhooks.hooks) == 1
    moved = manage_box_webhook(action="create", address=address + "2", agency_folder_id=agency, return_state=True)
    assert moved.message.endswith(": updated")
    [hook] = box.webhooks.hooks.values()
    assert (hook.target_id, hook.address, hook.triggers) == (agency, address + "2", ["FILE.UPLOADED"])

    listed = cli("box-webhook", "list", "--agency-folder-id", agency)
    assert listed.exit_code == 0 and f"1 webhook(s) on folder {agency}; {hook.id} → {address}2" in listed.output
    deleted = cli("box-webhook", "delete", "--agency-folder-id", agency)
    assert deleted.exit_code == 0 and "deleted 1 webhook(s)" in deleted.output and box.webhooks.hooks == {}
    assert "nothing to delete" in manage_box_webhook(action="delete", agency_folder_id=agency,
                                                     return_state=True).message

    for bad, why in ((dict(action="create", address="http://hooks.example.test/box/webhook"), "not an HTTPS URL"),
                     (dict(action="create", address=None), "not an HTTPS URL"),
                     (dict(action="create", address=address, agency_folder_id="0"), "root folder"),
                     (dict(action="remove"), "unknown action")):
        state = manage_box_webhook(**{"agency_folder_id": agency, **bad}, return_state=True)
        assert state.is_failed() and why in state.message, state.message
    box.webhooks.settings.allow_any_port = False  # what real Box says to port 9443: a clear failure
    refused = cli("box-webhook", "create", "--agency-folder-id", agency, "--address", address)
    assert refused.exit_code == 1 and "port 443" in refused.output
