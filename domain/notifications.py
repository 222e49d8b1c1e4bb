"""The emails of every workflow: what each says (builders) and how it looks (one Jinja2 layout).

Tones: green complete, orange partial, red error, blue report; the header also says it in
words (colour is never the only signal). Every value is escaped in the HTML (autoescape), and
each email also has a plain-text part. The layout fits a 600 px mail window (wide tables wrap
or scroll inside their cell) and keeps its colours readable in dark mode
(``deployments/email_check.py`` looks at it in a headless browser). Alerts to chat channels
(Slack, Teams, webhooks) use :func:`chat_message`, a short plain-text version.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape
from pydantic import BaseModel, Field, model_validator

from domain.localised_files import ImportOutcome, ImportResult
from domain.notification_rules import Outage, Situation, campaign_situation, files_left_situation
from domain.rejections import REVIEWERS
from domain.transfers import DAM_TO_BOX, AssetOutcome, CampaignOutcome, CampaignResult, TransferWorkflow

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "email"
BOX_FOLDER_URL = "https://app.box.com/folder/{}"
Tone = Literal["green", "orange", "red", "blue"]
# The header's first line, in words: what the colour means, and which workflow.
TONE_WORDS = {"green": "Done", "orange": "Needs attention", "red": "Failing", "blue": "Report"}
WORKFLOW_TITLES = {
    **{w.name: w.title for w in DAM_TO_BOX.values()},
    "a2-to-a3": "A2 → A3 · localised files into the DAM",
    "a4-live-webhook": "A4 · live-campaign webhook",
    "daily-report": "all transition flows",
}
ERROR_KINDS = {"error", "resolved"}  # sent to the error recipients (and the alert channels)
# Rows an email shows per table: the rest is in the run's artifact (and Gmail cuts messages
# over ~100 KB, so a 200-row table would hide the end of the email).
MAX_ROWS = 50


class Section(BaseModel):
    title: str
    columns: list[str]
    rows: list[list[str]] = Field(default_factory=list)
    row_tags: list[str] = Field(default_factory=list, description="Per row: a reviewer name (colour) or ''.")
    row_urls: list[str] = Field(default_factory=list, description="Per row: a link for the cell in link_column, or ''.")
    link_column: int = 0


class Notification(BaseModel):
    """One email, before rendering."""

    kind: str = Field(description="e.g. a1_to_a2_complete (one of the 12 notifications, or resolved).")
    tone: Tone
    subject: str
    headline: str
    label: str = Field("", description="The header's first line in words; from tone and workflow when empty.")
    facts: list[tuple[str, str]] = Field(default_factory=list)
    paragraphs: list[str] = Field(default_factory=list)
    sections: list[Section] = Field(default_factory=list)
    links: list[tuple[str, str]] = Field(default_factory=list)
    next_steps: list[str] = Field(default_factory=list)
    workflow: str
    flow_run: str | None = None
    flow_run_url: str | None = Field(None, description="The run in the Prefect UI (PREFECT_UI_URL set).")
    situation: Situation | None = Field(None, description="What it is about, for the once-only rule; None: "
                                                          "always sent.")

    @model_validator(mode="after")
    def _default_label(self) -> Notification:
        if not self.label:
            self.label = f"{TONE_WORDS[self.tone]} · {WORKFLOW_TITLES.get(self.workflow, self.workflow)}"
        return self

    @property
    def to_error_recipients(self) -> bool:
        return self.kind in ERROR_KINDS

    def with_run_link(self, ui_url: str | None) -> Notification:
        """This notification linking to its flow run in the Prefect UI at ``ui_url`` (if any)."""
        url = run_url(ui_url, self.flow_run)
        return self.model_copy(update={"flow_run_url": url}) if url and not self.flow_run_url else self


def run_url(ui_url: str | None, flow_run_id: str | None) -> str | None:
    """The flow run's page in the Prefect UI, or None without a UI address or a run."""
    if not ui_url or not flow_run_id:
        return None
    return f"{ui_url.rstrip('/')}/runs/flow-run/{flow_run_id}"


class RenderedEmail(BaseModel):
    subject: str
    html: str
    text: str


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html.j2"]),
                      undefined=StrictUndefined, trim_blocks=False, keep_trailing_newline=True)
    env.filters["breakable"] = breakable
    env.globals["MAX_ROWS"] = MAX_ROWS
    return env


_SEPARATORS = r"/\\_.\-@,;:|+=&?"
# A run of at most 16 ordinary characters with the separators after it, or separators, or spaces.
_PIECE = re.compile(rf"[^\s{_SEPARATORS}]{{1,16}}[{_SEPARATORS}]*|[{_SEPARATORS}]+|\s+")


def breakable(value: object) -> Markup:
    """``value`` escaped, with a line-break opportunity (``<wbr>``) after path separators and
    every 16 characters of an unbroken run: a table column of long paths or ids can then be
    as narrow as a mail window needs, while words and short values stay whole."""
    pieces = _PIECE.findall(str(value))
    out: list[str] = []
    for before, piece in zip([" ", *pieces], pieces, strict=False):  # each piece with the one before
        if not before.isspace() and not piece.isspace():
            out.append(Markup("<wbr>"))
        out.append(escape(piece))
    return Markup("").join(out)


def render(notification: Notification) -> RenderedEmail:
    env = _environment()
    return RenderedEmail(subject=notification.subject,
                         html=env.get_template("layout.html.j2").render(n=notification),
                         text=env.get_template("layout.txt.j2").render(n=notification))


def chat_message(notification: Notification, max_facts: int = 8) -> tuple[str, str]:
    """(subject, body) for a chat channel: the headline, the key facts, the first paragraph and
    the link to the run; no tables (a chat message is read at a glance)."""
    n = notification
    lines = [f"{n.label}: {n.headline}", *(f"{label}: {value}" for label, value in n.facts[:max_facts])]
    lines += [p if len(p) <= 400 else p[:399] + "…" for p in n.paragraphs[:1]]
    lines.append(f"Flow run: {n.flow_run_url or n.flow_run or '-'}")
    return n.subject, "\n".join(lines)


# -- DAM→Box workflows (A1→A2, A5→A6, B1→B2) -------------------------------------------------
def campaign_notification(workflow: str | TransferWorkflow, result: CampaignResult,
                          flow_run: str | None = None) -> Notification:
    """The email of one campaign after a DAM→Box run (complete / partial / nothing to do).

    ``workflow``: the workflow or its name (a key of ``DAM_TO_BOX``); its wording says the rest.
    """
    w = TransferWorkflow.named(workflow) if isinstance(workflow, str) else workflow
    kind = w.notification_kind(result.outcome)
    c = result.campaign
    sent = [a for a in result.assets if a.succeeded]
    failed = [a for a in result.assets if a.outcome == AssetOutcome.FAILED]
    selected = [a for a in result.assets if a.outcome != AssetOutcome.SKIPPED]
    facts = [("Campaign", f"{c.number} – {c.name}"), ("Status", f"{result.status_before} → {result.status_after}"),
             ("Assets in Box", str(len(sent))), ("Failed", str(len(failed)))]
    links = [("Open the Box folder", BOX_FOLDER_URL.format(result.box_folder_id))] if result.box_folder_id else []
    sections: list[Section] = []
    steps: list[str] = []
    if w.only_rejected:  # the reviewers' comments are what the agency needs
        sections.append(_rejections(selected))
    elif sent:
        sections.append(Section(title="Assets in Box", columns=["Tracking ID", "DAM path", "Box path"],
                                rows=[[a.tracking_id or "", a.dam_path, a.box_path or ""] for a in sent]))
    if failed or result.error:
        sections.append(Section(title="What failed", columns=["DAM path", "Error"],
                                rows=[[a.dam_path, a.error or ""] for a in failed]
                                + ([["(campaign)", result.error]] if result.error else [])))
    if result.outcome == CampaignOutcome.COMPLETE:
        tone: Tone = "green"
        are = "is" if len(sent) == 1 else "are"
        headline = w.wording.complete.format(assets=_count(len(sent), w.wording.asset_noun), are=are)
    elif result.outcome == CampaignOutcome.NO_ASSETS:
        tone = "orange"
        headline = w.wording.no_assets
        steps += [f"Check the campaign's folder in the DAM; the status stays {result.status_before}.",
                  "You are told again when this changes, not on every run."]
    else:
        tone = "orange"
        headline = (f"Some assets could not be copied ({len(failed)} of {len(selected)}); "
                    f"the status stays {result.status_before}") if selected else \
            f"The campaign could not be processed; the status stays {result.status_before}"
        steps += [f"The status stays {result.status_before}: the next scheduled run retries only what failed "
                  "(you are told again only if the failures change).",
                  f"To retry now: prefect deployment run {w.name}/{w.name} -p campaign_number={c.number}"]
    return Notification(kind=kind, tone=tone, subject=f"[{w.name}] {c.number} {c.name}: {headline}",
                        headline=headline, facts=facts, sections=sections, links=links, next_steps=steps,
                        workflow=w.name, flow_run=flow_run, situation=campaign_situation(w.name, result, kind))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


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
def files_uploaded_notification(results: list[ImportResult], flow_run: str | None = None,
                                whole_folder: bool = True) -> Notification:
    """a2_to_a3_file_uploaded: what came back into the DAM, and what stays in Box and why.

    ``whole_folder``: the run listed the whole agency folder (the poll), so the files left in
    Box are a situation told once while unchanged; a webhook run sees only the files announced
    to it, and its email (an import) is sent without touching that memory.
    """
    imported = [r for r in results if r.outcome == ImportOutcome.IMPORTED]
    left = [r for r in results if r.outcome.left_in_box and r.outcome != ImportOutcome.DRY_RUN]
    tone: Tone = "green" if not left else "orange"
    headline = f"{len(imported)} localised file(s) imported into the DAM" if imported else \
        f"{len(left)} localised file(s) left in Box, none imported"
    steps = ["Rename or re-upload the files left in Box; they are picked up by the next run."] if left else []
    if left and not imported:
        steps.append("You are told again when the files left in Box change, not on every run.")
    return Notification(
        kind="a2_to_a3_file_uploaded", tone=tone, subject=f"[a2-to-a3] {headline}", headline=headline,
        facts=[("Imported", str(len(imported))), ("Left in Box", str(len(left)))],
        sections=[Section(title="Imported", columns=["Tracking ID", "Campaign", "Box file", "DAM asset", "CreativeX"],
                          rows=[[r.tracking_id or "", r.campaign_number or "", r.box_path, r.dam_asset_id or "",
                                 r.creativex or ""] for r in imported]),
                  Section(title="Left in Box", columns=["Box file", "Why"],
                          rows=[[r.box_path, r.reason] for r in left])],
        next_steps=steps, workflow="a2-to-a3", flow_run=flow_run,
        situation=files_left_situation(results, "a2_to_a3_file_uploaded") if whole_folder else None)


def a2_to_a3_complete_notification(campaign_number: str, campaign_name: str,
                                   flow_run: str | None = None) -> Notification:
    headline = "Every master has its localised version back: status A2 → A3"
    return Notification(kind="a2_to_a3_complete", tone="green",
                        subject=f"[a2-to-a3] {campaign_number} {campaign_name}: {headline}", headline=headline,
                        facts=[("Campaign", f"{campaign_number} – {campaign_name}"), ("Status", "A2 → A3")],
                        next_steps=["The localised assets are in the DAM's Final Assets folder, ready for review."],
                        workflow="a2-to-a3", flow_run=flow_run)


# -- outage alerts ------------------------------------------------------------------------
def error_notification(workflow: str, state_name: str, message: str, flow_run: str | None = None,
                       remembered: bool = True) -> Notification:
    """The red alert of a flow that starts failing (its first failed or crashed run).

    ``remembered`` False: the outage could not be recorded (tracking database unreachable), so
    this alert goes out for every failed run until it can be.
    """
    headline = f"{workflow} is failing: the run ended {state_name}"
    then = (f"You get one more email when a run of {workflow} completes again; failed runs until then are "
            "counted, not mailed." if remembered else
            "The tracking database could not be reached to remember this outage: every failed run sends this "
            "email until it can.")
    return Notification(kind="error", tone="red", subject=f"[{workflow}] ERROR: run {state_name}", headline=headline,
                        facts=[("Workflow", workflow), ("State", state_name)], paragraphs=[message],
                        next_steps=["Read the run's logs and artifact in the Prefect UI.",
                                    "Fix the cause, then retry: prefect flow-run retry <id>, or wait for the next "
                                    "scheduled run (nothing that succeeded is redone).", then],
                        workflow=workflow, flow_run=flow_run)


def resolved_notification(outage: Outage, flow_run: str | None = None, ui_url: str | None = None) -> Notification:
    """The green "resolved" alert: a run completed after an outage, with what the outage was."""
    w = outage.workflow
    headline = f"{w} works again after {_count(outage.runs, 'failed run')}"
    first = run_url(ui_url, outage.first_flow_run_id)
    return Notification(
        kind="resolved", tone="green", label=f"Resolved · {WORKFLOW_TITLES.get(w, w)}",
        subject=f"[{w}] RESOLVED: a run completed after {outage.failed_runs} failed and {outage.crashed_runs} "
                "crashed run(s)", headline=headline,
        facts=[("Workflow", w), ("Failing since", f"{outage.started_at:%Y-%m-%d %H:%M} UTC"),
               ("Last failed run", f"{outage.last_at:%Y-%m-%d %H:%M} UTC"), ("Failed runs", str(outage.failed_runs)),
               ("Crashed runs", str(outage.crashed_runs)),
               ("First failed run", outage.first_flow_run_id + ("" if first else f" ({outage.first_state})"))],
        paragraphs=[f"The first failed run ended {outage.first_state}: {outage.first_message or 'no message'}"],
        links=[("Open the first failed run", first)] if first else [],
        next_steps=["Nothing to do: the scheduled runs pick up what the failed runs left (nothing that succeeded "
                    "is redone). The daily report lists every failed run."],
        workflow=w, flow_run=flow_run)
