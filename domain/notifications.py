"""The emails of every workflow: what each says (builders) and how it looks (one Jinja2 layout).

Tones: green complete, orange partial, red error, blue report. Every value is escaped in the
HTML (autoescape), and each email also has a plain-text part.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from pydantic import BaseModel, Field

from domain.localised_files import ImportOutcome, ImportResult
from domain.rejections import REVIEWERS
from domain.transfers import AssetOutcome, CampaignOutcome, CampaignResult

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "email"
BOX_FOLDER_URL = "https://app.box.com/folder/{}"
Tone = Literal["green", "orange", "red", "blue"]


class Section(BaseModel):
    title: str
    columns: list[str]
    rows: list[list[str]] = Field(default_factory=list)
    row_tags: list[str] = Field(default_factory=list, description="Per row: a reviewer name (colour) or ''.")


class Notification(BaseModel):
    """One email, before rendering."""

    kind: str = Field(description="e.g. a1_to_a2_complete (one of the 12 notifications).")
    tone: Tone
    subject: str
    headline: str
    facts: list[tuple[str, str]] = Field(default_factory=list)
    paragraphs: list[str] = Field(default_factory=list)
    sections: list[Section] = Field(default_factory=list)
    links: list[tuple[str, str]] = Field(default_factory=list)
    next_steps: list[str] = Field(default_factory=list)
    workflow: str
    flow_run: str | None = None


class RenderedEmail(BaseModel):
    subject: str
    html: str
    text: str


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html.j2"]),
                       undefined=StrictUndefined, trim_blocks=False, keep_trailing_newline=True)


def render(notification: Notification) -> RenderedEmail:
    env = _environment()
    return RenderedEmail(subject=notification.subject,
                         html=env.get_template("layout.html.j2").render(n=notification),
                         text=env.get_template("layout.txt.j2").render(n=notification))


# -- DAM→Box workflows (A1→A2, A5→A6, B1→B2) -------------------------------------------------
_KINDS = {
    ("a1-to-a2", CampaignOutcome.COMPLETE): "a1_to_a2_complete",
    ("a1-to-a2", CampaignOutcome.PARTIAL): "a1_to_a2_partial",
    ("a1-to-a2", CampaignOutcome.ERROR): "a1_to_a2_partial",
    ("a1-to-a2", CampaignOutcome.NO_ASSETS): "a1_to_a2_no_assets",
    ("a5-to-a6", CampaignOutcome.COMPLETE): "a5_to_a6_rejections",
    ("a5-to-a6", CampaignOutcome.PARTIAL): "a5_to_a6_partial",
    ("a5-to-a6", CampaignOutcome.ERROR): "a5_to_a6_partial",
    ("a5-to-a6", CampaignOutcome.NO_ASSETS): "a5_to_a6_no_rejections",
    ("b1-to-b2", CampaignOutcome.COMPLETE): "b1_to_b2_complete",
    ("b1-to-b2", CampaignOutcome.PARTIAL): "b1_to_b2_partial",
    ("b1-to-b2", CampaignOutcome.ERROR): "b1_to_b2_partial",
    ("b1-to-b2", CampaignOutcome.NO_ASSETS): "b1_to_b2_no_assets",
}


def campaign_notification(workflow: str, result: CampaignResult, flow_run: str | None = None) -> Notification:
    """The email of one campaign after a DAM→Box run (complete / partial / nothing to do)."""
    kind = _KINDS[(workflow, result.outcome)]
    c = result.campaign
    sent = [a for a in result.assets if a.succeeded]
    failed = [a for a in result.assets if a.outcome == AssetOutcome.FAILED]
    facts = [("Campaign", f"{c.number} – {c.name}"), ("Status", f"{result.status_before} → {result.status_after}"),
             ("Assets in Box", str(len(sent))), ("Failed", str(len(failed)))]
    links = [("Open the Box folder", BOX_FOLDER_URL.format(result.box_folder_id))] if result.box_folder_id else []
    sections: list[Section] = []
    steps: list[str] = []
    if kind.startswith("a5_to_a6"):
        rejected = [a for a in result.assets if a.outcome != AssetOutcome.SKIPPED]
        sections.append(_rejections(rejected))
    elif sent:
        sections.append(Section(title="Assets in Box", columns=["Tracking ID", "DAM path", "Box path"],
                                rows=[[a.tracking_id or "", a.dam_path, a.box_path or ""] for a in sent]))
    if failed or result.error:
        sections.append(Section(title="What failed", columns=["DAM path", "Error"],
                                rows=[[a.dam_path, a.error or ""] for a in failed]
                                + ([["(campaign)", result.error]] if result.error else [])))
    if result.outcome == CampaignOutcome.COMPLETE:
        tone: Tone = "green"
        headline = {"a1-to-a2": "Master assets are in Box for adaptation",
                    "a5-to-a6": "Rejected assets are in Box for rework",
                    "b1-to-b2": "Global master assets are in Box"}[workflow]
    elif result.outcome == CampaignOutcome.NO_ASSETS:
        tone = "orange"
        headline = {"a1-to-a2": "No master assets to send", "a5-to-a6": "No rejected assets",
                    "b1-to-b2": "No final assets to send"}[workflow]
        steps.append(f"Check the campaign's folder in the DAM; the status stays {result.status_before}.")
    else:
        tone = "orange"
        headline = "Some assets could not be copied; the status did not change"
        steps += [f"The status stays {result.status_before}: the next scheduled run retries only what failed.",
                  f"To retry now: prefect deployment run {workflow}/{workflow} -p campaign_number={c.number}"]
    return Notification(kind=kind, tone=tone, subject=f"[{workflow}] {c.number} {c.name}: {headline}",
                        headline=headline, facts=facts, sections=sections, links=links, next_steps=steps,
                        workflow=workflow, flow_run=flow_run)


def _rejections(rejected: list) -> Section:  # noqa: ANN001 - AssetResult
    rows, tags = [], []
    for a in rejected:
        for key, reviewer in REVIEWERS.items():
            comment = a.details.get(f"{key}_comments", "")
            if comment or key == "approver":
                rows.append([a.tracking_id or "", a.dam_path, reviewer, comment,
                             a.details.get(f"{key}_certifier", ""), a.details.get(f"{key}_date", "")])
                tags.append(reviewer)
    return Section(title="Rejected assets and reviewer comments",
                   columns=["Tracking ID", "DAM path", "Reviewer", "Comments", "Certifier", "Date"],
                   rows=rows, row_tags=tags)


# -- A2→A3 ---------------------------------------------------------------------------------
def files_uploaded_notification(results: list[ImportResult], flow_run: str | None = None) -> Notification:
    """a2_to_a3_file_uploaded: what came back into the DAM, and what stays in Box and why."""
    imported = [r for r in results if r.outcome == ImportOutcome.IMPORTED]
    left = [r for r in results if r.outcome.left_in_box and r.outcome != ImportOutcome.DRY_RUN]
    tone: Tone = "green" if not left else "orange"
    headline = f"{len(imported)} localised file(s) imported into the DAM"
    steps = ["Rename or re-upload the files left in Box; they are picked up by the next run."] if left else []
    return Notification(
        kind="a2_to_a3_file_uploaded", tone=tone, subject=f"[a2-to-a3] {headline}", headline=headline,
        facts=[("Imported", str(len(imported))), ("Left in Box", str(len(left)))],
        sections=[Section(title="Imported", columns=["Tracking ID", "Campaign", "Box file", "DAM asset", "CreativeX"],
                          rows=[[r.tracking_id or "", r.campaign_number or "", r.box_path, r.dam_asset_id or "",
                                 r.creativex or ""] for r in imported]),
                  Section(title="Left in Box", columns=["Box file", "Why"],
                          rows=[[r.box_path, r.reason] for r in left])],
        next_steps=steps, workflow="a2-to-a3", flow_run=flow_run)


def a2_to_a3_complete_notification(campaign_number: str, campaign_name: str,
                                   flow_run: str | None = None) -> Notification:
    headline = "Every master has its localised version back: status A2 → A3"
    return Notification(kind="a2_to_a3_complete", tone="green",
                        subject=f"[a2-to-a3] {campaign_number} {campaign_name}: {headline}", headline=headline,
                        facts=[("Campaign", f"{campaign_number} – {campaign_name}"), ("Status", "A2 → A3")],
                        next_steps=["The localised assets are in the DAM's Final Assets folder, ready for review."],
                        workflow="a2-to-a3", flow_run=flow_run)


# -- errors --------------------------------------------------------------------------------
def error_notification(workflow: str, state_name: str, message: str, flow_run: str | None = None,
                       ui_url: str | None = None) -> Notification:
    headline = f"The {workflow} run ended {state_name}"
    return Notification(kind="error", tone="red", subject=f"[{workflow}] ERROR: run {state_name}", headline=headline,
                        facts=[("Workflow", workflow), ("State", state_name)], paragraphs=[message],
                        links=[("Open the flow run", ui_url)] if ui_url else [],
                        next_steps=["Read the run's logs and artifact in the Prefect UI.",
                                    "Fix the cause, then retry: prefect flow-run retry <id>, or wait for the next "
                                    "scheduled run (nothing that succeeded is redone)."],
                        workflow=workflow, flow_run=flow_run)
