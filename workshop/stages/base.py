"""What every stage kind provides; the lifecycle itself lives in flow.py."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

PHASE_LABELS = {
    "pending": _l("Not started"),
    "collect": _l("Collecting ideas"),
    "vote": _l("Voting"),
    "results": _l("Results"),
    "decided": _l("Decided"),
}


class StageKind:
    """A kind of activity. Subclasses set the class attributes and the hooks."""

    key = ""
    label: Any = ""
    playable = True
    # The phases this kind walks through, in order; flow.py moves along them.
    phases: tuple[str, ...] = ("pending", "collect", "vote", "results", "decided")
    defaults: dict[str, Any] = {}
    template = ""       # Jinja file with macros: projector(v), phone(v), console(v)
    ItemForm = None     # WTForms form for a submitted item, or None
    VoteForm = None     # WTForms form for one vote action, or None
    SettingsForm = None

    def item_fields(self, form) -> dict:
        """Map a valid ItemForm to Item columns: title, detail, data."""
        return {"title": form.title.data.strip(), "detail": (form.detail.data or "").strip()}

    def vote(self, stage, participant, form, client_id: str) -> dict:
        """Store one vote action atomically and return the participant's votes."""
        raise TypeError(f"{self.key} stages take no votes")

    def mine(self, stage, participant) -> dict:
        """Return what this participant has given in the stage (for their phone)."""
        return {}

    def results(self, stage) -> list:
        """Return the tally rows for the stage, computed from stored votes."""
        return []

    def progress(self, stage) -> dict:
        """Return how many participants have voted so far."""
        return {"voters": 0}

    def decision_choices(self, stage) -> list[tuple[int, str]]:
        """Return the (item id, label) pairs a decision can choose from."""
        return [(item.id, item.title) for item in stage.items if item.active]


class Upcoming(StageKind):
    """A kind of the campaign model whose activity is not built yet."""

    playable = False
    phases = ("pending",)
    template = "stages/upcoming.html"

    def __init__(self, key: str, label):
        self.key = key
        self.label = label
