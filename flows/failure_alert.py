"""failure-alert: a crashed run counts toward its flow's outage (alert when it starts one).

A flow's own hooks report its failed and completed runs (``tasks/alerts.py``). A crashed run
(process killed, machine lost, out of memory) runs no hooks, so the Prefect server reports it:
the ``failure-alert`` deployment in ``prefect.yaml`` has an event trigger (an automation) on
``prefect.flow-run.Crashed`` for every run tagged ``content-scaling``, and runs this flow with
the crashed run's id. A crash counts like a failed run: it alerts when it starts an outage, is
counted when the flow is already failing, and the next completed run sends "resolved".
"""

from __future__ import annotations

from uuid import UUID

from prefect import flow, get_client, get_run_logger

from tasks.alerts import report_run_end, run_end

# What the trigger passes: the event's resource id, "prefect.flow-run.<uuid>".
_RESOURCE_PREFIX = "prefect.flow-run."


@flow(name="failure-alert", log_prints=True)
def failure_alert(flow_run_id: str, email_block: str = "email", tracking_db_block: str = "tracking-db") -> str:
    """Count a crashed (or failed) flow run toward its flow's outage; alert if it starts one.

    The alert goes to the ``Mail Server`` block's error recipients and notification blocks.
    The crashed run's own ``email_block`` / ``tracking_db_block`` parameters win over these.

    Args:
        flow_run_id: The run's id, or the event resource id ``prefect.flow-run.<id>``.
        email_block: Name of the ``Mail Server`` block.
        tracking_db_block: Name of the ``Tracking Database`` block (where outages are kept).
    """
    run_id = UUID(flow_run_id.removeprefix(_RESOURCE_PREFIX))
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id)
        flow_name = client.read_flow(run.flow_id).name
    parameters = run.parameters or {}
    outcome = report_run_end(run_end(flow_name, str(run_id), run.state),
                             email_block=parameters.get("email_block", email_block),
                             tracking_db_block=parameters.get("tracking_db_block", tracking_db_block))
    get_run_logger().info("%s run %s (%s): %s", flow_name, run.name, run.state.name if run.state else "?", outcome)
    return f"{flow_name} run {run.name} ended {run.state.name if run.state else 'unknown'}: {outcome}"
