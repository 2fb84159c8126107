"""The stage-kind registry: one module per kind, one dict to find them.

A workshop template is a list of (kind, title, prompt). A stage whose kind has
no module yet runs as `Upcoming`: shown in the agenda, not playable.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .base import StageKind, Upcoming
from .trend import TrendStage

KINDS: dict[str, StageKind] = {kind.key: kind for kind in (TrendStage(),)}

# Labels for every kind of the campaign model, including those not built yet.
LABELS = {
    "trend": _l("Pick a trend"),
    "audience": _l("Choose the audience"),
    "concepts": _l("Review concepts"),
    "drafts": _l("Vote on drafts"),
    "strategy": _l("Agreed strategy"),
}

TEMPLATES = {
    "campaign": [
        ("trend", _l("Pick a trend"),
         _l("Which pattern should this campaign tackle? Describe one trend you see.")),
        ("audience", _l("Choose the audience"),
         _l("Who must change their behaviour for this trend to change?")),
        ("concepts", _l("Review concepts"),
         _l("How well does each creative concept work for our audience?")),
        ("drafts", _l("Vote on drafts"),
         _l("Approve, request changes or reject each draft.")),
        ("strategy", _l("Agreed strategy"),
         _l("Do you support this strategy?")),
    ],
}


def kind_of(stage) -> StageKind:
    """Return the kind object that runs this stage."""
    return KINDS.get(stage.kind) or Upcoming(stage.kind, LABELS.get(stage.kind, stage.kind))


__all__ = ["KINDS", "LABELS", "TEMPLATES", "StageKind", "kind_of"]
