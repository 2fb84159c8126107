"""The campaign's agreed strategy, as its workshops decided it, and its history.

The strategy is the campaign's: what every workshop of it decided (stages/earlier.py merges
the kinds' parts, a later workshop's decision replacing an earlier one of the same kind),
with the amendments made since, and what the last agreed strategy stage wrote (call to
action, channels, allies, indicators, next steps). Its history is kept as text: `sync`
compares the strategy with the text it had when last brought up to date and records each
change with where it was made, by whom and why (the decision's rationale, or the reason
given for an amendment or a target).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import force_locale

from .campaign_models import Campaign, StrategyChange
from .extensions import db
from .i18n import LANGUAGES
from .models import utcnow
from .stages import KINDS
from .stages import earlier as lineage


@dataclass
class Strategy:
    """The campaign's strategy now: its decided stages, the merged summary and what was written."""

    decided: list = field(default_factory=list)   # every decided stage of every workshop (earlier.Decided)
    summary: dict = field(default_factory=dict)   # the kinds' parts merged (as the strategy kind shows them)
    written: dict = field(default_factory=dict)   # the last agreed strategy's fields
    agreed: object = None                         # that strategy stage (earlier.Decided), if any

    @property
    def current(self) -> list:
        """The decided stages the strategy takes its parts from (a later decision of a kind replaces)."""
        return lineage.latest(self.decided)


def holder():
    """Return the stage kind that holds the strategy (its template draws it), if one is installed."""
    return next((kind for kind in KINDS.values() if kind.holds_strategy), None)


def strategy(campaign: Campaign) -> Strategy:
    """Return the campaign's strategy from its workshops' decisions, amendments included."""
    workshops = campaign.workshops
    amendments = lineage.amendments_for(campaign.id, workshops)
    decided = lineage.decided_in(workshops, amendments, carried=True)
    agreed = [d for d in decided if d.kind.holds_strategy]
    out = Strategy(decided=[d for d in decided if not d.kind.holds_strategy],
                   agreed=agreed[-1] if agreed else None)
    kind = holder()
    out.summary = kind.merged(out.decided) if kind is not None else lineage.merge(out.decided)
    if out.agreed is not None:
        out.written = out.agreed.kind.written(out.agreed.stage)
    return out


def text(campaign: Campaign) -> dict[str, tuple[str, str, object]]:
    """Return the strategy as text in the campaign's language: key -> (label, text, where it comes from)."""
    found = strategy(campaign)
    out: dict[str, tuple[str, str, object]] = {}
    with force_locale(campaign.language if campaign.language in LANGUAGES else "en"):
        for d in found.current:
            for key, (label, words) in d.kind.strategy_text(d.part).items():
                if words or key not in out:
                    out[key] = (label, words, d) if key not in out or not out[key][1] else out[key]
        if found.agreed is not None:
            for key, (label, words) in found.agreed.kind.strategy_text(found.written).items():
                if words:
                    out[key] = (label, words, found.agreed)
    return out


def sync(campaign: Campaign, *, reason: str | None = None, author: str | None = None,
         workshop=None) -> list[StrategyChange]:
    """Record what changed in the strategy since it was last synced, and commit.

    A change a workshop made (a decision, its strategy agreed) is put down to that stage:
    its workshop, its facilitator, its rationale, when it was decided. A change made on the
    campaign's pages (an amendment) passes its own `reason`, `author` and `workshop`.
    """
    now = text(campaign)
    before = campaign.snapshot or {}
    changes = []
    for key in [*now, *(k for k in before if k not in now)]:
        label, words, source = now.get(key, (before.get(key, [key, ""])[0], "", None))
        old = before.get(key, ["", ""])[1]
        if words == old:
            continue
        change = StrategyChange(campaign=campaign, key=key[:120], label=label[:200], before=old, after=words)
        db.session.add(change)
        if reason is not None or source is None:
            place = workshop
            change.reason, change.author, change.at = reason or "", author or "", utcnow()
        else:
            place = source.workshop
            change.reason = source.stage.rationale
            change.author = source.workshop.facilitator.name
            change.at = source.stage.decided_at or utcnow()
        change.workshop_id, change.where = (place.id, place.title[:200]) if place is not None else (None, "")
        changes.append(change)
    if changes or before.keys() != now.keys():
        campaign.snapshot = {key: [label, words] for key, (label, words, _source) in now.items()}
    db.session.commit()
    return changes


def record(campaign: Campaign, key: str, label: str, before: str, after: str, reason: str, author: str,
           workshop=None) -> StrategyChange:
    """Add one line to the history for a change made outside the workshops (a target); the caller commits."""
    change = StrategyChange(campaign=campaign, key=key[:120], label=label[:200], before=before, after=after,
                            reason=reason, author=author, at=utcnow(),
                            workshop_id=workshop.id if workshop else None,
                            where=workshop.title if workshop else "")
    db.session.add(change)
    return change


def items_in(part: dict) -> list:
    """Return the items a strategy part names, once each (those a later workshop may amend)."""
    found = {}

    def walk(value):
        if hasattr(value, "field"):
            found.setdefault(value.id, value)
        elif isinstance(value, list):
            for each in value:
                walk(each)
        elif isinstance(value, dict) and "item" in value:
            walk(value["item"])
    for value in part.values():
        walk(value)
    return list(found.values())


@dataclass
class Line:
    """One line of the history as pages and the report show it."""

    at: object
    label: str
    before: str
    after: str
    where: str
    author: str
    reason: str


def history(campaign: Campaign) -> list[Line]:
    """Return the strategy's history, oldest first.

    A decision first recorded with its fields (an audience and its profile) reads as one line:
    the fields join the item's line, each under its own label.
    """
    lines: list[Line] = []
    parent = None  # (key, how) of the last line a first-recorded field may join
    for change in sorted(campaign.history, key=lambda c: (c.at, c.id)):
        head, _dot, field = change.key.partition(".")
        how = (change.at, change.where, change.author, change.reason)
        if field and not change.before and parent == (head, how):
            part = change.label.rpartition(" · ")[2]
            lines[-1].after += f"\n{part}: {change.after}" if change.after else ""
            continue
        lines.append(Line(change.at, change.label, change.before, change.after, *how[1:]))
        parent = (change.key, how) if not change.before else None
    return lines
