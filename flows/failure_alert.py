"""failure-alert: the red error email for a run that crashed.

A flow's own ``on_failure`` hook mails a Failed run at once, from the run's process. A crashed
run (process killed, machine lost, out of memory) runs no hooks, so the Prefect server does it:
the ``failure-alert`` deployment in ``prefect.yaml`` has an event trigger (an automation) on
``prefect.flow-run.Crashed`` for every run tagged ``content-scaling``, and runs this flow with
the crashed run's id.
"""

from __future__ import annotations

from uuid import UUID

from prefect import flow, get_client, get_run_logger
from prefect.settings import PREFECT_UI_URL

from blocks.mail_server import MailServer
from domain.notifications import error_notification
from tasks.notify import send_email

# What the trigger passes: the event's resource id, "prefect.flow-run.<uuid>".
_RESOURCE_PREFIX = "prefect.flow-run."


@flow(name="failure-alert", log_prints=True)
def failure_alert(flow_run_id: str, email_block: str = "email") -> str:
    """Send the error email (to the Mail Server block's error address) about one flow run.

    Args:
        flow_run_id: The run's id, or the event resource id ``prefect.flow-run.<id>``.
        email_block: Name of the ``Mail Server`` block.
    """
    run_id = UUID(flow_run_id.removeprefix(_RESOURCE_PREFIX))
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id)
        flow_name = client.read_flow(run.flow_id).name
    state_name = run.state.name if run.state else "unknown"
    message = (run.state.message if run.state else None) or "no message"
    ui = PREFECT_UI_URL.value()
    link = f"{ui.rstrip('/')}/runs/flow-run/{run_id}" if ui else None
    send_email(MailServer.load(email_block), error_notification(flow_name, state_name, message,
                                                               flow_run=str(run_id), ui_url=link))
    get_run_logger().info("Error email sent for %s run %s (%s)", flow_name, run.name, state_name)
    return f"{flow_name} run {run.name} ended {state_name}: error email sent"
