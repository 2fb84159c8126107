"""Workshops and who is in them: create one from a template, open or close it, its language, join."""
from __future__ import annotations

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached

from .. import batch
from ..errors import Refused
from ..extensions import db
from ..models import Participant, Workshop, new_token, utcnow
from ..segments import clean as clean_segments
from ..stages import TEMPLATES, stage_plan, template_defaults
from .access import ENDED, get_workshop, lock_workshop, participant_for
from .agenda import new_stage, renumber

# Offered in the language of whoever creates the workshop; afterwards they are the workshop's own words.
DEFAULT_GROUPS = [_l("Government"), _l("Civil society"), _l("UN / donor"), _l("Creative partner"),
                  _l("Youth"), _l("Other")]


def default_groups() -> list[str]:
    """Return the default stakeholder groups in the current language."""
    return [str(group) for group in DEFAULT_GROUPS]


def create_workshop(facilitator, *, title: str, topic: str = "", description: str = "",
                    groups: list[str] | None = None, collect_names: bool = False,
                    template: str = "campaign", language: str = "en",
                    safeguarding: bool | None = None) -> Workshop:
    """Create a workshop with the stages of a template and a fresh join code.

    `safeguarding` None takes the template's default (on for the pre-test); the template's
    own groups replace the default stakeholder groups when those were left as offered; a
    template may start in self-paced mode (the KAP survey on phones).
    """
    if template not in TEMPLATES:
        raise Refused(_l("Choose one of the workshop templates."))
    starts = template_defaults(template)
    with force_locale(language):  # default groups, titles and prompts in the workshop's language
        if starts.get("groups") and (not groups or groups == default_groups()):
            groups = [str(g) for g in starts["groups"]]
        groups = groups or default_groups()
        plan = stage_plan(template)
    if safeguarding is None:
        safeguarding = bool(starts.get("safeguarding"))
    for _attempt in range(20):
        workshop = Workshop(facilitator=facilitator, title=title, topic=topic,
                            description=description, groups=groups,
                            collect_names=collect_names and not safeguarding, language=language,
                            safeguarding=safeguarding, self_paced=bool(starts.get("self_paced")),
                            moderation=safeguarding)
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
    workshop.closed_at = None if is_open else utcnow()  # retention counts from here
    db.session.commit()


def set_language(workshop: Workshop, language: str) -> None:
    """Set the language of the workshop's projector and report."""
    lock_workshop(workshop)
    workshop.language = language
    db.session.commit()


def join(workshop: Workshop, participant: Participant | None, name: str, group: str,
         consent: bool = False, segment_answers: dict | None = None) -> Participant:
    """Join a workshop, or update the name/group (and segment answers) of the phone that already joined.

    In safeguarding mode nobody joins without consent, and no name is kept.
    """
    if not workshop.is_open:
        raise Refused(ENDED, 410)
    if len(workshop.groups) == 1 and not group:  # one group: nobody is asked
        group = workshop.groups[0]
    if group not in workshop.groups:
        raise Refused(_l("Choose one of the stakeholder groups."))
    if workshop.safeguarding and not consent and (participant is None or participant.consented_at is None):
        raise Refused(_l("You can take part only if you agree. You can leave now: nothing was saved."), 403)
    keep_name = workshop.collect_names and not workshop.safeguarding
    values = {"group": group, "name": name.strip() if keep_name else ""}
    if segment_answers is not None:
        values["segments"] = clean_segments(workshop, segment_answers)
    if consent and (participant is None or participant.consented_at is None):
        values["consented_at"] = utcnow()
    if participant is None:
        return _new_participant(workshop, values)
    for key, value in values.items():
        setattr(participant, key, value)
    db.session.commit()
    return participant


_PARTICIPANTS = Participant.__table__
# Every column but the id given (batch runs it on the driver's cursor, where the model's computed
# defaults do not run): a column added to the model and not to `_new_participant` fails at once.
NEW_PARTICIPANT = insert(_PARTICIPANTS).values(
    {column.key: bindparam(column.key) for column in _PARTICIPANTS.c if not column.primary_key}
).returning(_PARTICIPANTS.c.id)


def _new_participant(workshop: Workshop, values: dict) -> Participant:
    """Store a new phone with one INSERT and commit; return it, in the session as the row stored.

    A join storm stores thousands: the ORM's unit of work cost twice the statement. On PostgreSQL
    the INSERT goes with its COMMIT (and, in `batch.one_trip`, its BEGIN) in one round trip.
    """
    now = utcnow()
    row = {"workshop_id": workshop.id, "token": new_token(), "joined_at": now, "seen_at": now,
           "segments": {}, "consented_at": None, **values}
    [(stored,)] = batch.run_together([(NEW_PARTICIPANT, row)], commit=True)
    participant = Participant(id=stored.id, **row)
    make_transient_to_detached(participant)
    db.session.add(participant)  # persistent again, no query: what it has not loaded loads on access
    return participant


def forget(code: str, token: str) -> None:
    """Forget a phone that left with the quick exit: its token changes, so its old cookie is nobody's."""
    try:
        workshop = get_workshop(code)
    except Refused:
        return
    participant = participant_for(workshop, token)
    if participant is not None:
        participant.token = new_token()
        db.session.commit()


def participant_count(workshop: Workshop) -> int:
    """Return how many phones have joined."""
    return db.session.scalar(select(func.count(Participant.id)).filter_by(workshop_id=workshop.id))
