"""The block-creation command: idempotent, from variables, never printing a value."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from deployments.create_blocks import create_blocks

pytestmark = pytest.mark.prefect


def test_create_blocks_from_variables_is_idempotent(prefect_api, tmp_path: Path, box_keys) -> None:
    from blocks.box import BoxCredentials
    from blocks.dam import DamCredentials
    from blocks.mail_server import MailServer

    box_config = tmp_path / "box.json"
    box_config.write_text(json.dumps({"boxAppSettings": {
        "clientID": "cid", "clientSecret": "box-SECRET-1", "appAuth": {
            "publicKeyID": box_keys.key_id, "privateKey": box_keys.private_key_pem,
            "passphrase": box_keys.passphrase}}, "enterpriseID": "777"}))
    env = {"CS_DAM_BASE_URL": "https://dam.example.test", "CS_DAM_CLIENT_ID": "cs", "CS_DAM_CLIENT_SECRET": "dam-SECRET-2",
           "CS_BOX_CONFIG_FILE": str(box_config), "CS_SMTP_HOST": "smtp.example.test", "CS_SMTP_FROM": "cs@example.test",
           "CS_SMTP_PASSWORD": "smtp-SECRET-3", "CS_EMAIL_TO": "a@x.test, b@x.test",
           "CS_BOX_WEBHOOK_PRIMARY_KEY": "hook-SECRET-4", "CS_BOX_WEBHOOK_SECONDARY_KEY": "hook-SECRET-5",
           "CS_NOTIFICATION_BLOCKS": "slack-webhook/ops, ms-teams-webhook/marketing",
           "CS_DAILY_REPORT_TO_NOTIFICATION_BLOCKS": "true"}
    first = create_blocks(env)
    second = create_blocks(env)
    assert first == second
    assert first["dam"] == first["box"] == first["email"] == first["box-webhook"] == "saved"
    assert first["creativex"].startswith("skipped")
    assert DamCredentials.load("dam").client_secret.get_secret_value() == "dam-SECRET-2"
    assert DamCredentials.load("dam").auth_method == "oauth2"
    create_blocks({"CS_DAM_BASE_URL": "https://dam.example.test", "CS_DAM_AUTH_METHOD": "session",
                   "CS_DAM_USERNAME": "svc-dam", "CS_DAM_PASSWORD": "dam-SECRET-4"})
    session = DamCredentials.load("dam")
    assert (session.auth_method, session.username) == ("session", "svc-dam")
    assert session.password.get_secret_value() == "dam-SECRET-4" and session.client_secret is None
    with pytest.raises(ValueError, match="auth_method 'otmm_password' needs client_id"):
        create_blocks({"CS_DAM_BASE_URL": "https://dam.example.test", "CS_DAM_AUTH_METHOD": "otmm_password",
                       "CS_DAM_USERNAME": "svc-dam", "CS_DAM_PASSWORD": "dam-SECRET-4"})
    assert BoxCredentials.load("box").enterprise_id == "777"
    mail = MailServer.load("email")
    assert mail.default_recipients == ["a@x.test", "b@x.test"]
    assert mail.notification_blocks == ["slack-webhook/ops", "ms-teams-webhook/marketing"]
    assert mail.daily_report_to_notification_blocks is True
    from blocks.box_webhook import BoxWebhookKeys

    keys = BoxWebhookKeys.load("box-webhook")
    assert keys.get_verifier().secondary_key == "hook-SECRET-5" and "SECRET" not in repr(keys)
    with pytest.raises(ValueError, match="write '<block type slug>/<block name>'"):
        create_blocks({**env, "CS_NOTIFICATION_BLOCKS": "ops-slack"})


def test_the_command_never_prints_values(prefect_api, tmp_path: Path) -> None:
    import os

    from prefect.settings import PREFECT_API_URL

    from blocks.status_webhook import StatusWebhook

    env_file = tmp_path / "secrets.env"
    env_file.write_text("CS_DAM_BASE_URL=https://dam.example.test\nCS_DAM_AUTH_METHOD=otds_password\n"
                        "CS_DAM_CLIENT_ID=cs\nCS_DAM_USERNAME=svc\nCS_DAM_PASSWORD=dam-pass-SECRET-8\n"
                        "CS_DAM_CLIENT_SECRET=dam-SECRET-9\nCS_STATUS_WEBHOOK_URL=https://hooks.test/t0k3n-SECRET\n")
    out = subprocess.run([sys.executable, "-m", "deployments.create_blocks", "--env-file", str(env_file)],
                         capture_output=True, text=True, env={**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()},
                         cwd=Path(__file__).parent.parent,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "dam             saved" in out.stdout and "status-webhook  saved" in out.stdout
    assert "SECRET" not in out.stdout + out.stderr
    assert StatusWebhook.load("status-webhook").url.get_secret_value() == "https://hooks.test/t0k3n-SECRET"
