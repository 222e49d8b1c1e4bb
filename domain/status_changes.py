"""Planned campaign status changes of the maintenance operations (pure logic, no I/O).

An operator's request becomes a :class:`StatusChangePlan`: the changes that would be made, or
the reason nothing will be (no match, several matches, an unknown status). The flows list the
plan first and apply it only when confirmed, so a plan is what the operator reads and agrees to.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from domain.campaigns import Campaign, CampaignStatus

# Statuses a campaign can be reset from (back to A1), in the order of the workflow.
RESETTABLE = (CampaignStatus.A2, CampaignStatus.A3, CampaignStatus.A4, CampaignStatus.A5, CampaignStatus.A6)


class StatusChange(BaseModel):
    """One campaign moving from one status to another."""

    campaign: Campaign
    to_status: str

    @property
    def from_status(self) -> str:
        return self.campaign.status

    def row(self) -> dict[str, str]:
        return {"campaign": self.campaign.number, "campaign_name": self.campaign.name,
                "status_before": self.from_status, "status_after": self.to_status}


class StatusChangePlan(BaseModel):
    """What an operation would change, or why it refuses to change anything."""

    operation: str
    changes: list[StatusChange] = Field(default_factory=list)
    refusal: str | None = Field(None, description="Why nothing will change (set only when refused).")
    candidates: list[Campaign] = Field(default_factory=list, description="Matches listed with a refusal.")

    @property
    def refused(self) -> bool:
        return self.refusal is not None

    def describe(self) -> str:
        """One line for logs, state messages and the CLI."""
        if self.refused:
            return self.refusal or ""
        if not self.changes:
            return f"{self.operation}: no campaign to change"
        listed = ", ".join(f"{c.campaign.number} {c.from_status}→{c.to_status}" for c in self.changes)
        return f"{self.operation}: {len(self.changes)} campaign(s): {listed}"


def parse_status(value: str, allowed: tuple[CampaignStatus, ...] = tuple(CampaignStatus)) -> CampaignStatus:
    """``value`` as a campaign status (``a2`` and `` A2 `` are accepted); ValueError otherwise."""
    text = value.strip().upper()
    if text not in {s.value for s in allowed}:
        raise ValueError(f"unknown campaign status {value!r}; expected one of {', '.join(s.value for s in allowed)}")
    return CampaignStatus(text)


def plan_update(search: str, matches: list[Campaign], new_status: str) -> StatusChangePlan:
    """One campaign, found by number or part of its name, to ``new_status``.

    No match or several matches: refused, and the matches are listed so the operator can
    choose a campaign number; a campaign already in ``new_status`` changes nothing.
    """
    operation = "update-campaign-status"
    status = parse_status(new_status)
    if not matches:
        return StatusChangePlan(operation=operation, refusal=f"no campaign has the number or a name containing "
                                                             f"{search!r}; nothing changed")
    if len(matches) > 1:
        listed = "; ".join(f"{c.number} {c.name!r} ({c.status})" for c in matches)
        return StatusChangePlan(operation=operation, candidates=matches,
                                refusal=f"{len(matches)} campaigns match {search!r}: {listed}. Give the campaign "
                                        f"number of the one to change; nothing changed")
    campaign = matches[0]
    if campaign.status == status:
        return StatusChangePlan(operation=operation)
    return StatusChangePlan(operation=operation, changes=[StatusChange(campaign=campaign, to_status=status)])


def plan_reset(campaigns: list[Campaign]) -> StatusChangePlan:
    """Every given campaign in A2–A6 back to A1 (others are left alone)."""
    return StatusChangePlan(operation="reset-campaigns-to-a1", changes=[
        StatusChange(campaign=c, to_status=CampaignStatus.A1) for c in campaigns if c.status in RESETTABLE])


def plan_advance(campaigns: list[Campaign]) -> StatusChangePlan:
    """Every given A1 campaign straight to A3 (no transfer: the operator vouches for Box)."""
    return StatusChangePlan(operation="advance-a1-to-a3", changes=[
        StatusChange(campaign=c, to_status=CampaignStatus.A3) for c in campaigns if c.status == CampaignStatus.A1])
