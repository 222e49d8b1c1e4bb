"""The daily report's maths (pandas), from what the Prefect API holds about the flow runs.

Inputs are plain records built from flow runs (state, message) and their keyed table
artifacts (``<workflow>-campaigns``, ``a2-to-a3-files``); nothing here reads logs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
from pydantic import BaseModel, Field

from domain.notifications import Notification, Section, run_url
from domain.run_tables import CampaignRow, FileRow, RequestRow
from domain.transfers import DAM_TO_BOX

# The flows the report adds up: the status transitions in the order of the status they start
# from (A1→A2, A2→A3, A5→A6, B1→B2), then the A4 live-campaign webhook.
_TRANSITIONS = {**{w.name: w.from_status for w in DAM_TO_BOX.values()}, "a2-to-a3": "A2"}
TRANSITION_FLOWS = [*sorted(_TRANSITIONS, key=_TRANSITIONS.__getitem__), "a4-live-webhook"]
# Column headers of the email's per-workflow table (short: the table fits a 600 px mail window).
SHORT_NAMES = {**{w.name: w.short_name for w in DAM_TO_BOX.values()}, "a2-to-a3": "A2→A3",
               "a4-live-webhook": "A4 live"}
# Workflows that send only NOT APPROVED assets (A5→A6): what they sent is the NOT APPROVED count.
_ONLY_REJECTED = {w.name for w in DAM_TO_BOX.values() if w.only_rejected}
METRICS = ["runs", "runs_failed", "runs_crashed", "campaigns_found", "campaigns_processed", "campaigns_completed",
           "campaigns_partial", "assets_succeeded", "assets_failed", "assets_skipped", "not_approved", "errors",
           "box_429s", "success_rate"]


class RunRecord(BaseModel):
    """One flow run of a transition flow, as read from the Prefect API."""

    flow_run_id: str
    workflow: str
    state_type: str  # COMPLETED, FAILED, CRASHED, CANCELLED
    state_name: str
    message: str = ""
    end_time: datetime | None = None
    campaigns: list[CampaignRow] = Field(default_factory=list, description="Its <workflow>-campaigns table.")
    files: list[FileRow] = Field(default_factory=list, description="Its a2-to-a3-files table (A2→A3 only).")
    requests: list[RequestRow] = Field(default_factory=list, description="Its <workflow>-requests table.")


class DailyReport(BaseModel):
    since: datetime
    until: datetime
    per_workflow: list[dict[str, Any]]
    total: dict[str, Any]
    campaigns: list[dict[str, Any]]
    errors: list[dict[str, Any]]


def compute_report(runs: list[RunRecord], since: datetime, until: datetime,
                   workflows: list[str] = TRANSITION_FLOWS) -> DailyReport:
    run_df = pd.DataFrame([{"workflow": r.workflow, "state_type": r.state_type, "flow_run_id": r.flow_run_id}
                           for r in runs], columns=["workflow", "state_type", "flow_run_id"])
    camp_columns = ["campaign", "campaign_name", "outcome", "error", "assets_succeeded", "assets_failed",
                    "assets_skipped"]
    camp_df = pd.DataFrame(
        [{**c.model_dump(include=set(camp_columns)), "workflow": r.workflow, "end_time": r.end_time,
          "flow_run_id": r.flow_run_id}
         for r in runs for c in r.campaigns if c.campaign],  # not the placeholder row of a run without campaigns
        columns=[*camp_columns, "workflow", "end_time", "flow_run_id"])
    rows = []
    for workflow in workflows:
        w_runs = run_df[run_df.workflow == workflow]
        w_camp = camp_df[camp_df.workflow == workflow]
        completed = set(w_camp[w_camp.outcome == "complete"].campaign)
        unfinished = set(w_camp[w_camp.outcome.isin(["partial", "error"])].campaign) - completed
        succeeded, failed = int(w_camp.assets_succeeded.sum()), int(w_camp.assets_failed.sum())
        failed_runs = int((w_runs.state_type == "FAILED").sum())
        crashed_runs = int((w_runs.state_type == "CRASHED").sum())
        rows.append({
            "workflow": workflow, "runs": len(w_runs), "runs_failed": failed_runs, "runs_crashed": crashed_runs,
            "campaigns_found": int(w_camp.campaign.nunique()),
            "campaigns_processed": len(completed | unfinished), "campaigns_completed": len(completed),
            "campaigns_partial": len(unfinished), "assets_succeeded": succeeded, "assets_failed": failed,
            "assets_skipped": int(w_camp.assets_skipped.sum()),
            "not_approved": succeeded + failed if workflow in _ONLY_REJECTED else 0,
            "errors": failed + int((w_camp.outcome == "error").sum()) + failed_runs + crashed_runs,
            "box_429s": sum(q.rate_limited for r in runs if r.workflow == workflow for q in r.requests
                            if q.system == "box"),
            "success_rate": _rate(succeeded, failed),
        })
    per = pd.DataFrame(rows, columns=["workflow", *METRICS])
    total = {m: int(per[m].sum()) for m in METRICS if m != "success_rate"}
    total["success_rate"] = _rate(total["assets_succeeded"], total["assets_failed"])
    errors = [{"workflow": r.workflow, "flow_run_id": r.flow_run_id, "state": r.state_name, "error": r.message}
              for r in runs if r.state_type in ("FAILED", "CRASHED")]
    errors += [{"workflow": row.workflow, "flow_run_id": row.flow_run_id, "state": f"campaign {row.campaign}",
                "error": row.error} for row in camp_df.itertuples() if row.error]
    details = camp_df.sort_values(["workflow", "campaign", "end_time"]).drop(columns=["end_time"])
    return DailyReport(since=since, until=until, per_workflow=rows, total=total,
                       campaigns=details.to_dict("records"), errors=errors)


def _rate(succeeded: int, failed: int) -> float | None:
    return round(100.0 * succeeded / (succeeded + failed), 1) if succeeded + failed else None


def _fmt(value: Any) -> str:
    return "–" if value is None else (f"{value}%" if isinstance(value, float) else str(value))


def to_markdown(report: DailyReport) -> str:
    header = "| workflow | " + " | ".join(m.replace("_", " ") for m in METRICS) + " |"
    lines = [f"# Daily report {report.since:%Y-%m-%d %H:%M} – {report.until:%Y-%m-%d %H:%M} UTC", "", header,
             "|" + "---|" * (len(METRICS) + 1)]
    for row in [*report.per_workflow, {"workflow": "**total**", **report.total}]:
        lines.append(f"| {row['workflow']} | " + " | ".join(_fmt(row[m]) for m in METRICS) + " |")
    lines += ["", f"## Campaigns ({len(report.campaigns)})", "", "| workflow | campaign | name | outcome | succeeded "
              "| failed | skipped |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {c['workflow']} | {c['campaign']} | {_md(c['campaign_name'])} | {c['outcome']} | "
              f"{c['assets_succeeded']} | {c['assets_failed']} | {c['assets_skipped']} |" for c in report.campaigns]
    lines += ["", f"## Errors ({len(report.errors)})", ""]
    lines += [f"- **{e['workflow']}** ({e['state']}): {_md(e['error'])}" for e in report.errors] or ["None."]
    return "\n".join(lines) + "\n"


def _md(text: Any) -> str:
    return str(text or "").replace("|", "\\|").replace("\n", " ")


def report_notification(report: DailyReport, flow_run: str | None = None,
                        ui_url: str | None = None) -> Notification:
    """The blue dashboard email: per-workflow table (one column per workflow, so it fits a mail
    window), then collapsible campaign details and errors (each failed run linked to the Prefect
    UI when ``ui_url`` is known, its id otherwise)."""
    total = report.total
    per = report.per_workflow
    errors = report.errors
    return Notification(
        kind="daily_report", tone="blue", workflow="daily-report", flow_run=flow_run,
        subject=f"[content-scaling] Daily report {report.until:%Y-%m-%d}: {total['campaigns_completed']} campaign(s) "
                f"completed, {total['errors']} error(s)",
        headline=f"Daily report {report.since:%Y-%m-%d %H:%M} – {report.until:%Y-%m-%d %H:%M} UTC",
        facts=[("Runs", str(total["runs"])), ("Campaigns completed", str(total["campaigns_completed"])),
               ("Campaigns partial", str(total["campaigns_partial"])),
               ("Assets succeeded / failed / skipped",
                f"{total['assets_succeeded']} / {total['assets_failed']} / {total['assets_skipped']}"),
               ("NOT APPROVED", str(total["not_approved"])), ("Success rate", _fmt(total["success_rate"])),
               ("Errors", str(total["errors"])),
               ("Runs failed / crashed", f"{total['runs_failed']} / {total['runs_crashed']}")],
        sections=[
            Section(title="Per workflow",
                    columns=["", *[SHORT_NAMES.get(r["workflow"], r["workflow"]) for r in per], "Total"],
                    rows=[[m.replace("_", " "), *[_fmt(r[m]) for r in per], _fmt(total[m])] for m in METRICS]),
            Section(title="Campaign details", columns=["Workflow", "Campaign", "Name", "Outcome", "OK", "Failed"],
                    rows=[[c["workflow"], c["campaign"], str(c["campaign_name"] or ""), c["outcome"],
                           str(c["assets_succeeded"]), str(c["assets_failed"])] for c in report.campaigns]),
            Section(title="Errors", columns=["Workflow", "Where", "Error", "Flow run"],
                    rows=[[e["workflow"], e["state"], str(e["error"] or ""),
                           e["flow_run_id"][:8] if run_url(ui_url, e["flow_run_id"]) else e["flow_run_id"]]
                          for e in errors],
                    row_urls=[run_url(ui_url, e["flow_run_id"]) or "" for e in errors], link_column=3),
        ])
