"""The maintenance operations from a terminal (the same flows as the UI and ``prefect deployment run``).

    .venv/bin/python -m deployments.cli --help
    .venv/bin/python -m deployments.cli update-status C000000078 A2          # lists, then asks
    .venv/bin/python -m deployments.cli update-status "Summer Sale" A1 --yes # no question
    .venv/bin/python -m deployments.cli reset-to-a1 --status A3
    .venv/bin/python -m deployments.cli advance-a1-to-a3
    .venv/bin/python -m deployments.cli test-connections
    .venv/bin/python -m deployments.cli check-certificate
    .venv/bin/python -m deployments.cli box-webhook create --agency-folder-id 123 \
        --address https://hooks.example.com/box/webhook                   # idempotent
    .venv/bin/python -m deployments.cli box-webhook list --agency-folder-id 123
    .venv/bin/python -m deployments.cli box-webhook delete --agency-folder-id 123

Each command is a flow run in the Prefect API the environment points at (``PREFECT_API_URL``),
so it appears in the UI with its logs and artifact. Without ``--yes`` a changing command first
runs as a dry listing, shows it, and asks; the confirmed run then changes what it finds at that
moment (the same selection). Exit code 0 when the run completed, 1 otherwise. A Prefect server
with API authentication needs ``PREFECT_API_AUTH_STRING``; when it is missing or wrong the
command says so in one line (exit code 1) before running anything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer
from prefect.states import State

from deployments.api_access import api_errors_as_messages, check_api_access

app = typer.Typer(help="content-scaling maintenance operations (each one a Prefect flow run).",
                  no_args_is_help=True, add_completion=False)

Yes = Annotated[bool, typer.Option("--yes", "-y", help="Apply without the dry listing and the question.")]
DamBlock = Annotated[str, typer.Option(help="Name of the DAM Credentials block.")]
TrackingBlock = Annotated[str, typer.Option(help="Name of the Tracking Database block.")]


def _finish(state: State) -> None:
    """Print the run's outcome and its plan rows; exit 1 unless it completed."""
    typer.echo(state.message or state.name)
    data = state.result(raise_on_failure=False) if state.is_completed() else None
    if isinstance(data, dict):
        for row in data.get("results") or data.get("changes") or []:
            typer.echo(f"  {row['campaign']}  {row['campaign_name']!r}  {row['status_before']} → "
                       f"{row['status_after']}  {row.get('result', '')}".rstrip())
    if not state.is_completed():
        raise typer.Exit(1)


def _once(run: Callable[..., State], **parameters: Any) -> None:
    """One run of a flow that changes nothing; its outcome."""
    check_api_access()
    _finish(run(return_state=True, **parameters))


def _change(run: Callable[..., State], yes: bool, **parameters: Any) -> None:
    """Dry listing, question, confirmed run (or straight to the confirmed run with --yes)."""
    check_api_access()
    if not yes:
        dry = run(confirm=False, return_state=True, **parameters)
        _finish(dry)  # a refusal or an error ends here (exit 1)
        plan = dry.result(raise_on_failure=False)
        if not (isinstance(plan, dict) and plan.get("changes")):
            return  # nothing to change
        if not typer.confirm("Apply these changes?", default=False):
            typer.echo("Nothing changed.")
            return
    _finish(run(confirm=True, return_state=True, **parameters))


@app.command("update-status")
def update_status(campaign: Annotated[str, typer.Argument(help="Campaign number or part of its name.")],
                  new_status: Annotated[str, typer.Argument(help="A1–A6, B1 or B2.")], yes: Yes = False,
                  dam_block: DamBlock = "dam", tracking_db_block: TrackingBlock = "tracking-db") -> None:
    """Set one campaign's status (several matches: listed, nothing changes)."""
    from flows.status_maintenance import update_campaign_status

    _change(update_campaign_status, yes, campaign=campaign, new_status=new_status, dam_block=dam_block,
            tracking_db_block=tracking_db_block)


@app.command("reset-to-a1")
def reset_to_a1(status: Annotated[str | None, typer.Option(help="Only campaigns in this status (A2–A6).")] = None,
                yes: Yes = False, dam_block: DamBlock = "dam", tracking_db_block: TrackingBlock = "tracking-db") -> None:
    """Put campaigns in A2–A6 back to A1."""
    from flows.status_maintenance import reset_campaigns_to_a1

    _change(reset_campaigns_to_a1, yes, status=status, dam_block=dam_block, tracking_db_block=tracking_db_block)


@app.command("advance-a1-to-a3")
def advance(campaign_number: Annotated[str | None, typer.Option(help="Only this A1 campaign.")] = None,
            yes: Yes = False, dam_block: DamBlock = "dam", tracking_db_block: TrackingBlock = "tracking-db") -> None:
    """Move A1 campaigns straight to A3 (no transfer)."""
    from flows.status_maintenance import advance_a1_to_a3

    _change(advance_a1_to_a3, yes, campaign_number=campaign_number, dam_block=dam_block,
            tracking_db_block=tracking_db_block)


@app.command("test-connections")
def test_connections(dam_block: DamBlock = "dam", box_block: str = "box", tracking_db_block: TrackingBlock = "tracking-db",
                     email_block: str = "email") -> None:
    """Try the DAM (with its block's sign-in: oauth2, session, otds_password, otmm_password or mtls), Box,
    the tracking database and SMTP once."""
    from flows.maintenance import check_connections

    _once(check_connections, dam_block=dam_block, box_block=box_block, tracking_db_block=tracking_db_block,
          email_block=email_block)


@app.command("check-certificate")
def check_certificate(dam_block: DamBlock = "dam") -> None:
    """Check the DAM mTLS client certificate (opens, key, chain, PEM, days to expiry); other sign-ins: nothing to check."""
    from flows.maintenance import check_certificate as check

    _once(check, dam_block=dam_block)


@app.command("box-webhook")
def box_webhook(action: Annotated[str, typer.Argument(help="create, list or delete.")],
                agency_folder_id: Annotated[str, typer.Option(help="The agency-upload folder in Box.")],
                address: Annotated[str | None, typer.Option(
                    help="The receiver's public HTTPS URL, e.g. https://hooks.example.com/box/webhook.")] = None,
                box_block: str = "box") -> None:
    """Create (idempotently), list or delete the Box webhook on the agency-upload folder."""
    from flows.maintenance import manage_box_webhook

    _once(manage_box_webhook, action=action, address=address, agency_folder_id=agency_folder_id, box_block=box_block)


if __name__ == "__main__":
    with api_errors_as_messages():
        app()
