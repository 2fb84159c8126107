"""The stage on screen and its phase: go forward and back, reveal, decide; settings, notes, timer, focus."""
from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l

from ..errors import Refused
from ..extensions import db
from ..models import Stage, Workshop, utcnow
from ..stages import kind_of
from .access import get_item, get_stage, lock_workshop


def goto_stage(workshop: Workshop, stage_id: int) -> Stage:
    """Make a stage the one everyone sees."""
    lock_workshop(workshop)
    stage = get_stage(workshop, stage_id)
    _show(workshop, stage)
    db.session.commit()
    return stage


def _show(workshop: Workshop, stage: Stage) -> None:
    """Put a stage on screen; a countdown belongs to the stage it was started in: another stage clears it."""
    if workshop.current_stage_id != stage.id:
        workshop.timer_ends_at = None
    workshop.current_stage = stage


def set_phase(workshop: Workshop, stage_id: int, phase: str) -> Stage:
    """Move a stage to another of its kind's phases (not `decided`: use `decide`).

    Re-opening voting hides revealed results again; votes already cast stay.
    """
    lock_workshop(workshop)
    stage = get_stage(workshop, stage_id)
    kind = kind_of(stage)
    if not kind.playable:
        raise Refused(_l("This activity is not available yet."))
    if phase not in kind.phases or phase == "decided":
        raise Refused(_l("This stage has no phase %(phase)s.", phase=phase[:16]))
    if kind.phases.index(phase) < kind.phases.index("results"):
        stage.revealed_at = None
    stage.phase = phase
    stage.decided_at = None
    _show(workshop, stage)
    db.session.commit()
    return stage


def steps(workshop: Workshop) -> tuple[tuple[Stage, str] | None, tuple[Stage, str] | None]:
    """Return the (stage, phase) one step back and one step forward from now."""
    stage = workshop.current_stage
    if stage is None:
        return None, None
    phases = kind_of(stage).phases
    i = phases.index(stage.phase) if stage.phase in phases else 0
    back = (stage, phases[i - 1]) if i > 0 else None
    if back is None and stage.position > 0:
        prev = workshop.stages[stage.position - 1]
        back = (prev, prev.phase)
    forward = None
    if i + 1 < len(phases) and phases[i + 1] != "decided":
        forward = (stage, phases[i + 1])
    elif stage.phase == "decided" or not kind_of(stage).playable or i + 1 == len(phases):
        later = [s for s in workshop.stages if s.position > stage.position]
        if later:
            nxt = later[0]
            nxt_phases = kind_of(nxt).phases
            forward = (nxt, nxt.phase if nxt.phase != "pending" else nxt_phases[min(1, len(nxt_phases) - 1)])
    return back, forward


def go(workshop: Workshop, stage_id: int, phase: str) -> Stage:
    """Take one step: to a phase of a stage, making it current."""
    stage = get_stage(workshop, stage_id)
    if phase == stage.phase:
        return goto_stage(workshop, stage_id)
    return set_phase(workshop, stage_id, phase)


def reveal(workshop: Workshop, stage_id: int, revealed: bool = True) -> Stage:
    """Show (or hide again) a stage's results to the room; closes voting."""
    lock_workshop(workshop)
    stage = get_stage(workshop, stage_id)
    phases = kind_of(stage).phases
    if "results" not in phases:
        raise Refused(_l("This stage has no results to reveal."))
    if phases.index(stage.phase) < phases.index("vote"):
        raise Refused(_l("Open voting before revealing results."))
    if stage.phase == "vote":
        stage.phase = "results"
    stage.revealed_at = utcnow() if revealed else None
    db.session.commit()
    return stage


def decide(workshop: Workshop, form) -> Stage:
    """Record the decision of a stage (a checked DecisionForm), its rationale and the minority view."""
    lock_workshop(workshop)
    stage = get_stage(workshop, form.stage_id.data)
    kind = kind_of(stage)
    if "decided" not in kind.phases:
        raise Refused(_l("This stage takes no decision."))
    if stage.phase not in ("vote", "results", "decided"):
        raise Refused(_l("Open voting before recording the decision."))
    stage.decision = kind.decide(stage, form)
    stage.rationale = form.rationale.data.strip()
    stage.minority_view = (form.minority_view.data or "").strip()
    stage.phase = "decided"
    stage.revealed_at = stage.revealed_at or utcnow()
    stage.decided_at = utcnow()
    db.session.commit()
    return stage


def update_settings(workshop: Workshop, stage: Stage, form) -> Stage:
    """Change a stage's settings to the values of its kind's checked settings form."""
    lock_workshop(workshop)
    stage.settings = {**(stage.settings or {}), **form.data}
    db.session.commit()
    return stage


def save_notes(workshop: Workshop, stage_id: int, notes: str) -> Stage:
    """Keep the facilitator's private notes for a stage."""
    stage = get_stage(workshop, stage_id)
    stage.notes = notes or ""
    db.session.commit()
    return stage


def start_timer(workshop: Workshop, seconds: int) -> None:
    """Start the room's countdown."""
    lock_workshop(workshop)
    workshop.timer_seconds = seconds
    workshop.timer_ends_at = utcnow() + timedelta(seconds=seconds)
    db.session.commit()


MAX_TIMER = timedelta(hours=4)


def add_to_timer(workshop: Workshop, seconds: int) -> None:
    """Give the running countdown more time (+1 minute); one that ran out starts again with it.

    Refused when no countdown runs (nothing to add to), and never past four hours.
    """
    lock_workshop(workshop)
    if workshop.timer_ends_at is None:
        raise Refused(_l("No timer is running."))
    now = utcnow()
    ends = max(workshop.timer_ends_at, now) + timedelta(seconds=seconds)
    workshop.timer_ends_at = min(ends, now + MAX_TIMER)
    db.session.commit()


def stop_timer(workshop: Workshop) -> None:
    """Stop and hide the countdown."""
    lock_workshop(workshop)
    workshop.timer_ends_at = None
    db.session.commit()


def focus(workshop: Workshop, stage_id: int, item_id: int | None) -> Stage:
    """Show one item to the whole room (phones follow), or let phones browse (None or 0)."""
    lock_workshop(workshop)
    stage = get_stage(workshop, stage_id)
    if item_id:
        item = get_item(workshop, item_id)
        if item.stage_id != stage.id:
            raise Refused(_l("That item is not part of this stage."))
    stage.settings = {**(stage.settings or {}), "focus": item_id or None}
    db.session.commit()
    return stage
