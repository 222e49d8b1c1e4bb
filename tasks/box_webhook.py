"""Prefect tasks for the Box webhook on the agency-upload folder: make sure it is there, list it, remove it."""

from __future__ import annotations

from prefect import get_run_logger

from blocks.box import BoxCredentials
from clients.box import BoxWebhook
from clients.errors import Conflict, NotFound
from tasks.retry import io_task

AGENCY_UPLOAD_TRIGGERS = ["FILE.UPLOADED"]


@io_task(name="ensure-box-webhook")
def ensure_folder_webhook(box: BoxCredentials, folder_id: str, address: str) -> tuple[str, BoxWebhook]:
    """The folder's webhook to ``address`` for uploads: ``created``, ``updated`` (another address or
    other triggers) or ``unchanged``. Idempotent, and safe when two runs create it at once (Box
    allows one webhook per folder for an app and user, so the loser's 409 adopts the winner's)."""
    store = box.get_client()
    existing = store.list_webhooks(folder_id)
    if not existing:
        try:
            return "created", store.create_folder_webhook(folder_id, address, AGENCY_UPLOAD_TRIGGERS)
        except Conflict:
            existing = store.list_webhooks(folder_id)
    hook = existing[0]
    if hook.address == address and sorted(hook.triggers) == AGENCY_UPLOAD_TRIGGERS:
        return "unchanged", hook
    get_run_logger().info("Webhook %s on folder %s pointed at another address or triggers: updating it", hook.id,
                          folder_id)
    return "updated", store.update_webhook(hook.id, address, AGENCY_UPLOAD_TRIGGERS)


@io_task(name="list-box-webhooks")
def list_folder_webhooks(box: BoxCredentials, folder_id: str) -> list[BoxWebhook]:
    """The app's webhooks on the folder (at most one, by Box's rule)."""
    return box.get_client().list_webhooks(folder_id)


@io_task(name="delete-box-webhooks")
def delete_folder_webhooks(box: BoxCredentials, folder_id: str) -> list[BoxWebhook]:
    """Remove the app's webhooks on the folder; the ones removed (none: nothing to do)."""
    store, removed = box.get_client(), []
    for hook in store.list_webhooks(folder_id):
        try:
            store.delete_webhook(hook.id)
        except NotFound:  # removed by someone else meanwhile
            continue
        removed.append(hook)
    return removed
