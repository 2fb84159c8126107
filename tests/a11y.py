"""For the accessibility tests and scripts: axe-core in a page; a workshop walked through its phases.

The walk drives the database of a running server directly through flow.py (the same
functions the console's socket handlers call), from an app built on the server's
SQLite file; screens are then (re)loaded to show the new state.
"""
from __future__ import annotations

from pathlib import Path

from config import TestingConfig
from tests.conftest import add_comment, add_item, cast_vote
from tests.support import ROOT
from workshop import create_app
from workshop.checks import parse
from workshop.extensions import db
from workshop.flow import phases, workshops
from workshop.forms import DecisionForm
from workshop.models import Workshop
from workshop.stages import kind_of

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
DEMO_TITLE = "Safe labour migration: campaign planning"


def axe(page, rules: list[str] | None = None) -> list[dict]:
    """Run axe-core on a page (its default rules: WCAG 2.x A/AA and best practices, or `rules`)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate("""async (rules) => {
        const options = {resultTypes: ['violations']};
        if (rules) options.runOnly = {type: 'rule', values: rules};
        const r = await axe.run(document, options);
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
    }""", rules)


def blocking(violations: list[dict]) -> list[dict]:
    """Keep the serious and critical violations."""
    return [v for v in violations if v["impact"] in BLOCKING]


def describe(violations: list[dict]) -> str:
    """Format violations for an assertion message."""
    return "\n".join(f"  [{v['impact']}] {v['id']}: {v['help']} at {v['nodes']}" for v in violations)


class Walk:
    """Move the demo workshop of a running server through every stage and phase, with votes."""

    def __init__(self, tmp: Path):
        self.app = create_app(TestingConfig(DATABASE_URL=f"sqlite:///{tmp / 'charrette.db'}",
                                            UPLOAD_DIR=str(tmp / "uploads")))
        self.ctx = self.app.app_context()
        self.ctx.push()
        self.workshop = db.session.query(Workshop).filter_by(title=DEMO_TITLE).one()
        self.code = self.workshop.code
        self.people = [workshops.join(self.workshop, None, "", group)
                       for group in ("Youth", "Government", "Civil society")]
        self.n = 0

    def close(self) -> None:
        """Release the database and the app context."""
        db.session.remove()
        db.engine.dispose()
        self.ctx.pop()

    def cid(self) -> str:
        """Return a fresh client id for one action."""
        self.n += 1
        return f"a11y-{self.n:06d}"

    def fresh(self) -> Workshop:
        """Re-read the workshop (the server changes it too)."""
        db.session.expire_all()
        return self.workshop

    def stage(self, kind: str):
        """Return the first stage of a kind."""
        return next(s for s in self.fresh().stages if s.kind == kind)

    def states(self, kind: str):
        """Move the stage of `kind` through its phases; yield each state's name when it is shown."""
        w, stage = self.fresh(), self.stage(kind)
        phases.goto_stage(w, stage.id)
        yield stage.phase
        walk = kind_of(stage).phases
        for phase in walk[walk.index(stage.phase) + 1:]:
            if phase == "decided":
                self.decide(kind)
                yield "decided"
                continue
            phases.set_phase(self.fresh(), stage.id, phase)
            if phase == "collect":
                self.contribute(kind)
            elif phase == "vote":
                self.vote(kind)
            elif phase == "results":
                yield "results-hidden"
                phases.reveal(self.fresh(), stage.id, True)
            yield phase

    def contribute(self, kind: str) -> None:
        """Add ideas from phones while a stage collects."""
        w = self.fresh()
        if kind == "audience":
            segments = (("Young women looking for work online", "18-25"),
                        ("Parents in border villages", "40-60"))
            for person, (who, age) in zip(self.people, segments, strict=False):
                add_item(w, person, {"cid": self.cid(), "title": who, "age": age, "place": "Border",
                                          "channels": "TikTok", "knowledge": "Little about contracts"})

    def vote(self, kind: str) -> None:
        """Cast a few votes from the participants made in __init__."""
        w, stage = self.fresh(), self.stage(kind)
        items = [i for i in stage.items if i.active]
        for n, person in enumerate(self.people):
            item_id = items[n % len(items)].id
            if kind == "trend":
                cast_vote(w, person, {"cid": self.cid(), "item_id": item_id, "dots": 2})
            elif kind == "audience":
                cast_vote(w, person, {"cid": self.cid(), "item_id": item_id, "value": 1})
            elif kind == "concepts":
                for item in items:
                    for criterion, _label in kind_of(stage).criteria:
                        cast_vote(w, person, {"cid": self.cid(), "item_id": item.id,
                                                   "criterion": criterion, "value": 3 + n % 3})
                add_comment(w, person, {"cid": self.cid(), "item_id": items[0].id, "tag": "change",
                                             "text": "Show a local bus station"})
            elif kind == "drafts":
                verdict = ("approve", "changes", "reject")[n % 3]
                for item in items:
                    cast_vote(w, person, {"cid": self.cid(), "item_id": item.id, "value": verdict,
                                               "note": "" if verdict == "approve" else "Shorter text"})
            elif kind == "strategy":
                cast_vote(w, person, {"cid": self.cid(), "item_id": items[0].id, "value": (5, 4, 1)[n],
                                           "note": "No budget for radio" if n == 2 else ""})

    def decide(self, kind: str) -> None:
        """Record a decision for the stage of `kind` (its results are shown)."""
        w, stage = self.fresh(), self.stage(kind)
        items = [i for i in stage.items if i.active]
        fields: dict = {"item_ids": [items[0].id]}
        if kind == "audience":
            fields = {"primary_id": items[0].id, "item_ids": [i.id for i in items[1:2]]}
        elif kind == "drafts":
            fields = {"verdicts": [f"{item.id}:{v}" for item, v in zip(items, ("approved", "changes"),
                                                                      strict=False)]}
        phases.decide(w, parse(DecisionForm, {"stage_id": stage.id, "rationale": "The room agreed.",
                                            "minority_view": "Youth wanted radio too.", **fields}))
