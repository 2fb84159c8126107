"""Stage kinds: one folder each; the list below is the registry (one line per kind).

Importing a kind's folder registers it (`registry.register`). How to add a kind:
docs/architecture.md.
"""
from importlib import import_module

from .base import StageKind
from .registry import KINDS, TEMPLATES, kind_of, stage_plan, template_choices, template_defaults

# In the order the console offers them.
PLUGINS = (
    "trend",
    "audience",
    "concepts",
    "drafts",
    "strategy",
    "pretest",
    "kapsurvey",
)
for _name in PLUGINS:
    import_module(f"{__name__}.{_name}")

__all__ = ["KINDS", "TEMPLATES", "StageKind", "kind_of", "stage_plan", "template_choices",
           "template_defaults"]
