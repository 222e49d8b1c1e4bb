"""Maintenance flows: connection tests, the mTLS certificate check, the Box webhook registration."""

from __future__ import annotations

import base64
from collections.abc import Callable

from cryptography import x509
from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.states import Completed, Failed, State

from blocks.box import BoxCredentials
from blocks.dam import DamCredentials
from blocks.mail_server import MailServer
from blocks.tracking_database import TrackingDatabaseBlock
from clients.otmm_auth import load_pfx
from domain.certificates import CertificateCheck, verdict_for
from tasks.box_webhook import delete_folder_webhooks, ensure_folder_webhook, list_folder_webhooks


@flow(name="test-connections", log_prints=True)
def check_connections(dam_block: str = "dam", box_block: str = "box", tracking_db_block: str = "tracking-db",
                     email_block: str = "email") -> State:
    """Try every system once (the DAM with its block's sign-in: OTDS client credentials, OTMM
    session, OTDS or OTMM password grant, or mTLS; Box, tracking database, SMTP).

    Reports a clear per-system result (for the DAM, how it signed in); the run fails when any
    system cannot be reached.

    Args:
        dam_block: Name of the ``DAM Credentials`` block.
        box_block: Name of the ``Box Credentials`` block.
        tracking_db_block: Name of the ``Tracking Database`` block.
        email_block: Name of the ``Mail Server`` block.
    """
    # Each check returns what an "ok" row says beyond "ok" (the DAM: how it signed in).
    checks: dict[str, Callable[[], str]] = {
        f"DAM ({dam_block})": lambda: _check_dam(dam_block),
        f"Box ({box_block})": lambda: _quiet(BoxCredentials.load(box_block).get_client().get_folder_name("0")),
        f"Tracking database ({tracking_db_block})": lambda: _quiet(TrackingDatabaseBlock.load(tracking_db_block)
                                                                   .get_client().ping()),
        f"SMTP ({email_block})": lambda: _quiet(MailServer.load(email_block).get_client().check()),
    }
    rows = []
    for system, check in checks.items():
        try:
            rows.append({"system": system, "result": "ok", "detail": check()})
        except Exception as exc:  # noqa: BLE001 - each system's failure is reported, the others still tried
            rows.append({"system": system, "result": "failed", "detail": f"{type(exc).__name__}: {exc}"})
    for row in rows:
        get_run_logger().info("%s: %s %s", row["system"], row["result"], row["detail"])
    create_table_artifact(table=rows, key="test-connections", description="One row per system")
    failed = [r for r in rows if r["result"] != "ok"]
    message = "; ".join(f"{r['system']}: {r['result']}{' – ' + r['detail'] if r['detail'] else ''}" for r in rows)
    data = {"systems": rows}
    return Failed(message=message, data=data) if failed else Completed(message=message, data=data)


def _quiet(_answer: object) -> str:
    return ""


def _check_dam(block_name: str) -> str:
    """One authenticated DAM call with the block's sign-in; says which sign-in worked."""
    dam = DamCredentials.load(block_name)
    dam.get_client().ping()
    return f"signed in with {dam.sign_in_summary}"


@flow(name="check-certificate", log_prints=True)
def check_certificate(dam_block: str = "dam") -> State:
    """Check the DAM block's mTLS client certificate: the PFX opens with its password, the private
    key is there, the chain length, valid PEM, and days to expiry (warns under 30 days).

    A block that signs in another way has no certificate to check: the run completes and says
    so (a weekly schedule stays quiet for tenants without mTLS).

    Args:
        dam_block: Name of the ``DAM Credentials`` block.
    """
    dam = DamCredentials.load(dam_block)
    if dam.auth_method != "mtls":
        return Completed(message=f"nothing to check: block {dam_block!r} signs in with {dam.sign_in_summary} "
                                 f"(auth_method {dam.auth_method!r}), not with a client certificate")
    if not (dam.pfx_base64 and dam.pfx_password):
        return Failed(message=f"block {dam_block!r} has no client certificate (auth_method {dam.auth_method})")
    try:
        cert = load_pfx(base64.b64decode(dam.pfx_base64.get_secret_value()), dam.pfx_password.get_secret_value())
    except Exception as exc:  # noqa: BLE001 - reported as the check's answer
        return Failed(message=f"the certificate cannot be used: {exc}")
    pem = cert.pem()
    pem_valid = len(x509.load_pem_x509_certificates(pem)) == 1 + len(cert.chain)
    days = cert.expires_in_days()
    result = CertificateCheck(subject=cert.subject, issuer=cert.certificate.issuer.rfc4514_string(),
                              not_valid_after=cert.not_valid_after, days_to_expiry=round(days, 1),
                              chain_length=len(cert.chain), key_present=cert.private_key is not None,
                              pem_valid=pem_valid, verdict=verdict_for(days))
    create_table_artifact(table=[result.model_dump(mode="json")], key="check-certificate",
                          description="The DAM client certificate (no key material)")
    message = (f"{result.subject}: {result.verdict}, expires {result.not_valid_after:%Y-%m-%d} "
               f"({result.days_to_expiry} days), chain of {result.chain_length}, key present, PEM valid")
    if result.verdict == "expires soon":
        get_run_logger().warning("The DAM client certificate expires in %.0f days: renew it", days)
    return Completed(message=message, data=result.model_dump(mode="json")) if result.ok else Failed(message=message)


@flow(name="box-webhook", log_prints=True)
def manage_box_webhook(action: str = "list", address: str | None = None, agency_folder_id: str = "0",
                       box_block: str = "box") -> State:
    """Create, list or delete the Box webhook that announces agency uploads to the receiver.

    ``create`` is idempotent: the agency folder's webhook is created, or pointed at ``address``
    when it points elsewhere, or left alone when it is right. ``delete`` removes it (none there:
    nothing to do). Box delivers only to a public HTTPS address on port 443 (README "Box
    webhooks").

    Args:
        action: ``create``, ``list`` or ``delete``.
        address: The receiver's public URL, e.g. ``https://hooks.example.com/box/webhook`` (create).
        agency_folder_id: Box folder where agencies upload localised files.
        box_block: Name of the ``Box Credentials`` block (its app needs the "Manage webhooks" scope).
    """
    if action not in ("create", "list", "delete"):
        return Failed(message=f"unknown action {action!r}: use create, list or delete")
    if agency_folder_id in ("", "0"):
        return Failed(message="set agency_folder_id to the agency-upload folder: Box allows no webhook on the "
                              "root folder")
    if action == "create" and not (address or "").startswith("https://"):
        return Failed(message=f"address {address!r} is not an HTTPS URL: give the receiver's public address, e.g. "
                              "https://hooks.example.com/box/webhook (Box delivers to HTTPS on port 443 only)")
    box = BoxCredentials.load(box_block)
    if action == "create":
        outcome, hook = ensure_folder_webhook(box, agency_folder_id, address)
        hooks, message = [hook], f"webhook {hook.id} on folder {agency_folder_id} → {hook.address}: {outcome}"
    elif action == "list":
        hooks = list_folder_webhooks(box, agency_folder_id)
        message = (f"{len(hooks)} webhook(s) on folder {agency_folder_id}"
                   + "".join(f"; {h.id} → {h.address} ({', '.join(h.triggers)})" for h in hooks))
    else:
        hooks = delete_folder_webhooks(box, agency_folder_id)
        message = (f"deleted {len(hooks)} webhook(s) on folder {agency_folder_id}" if hooks
                   else f"no webhook on folder {agency_folder_id}: nothing to delete")
    get_run_logger().info(message)
    rows = [h.model_dump() for h in hooks]
    create_table_artifact(table=[{**row, "triggers": ", ".join(row["triggers"])} for row in rows]
                          or [{"id": "", "target_id": agency_folder_id, "target_type": "folder", "address": "",
                               "triggers": ""}],
                          key="box-webhook", description=f"box-webhook {action}")
    return Completed(message=message, data={"action": action, "webhooks": rows})
