"""The registry of stage kinds: each kind registers itself; the rest of the app looks kinds up here.

A workshop template is a list of kinds in order, optionally with what a workshop made
from it starts with (e.g. {"safeguarding": True}); a kind may offer templates of its
own (`register(kind, templates=...)`). The facilitator can then add, remove,
reorder and rename stages.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .base import StageKind, Upcoming

KINDS: dict[str, StageKind] = {}

TEMPLATES: dict[str, tuple] = {
    "campaign": (_l("Full campaign: trend → audience → concepts → drafts → strategy"),
                 ["trend", "audience", "concepts", "drafts", "strategy"]),
    "concepts": (_l("Concept review only"), ["concepts", "strategy"]),
    "drafts": (_l("Draft sign-off only"), ["drafts", "strategy"]),
    "problem": (_l("Problem and audience (trend → audience)"), ["trend", "audience"]),
}


def register(kind: StageKind, templates: dict | None = None) -> StageKind:
    """Add a kind (and any workshop templates it offers) to the registry; return it."""
    KINDS[kind.key] = kind
    TEMPLATES.update(templates or {})
    return kind


def kind_of(stage) -> StageKind:
    """Return the kind object that runs this stage."""
    return KINDS.get(stage.kind) or Upcoming(stage.kind, stage.kind)


def template_choices() -> list[tuple[str, str]]:
    """Return the workshop templates as (key, label) pairs, for the new-workshop form."""
    return [(key, str(entry[0])) for key, entry in TEMPLATES.items()]


def stage_plan(template: str) -> list[tuple[str, str, str]]:
    """Return the (kind, title, prompt) of each stage of a template, in the current language."""
    return [(key, str(KINDS[key].label), str(KINDS[key].prompt)) for key in TEMPLATES[template][1]]


def template_defaults(template: str) -> dict:
    """Return what a workshop made from a template starts with (workshop columns), beyond its stages."""
    entry = TEMPLATES.get(template, ())
    return dict(entry[2]) if len(entry) > 2 else {}
