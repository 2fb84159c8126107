"""Workshops and who is in them: create one from a template, open or close it, its language, join."""
from __future__ import annotations

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..errors import Refused
from ..extensions import db
from ..models import Participant, Workshop
from ..stages import TEMPLATES, stage_plan
from .access import ENDED, lock_workshop
from .agenda import new_stage, renumber

# Offered in the language of whoever creates the workshop; afterwards they are the workshop's own words.
DEFAULT_GROUPS = [_l("Government"), _l("Civil society"), _l("UN / donor"), _l("Creative partner"),
                  _l("Youth"), _l("Other")]


def default_groups() -> list[str]:
    """Return the default stakeholder groups in the current language."""
    return [str(group) for group in DEFAULT_GROUPS]


def create_workshop(facilitator, *, title: str, topic: str = "", description: str = "",
                    groups: list[str] | None = None, collect_names: bool = False,
                    template: str = "campaign", language: str = "en") -> Workshop:
    """Create a workshop with the stages of a template and a fresh join code."""
    if template not in TEMPLATES:
        raise Refused(_l("Choose one of the workshop templates."))
    with force_locale(language):  # default groups, titles and prompts in the workshop's language
        groups = groups or default_groups()
        plan = stage_plan(template)
    for _attempt in range(20):
        workshop = Workshop(facilitator=facilitator, title=title, topic=topic,
                            description=description, groups=groups,
                            collect_names=collect_names, language=language)
        workshop.stages.extend(new_stage(kind, stage_title, prompt) for kind, stage_title, prompt in plan)
        renumber(workshop.stages)
        db.session.add(workshop)
        try:
            db.session.flush()
        except IntegrityError:  # join code already taken: draw another
            db.session.rollback()
            continue
        workshop.current_stage = workshop.stages[0]
        db.session.commit()
        return workshop
    raise Refused(_l("Could not find a free join code; try again."), 503)


def set_open(workshop: Workshop, is_open: bool) -> None:
    """Open or close a workshop for joining and taking part."""
    lock_workshop(workshop)
    workshop.status = "open" if is_open else "closed"
    db.session.commit()


def set_language(workshop: Workshop, language: str) -> None:
    """Set the language of the workshop's projector and report."""
    lock_workshop(workshop)
    workshop.language = language
    db.session.commit()


def join(workshop: Workshop, participant: Participant | None, name: str, group: str) -> Participant:
    """Join a workshop, or update the name/group of the phone that already joined."""
    if not workshop.is_open:
        raise Refused(ENDED, 410)
    if group not in workshop.groups:
        raise Refused(_l("Choose one of the stakeholder groups."))
    # By id, not `workshop=`: the relationship would make the commit work through the workshop's
    # participants too, which costs a join storm more than the insert itself.
    participant = participant or Participant(workshop_id=workshop.id)
    participant.group = group
    participant.name = name.strip() if workshop.collect_names else ""
    db.session.add(participant)
    db.session.commit()
    return participant


def participant_count(workshop: Workshop) -> int:
    """Return how many phones have joined."""
    return db.session.scalar(select(func.count(Participant.id)).filter_by(workshop_id=workshop.id))
