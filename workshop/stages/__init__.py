"""The stage-kind registry: one module per kind, one dict to find them.

A workshop template is a list of (kind, title, prompt); the facilitator can
then add, remove, reorder and rename stages.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .audience import AudienceStage
from .base import StageKind, Upcoming
from .concepts import ConceptsStage
from .drafts import DraftsStage
from .strategy import StrategyStage
from .trend import TrendStage

KINDS: dict[str, StageKind] = {kind.key: kind for kind in (
    TrendStage(), AudienceStage(), ConceptsStage(), DraftsStage(), StrategyStage())}
LABELS = {key: kind.label for key, kind in KINDS.items()}

# What a new stage of each kind asks, until the facilitator rewords it.
PROMPTS = {
    "trend": _l("Which pattern should this campaign tackle? Describe one trend you see."),
    "audience": _l("Who must change their behaviour for this trend to change?"),
    "concepts": _l("How well does each creative concept work for our audience?"),
    "drafts": _l("Approve, request changes or reject each draft."),
    "strategy": _l("Do you support this strategy?"),
}

TEMPLATES = {
    "campaign": (_l("Full campaign: trend → audience → concepts → drafts → strategy"),
                 ["trend", "audience", "concepts", "drafts", "strategy"]),
    "concepts": (_l("Concept review only"), ["concepts", "strategy"]),
    "drafts": (_l("Draft sign-off only"), ["drafts", "strategy"]),
    "problem": (_l("Problem and audience (trend → audience)"), ["trend", "audience"]),
}


def stage_plan(template: str) -> list[tuple[str, str, str]]:
    """Return the (kind, title, prompt) of each stage of a template."""
    return [(kind, str(LABELS[kind]), str(PROMPTS[kind])) for kind in TEMPLATES[template][1]]


def kind_of(stage) -> StageKind:
    """Return the kind object that runs this stage."""
    return KINDS.get(stage.kind) or Upcoming(stage.kind, stage.kind)


__all__ = ["KINDS", "LABELS", "PROMPTS", "TEMPLATES", "StageKind", "kind_of", "stage_plan"]
