"""Create or update every block from environment variables or an env file (never committed).

    .venv/bin/python -m deployments.create_blocks [--env-file secrets.env]

Needs ``PREFECT_API_URL`` and, for a server with API authentication, ``PREFECT_API_AUTH_STRING``
(checked first: a missing or wrong one is said in one line, nothing is saved).
Idempotent: blocks are saved with ``overwrite=True``, and every block type is registered so it
appears in the UI's catalogue even before a document exists. A system whose variables are not
set is skipped (and said so). Values are never printed. Then the shared request budgets of the
Box (and DAM) blocks are created or updated as Prefect concurrency limits (``deployments.limits``).

Variables (``CS_`` prefix):
    DAM:        CS_DAM_BASE_URL, CS_DAM_AUTH_METHOD (oauth2|session|otds_password|otmm_password|mtls),
                CS_DAM_OTDS_URL, CS_DAM_CLIENT_ID, CS_DAM_CLIENT_SECRET, CS_DAM_USERNAME, CS_DAM_PASSWORD,
                CS_DAM_PFX_FILE, CS_DAM_PFX_PASSWORD, CS_DAM_CA_FILE
    Box:        CS_BOX_CONFIG_FILE (the app's JSON config from the Box Developer Console),
                CS_BOX_API_BASE_URL, CS_BOX_UPLOAD_BASE_URL; the request budget: CS_BOX_REQUEST_BUDGET
                (true|false, default true), CS_BOX_CALLS_PER_MINUTE (950), CS_BOX_UPLOADS_PER_MINUTE (228)
    Tracking:   CS_TRACKING_DSN (empty: embedded PostgreSQL under CS_TRACKING_DATA_DIR)
    CreativeX:  CS_CREATIVEX_URL, CS_CREATIVEX_API_KEY
    Email:      CS_SMTP_HOST, CS_SMTP_PORT, CS_SMTP_USERNAME, CS_SMTP_PASSWORD, CS_SMTP_FROM,
                CS_SMTP_CA_FILE, CS_EMAIL_TO (comma-separated), CS_EMAIL_ERRORS_TO,
                CS_NOTIFICATION_BLOCKS (comma-separated '<block type slug>/<name>' of Prefect
                notification blocks that also get the alerts, e.g. slack-webhook/ops),
                CS_DAILY_REPORT_TO_NOTIFICATION_BLOCKS (true: the report's summary too)
    Webhook:    CS_STATUS_WEBHOOK_URL
    Box webhook signature keys (Developer Console → the app → Webhooks → Manage signature keys):
                CS_BOX_WEBHOOK_PRIMARY_KEY, CS_BOX_WEBHOOK_SECONDARY_KEY
"""

from __future__ import annotations

import argparse
import base64
import json
import os
from collections.abc import Mapping
from pathlib import Path

from blocks.box import BoxCredentials
from blocks.box_webhook import BoxWebhookKeys
from blocks.creativex import CreativeXCredentials
from blocks.dam import DamCredentials
from blocks.mail_server import MailServer
from blocks.status_webhook import StatusWebhook
from blocks.tracking_database import TrackingDatabaseBlock
from deployments.api_access import api_errors_as_messages, check_api_access
from deployments.limits import ensure_request_budgets

BLOCK_TYPES = [DamCredentials, BoxCredentials, TrackingDatabaseBlock, CreativeXCredentials, MailServer, StatusWebhook,
               BoxWebhookKeys]


def _list(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _box_budget(env: Mapping[str, str]) -> dict[str, object]:
    """The Box block's request-budget fields that the variables set (the block's defaults otherwise)."""
    fields: dict[str, object] = {}
    if env.get("CS_BOX_REQUEST_BUDGET"):
        value = env["CS_BOX_REQUEST_BUDGET"].strip().lower()
        if value not in ("true", "false"):
            raise ValueError(f"CS_BOX_REQUEST_BUDGET must be true or false, not {env['CS_BOX_REQUEST_BUDGET']!r}")
        fields["request_budget"] = value == "true"
    for variable, field in (("CS_BOX_CALLS_PER_MINUTE", "calls_per_minute"),
                            ("CS_BOX_UPLOADS_PER_MINUTE", "uploads_per_minute")):
        if env.get(variable):
            try:
                fields[field] = float(env[variable])
            except ValueError as exc:
                raise ValueError(f"{variable} must be a number of requests per minute, not {env[variable]!r}") from exc
    return fields


def create_blocks(env: Mapping[str, str]) -> dict[str, str]:
    """Save the blocks the variables describe; returns block name → 'saved' or why it was skipped."""
    for block_type in BLOCK_TYPES:
        block_type.register_type_and_schema()
    done: dict[str, str] = {}
    g = env.get
    if g("CS_DAM_BASE_URL"):
        pfx = Path(g("CS_DAM_PFX_FILE", "")).read_bytes() if g("CS_DAM_PFX_FILE") else None
        DamCredentials(base_url=g("CS_DAM_BASE_URL"), auth_method=g("CS_DAM_AUTH_METHOD", "oauth2"),
                       otds_url=g("CS_DAM_OTDS_URL") or None, client_id=g("CS_DAM_CLIENT_ID") or None,
                       client_secret=g("CS_DAM_CLIENT_SECRET") or None, username=g("CS_DAM_USERNAME") or None,
                       password=g("CS_DAM_PASSWORD") or None,
                       pfx_base64=base64.b64encode(pfx).decode() if pfx else None,
                       pfx_password=g("CS_DAM_PFX_PASSWORD") or None,
                       ca_bundle_pem=Path(g("CS_DAM_CA_FILE", "")).read_text() if g("CS_DAM_CA_FILE") else None,
                       ).save("dam", overwrite=True)
        done["dam"] = "saved"
    else:
        done["dam"] = "skipped: CS_DAM_BASE_URL not set"
    if g("CS_BOX_CONFIG_FILE"):
        config = json.loads(Path(g("CS_BOX_CONFIG_FILE", "")).read_text())
        app = config["boxAppSettings"]
        BoxCredentials(client_id=app["clientID"], client_secret=app["clientSecret"],
                       public_key_id=app["appAuth"]["publicKeyID"], private_key=app["appAuth"]["privateKey"],
                       private_key_passphrase=app["appAuth"]["passphrase"], enterprise_id=config.get("enterpriseID"),
                       user_id=config.get("userID"),
                       api_base_url=g("CS_BOX_API_BASE_URL", "https://api.box.com"),
                       upload_base_url=g("CS_BOX_UPLOAD_BASE_URL", "https://upload.box.com/api"),
                       **_box_budget(env)).save("box", overwrite=True)
        done["box"] = "saved"
    else:
        done["box"] = "skipped: CS_BOX_CONFIG_FILE not set"
    TrackingDatabaseBlock(dsn=g("CS_TRACKING_DSN") or None,
                          embedded_data_dir=g("CS_TRACKING_DATA_DIR", ".data/postgres")).save("tracking-db", overwrite=True)
    done["tracking-db"] = "saved" if g("CS_TRACKING_DSN") else "saved (embedded PostgreSQL: no CS_TRACKING_DSN)"
    if g("CS_CREATIVEX_URL") and g("CS_CREATIVEX_API_KEY"):
        CreativeXCredentials(url=g("CS_CREATIVEX_URL"), api_key=g("CS_CREATIVEX_API_KEY")).save("creativex",
                                                                                               overwrite=True)
        done["creativex"] = "saved"
    else:
        done["creativex"] = "skipped: CS_CREATIVEX_URL / CS_CREATIVEX_API_KEY not set"
    if g("CS_SMTP_HOST") and g("CS_SMTP_FROM"):
        MailServer(host=g("CS_SMTP_HOST"), port=int(g("CS_SMTP_PORT", "587")), username=g("CS_SMTP_USERNAME") or None,
                   password=g("CS_SMTP_PASSWORD") or None, from_address=g("CS_SMTP_FROM"),
                   ca_bundle_pem=Path(g("CS_SMTP_CA_FILE", "")).read_text() if g("CS_SMTP_CA_FILE") else None,
                   default_recipients=_list(g("CS_EMAIL_TO")), error_recipients=_list(g("CS_EMAIL_ERRORS_TO")),
                   notification_blocks=_list(g("CS_NOTIFICATION_BLOCKS")),
                   daily_report_to_notification_blocks=g("CS_DAILY_REPORT_TO_NOTIFICATION_BLOCKS", "").lower()
                   in ("1", "true", "yes"),
                   ).save("email", overwrite=True)
        done["email"] = "saved"
    else:
        done["email"] = "skipped: CS_SMTP_HOST / CS_SMTP_FROM not set"
    done.update({f"limit {name}": outcome for name, outcome in ensure_request_budgets("box", "dam").items()})
    if g("CS_STATUS_WEBHOOK_URL"):
        StatusWebhook(url=g("CS_STATUS_WEBHOOK_URL")).save("status-webhook", overwrite=True)
        done["status-webhook"] = "saved"
    else:
        done["status-webhook"] = "skipped: CS_STATUS_WEBHOOK_URL not set"
    if g("CS_BOX_WEBHOOK_PRIMARY_KEY"):
        BoxWebhookKeys(primary_key=g("CS_BOX_WEBHOOK_PRIMARY_KEY"),
                       secondary_key=g("CS_BOX_WEBHOOK_SECONDARY_KEY") or None).save("box-webhook", overwrite=True)
        done["box-webhook"] = "saved"
    else:
        done["box-webhook"] = "skipped: CS_BOX_WEBHOOK_PRIMARY_KEY not set"
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env-file", type=Path, help="KEY=value file (keep it out of git); the environment wins.")
    args = parser.parse_args()
    env: dict[str, str] = {}
    if args.env_file:
        from dotenv import dotenv_values

        env.update({k: v for k, v in dotenv_values(args.env_file).items() if v is not None})
    env.update({k: v for k, v in os.environ.items() if k.startswith("CS_")})
    with api_errors_as_messages():
        check_api_access()
        for name, outcome in create_blocks(env).items():
            print(f"{name:15} {outcome}")


if __name__ == "__main__":
    main()
