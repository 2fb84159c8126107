"""What a strategy builds on: the decided stages before it, in its workshop and, in a campaign, before it.

A workshop of a campaign (campaign_models) starts with what the campaign's earlier workshops
decided: their decided stages come first, in the campaign's order, read with the amendments
made up to this workshop (an amended item is an `Amended`: the amendment's values, the
item's everything else). Each kind says what its decision adds (`strategy_part`); `merge`
puts the parts together the one way the strategy kind and the campaign both use. No kind is
named here: the kinds are asked.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import select

from ..campaign_models import Amendment, CampaignWorkshop
from ..extensions import db
from ..models import Item, Stage, Workshop
from .registry import kind_of


class Amended:
    """An item as an amendment made later reads it: its title, detail and fields replaced."""

    def __init__(self, item: Item, amendment: Amendment):
        self._item, self.amendment = item, amendment
        values = amendment.values or {}
        self.title = values.get("title", item.title)
        self.detail = values.get("detail", item.detail)
        self.data = {**(item.data or {}), **values.get("data", {})}

    def __getattr__(self, name):
        return getattr(self._item, name)

    def field(self, name: str) -> str:
        """Return one of the kind's extra text fields, as amended."""
        return self.data.get(name, "")

    @property
    def image(self) -> dict | None:
        return self.data.get("image")


@dataclass
class Decided:
    """A decided stage as a later strategy reads it: its items (amended ones replaced) and its part."""

    stage: Stage
    workshop: Workshop
    by_id: dict = field(default_factory=dict)
    carried: bool = False  # from an earlier workshop of the campaign

    @cached_property
    def kind(self):
        return kind_of(self.stage)

    @cached_property
    def part(self) -> dict:
        """What the stage's decision adds to the strategy (the kind's `strategy_part`)."""
        return self.kind.strategy_part(self.stage, self.by_id)

    @property
    def amended(self) -> list:
        """The stage's items that were changed later, with their amendments."""
        return [item for item in self.by_id.values() if isinstance(item, Amended)]


def campaign_workshops(workshop: Workshop) -> tuple[int | None, list[Workshop]]:
    """Return the workshop's campaign id and the campaign's workshops before it (none outside a campaign)."""
    link = db.session.scalar(select(CampaignWorkshop).where(CampaignWorkshop.workshop_id == workshop.id))
    if link is None:
        return None, []
    before = [other.workshop for other in link.campaign.links if other.position < link.position]
    return link.campaign_id, before


def decided_in(workshops: list[Workshop], amendments: dict[int, Amendment], carried: bool,
               before: Stage | None = None) -> list[Decided]:
    """Return the decided stages of these workshops in order (only those before `before` in its own)."""
    out = []
    for workshop in workshops:
        for stage in workshop.stages:
            if before is not None and stage.workshop_id == before.workshop_id \
                    and stage.position >= before.position:
                break
            if stage.decision is None or not kind_of(stage).playable:
                continue
            by_id = {item.id: Amended(item, amendments[item.id]) if item.id in amendments else item
                     for item in stage.items}
            out.append(Decided(stage, workshop, by_id, carried=carried))
    return out


def amendments_for(campaign_id: int | None, workshops: list[Workshop] | None) -> dict[int, Amendment]:
    """Return each item's newest amendment made in one of `workshops` (None: anywhere in the campaign)."""
    if campaign_id is None:
        return {}
    query = select(Amendment).where(Amendment.campaign_id == campaign_id).order_by(Amendment.id)
    ids = None if workshops is None else {w.id for w in workshops}
    return {a.item_id: a for a in db.session.scalars(query) if ids is None or a.workshop_id in ids}


def carried(workshop: Workshop) -> list[Decided]:
    """Return what the campaign's earlier workshops decided, as this workshop starts with it."""
    campaign_id, before = campaign_workshops(workshop)
    if not before:
        return []
    return decided_in(before, amendments_for(campaign_id, [*before, workshop]), carried=True)


def earlier(stage: Stage) -> list[Decided]:
    """Return every decided stage a strategy stage builds on: the earlier workshops', then its own."""
    workshop = stage.workshop
    campaign_id, before = campaign_workshops(workshop)
    amendments = amendments_for(campaign_id, [*before, workshop])
    return [*decided_in(before, amendments, carried=True),
            *decided_in([workshop], amendments, carried=False, before=stage)]


def latest(decided: list[Decided]) -> list[Decided]:
    """Keep, for each kind, only the stages of the last workshop that decided one of that kind.

    A later workshop that decides the audience again replaces the earlier workshop's audience;
    within one workshop, two stages of a kind both count (two trends).
    """
    last = {}
    for d in decided:
        last[d.stage.kind] = d.workshop.id
    return [d for d in decided if last[d.stage.kind] == d.workshop.id]


def merge(decided: list[Decided], out: dict | None = None) -> dict:
    """Put the stages' parts together: lists add up, a single value is the first one decided."""
    out = dict(out or {})
    for d in latest(decided):
        for key, value in d.part.items():
            if isinstance(value, list):
                out[key] = [*out.get(key, []), *value]
            elif not out.get(key):
                out[key] = value
    return out
