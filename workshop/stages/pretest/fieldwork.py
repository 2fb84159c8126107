"""The pre-test on ODK / KoboToolbox: its questionnaire as an xlsform.Questionnaire, and their answers stored.

Question names carry the material's id (`m12_attraction`), so answers find their material
again; a record becomes one participant (with their segment answers) and the same Vote rows
a phone's answers make: the analysis and the report cannot tell how answers were collected.
"""
from __future__ import annotations

import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ... import images, privacy, segments
from ...errors import Refused
from ...extensions import db
from ...models import Participant, Vote, utcnow
from ...xlsform import Question, Questionnaire, translated
from .forms import DIMENSIONS, SCALE, TEXTS


def questionnaire(kind, stage) -> Questionnaire:
    """Return the stage's questions: the segment questions, then per material its scales and open answers."""
    workshop = stage.workshop
    questions, choices = [], {"five": [(str(v), translated(label)) for v, label in SCALE]}
    for key, _question, options in segments.asked(workshop):
        labels = translated(segments.QUESTIONS[key])
        questions.append(Question(f"select_one {key}", key, labels))
        choices[key] = [(value, translated(segments.GENDERS[value]) if key == "gender" else
                         dict.fromkeys(labels, label)) for value, label in options]
    intro = translated(_l("For each material: show it, then ask the questions. Every answer is optional."))
    questions.append(Question("note", "intro", intro))
    for item in stage.items:
        if not item.active:
            continue
        group = f"m{item.id}"
        shown = "\n".join(part for part in (item.title, item.detail, item.field("link")) if part)
        questions.append(Question("begin_group", group, {c: item.title for c in intro}))
        questions.append(Question("note", f"{group}_show", {c: shown for c in intro},
                                  image=images.filename(item.image, images.WIDTHS[0]) if item.image else ""))
        for key, _label, question in DIMENSIONS:
            questions.append(Question("select_one five", f"{group}_{key}", translated(question)))
        for key, label in TEXTS:
            questions.append(Question("text", f"{group}_{key}", translated(label)))
        questions.append(Question("end_group", group))
    return Questionnaire(title=stage.title, form_id=f"charrette_{workshop.code}_{stage.id}".lower(),
                         version=str(workshop.version), questions=questions, choices=choices,
                         default_language=workshop.language)


def store(kind, stage, records: list[dict]) -> int:
    """Store checked records as participants and their answers, all or nothing; return how many."""
    workshop = stage.workshop
    if stage.phase == "pending":
        raise Refused(_l("Open the stage before importing answers."))
    seen = set()
    for n, record in enumerate(records, start=2):
        if record.get("_id"):
            token = f"field-{record['_id']}"
            if token in seen or db.session.scalar(select(Participant.id).where(Participant.token == token)):
                raise Refused(_l("Nothing was imported: line %(line)d was imported before (%(id)s).",
                                 line=n, id=record["_id"]))
            seen.add(token)
    materials = [item for item in stage.items if item.active]
    count = 0
    try:
        for record in records:
            person = Participant(workshop_id=workshop.id, group=workshop.groups[0],
                                 token=f"field-{record['_id']}" if record.get("_id") else
                                 f"field-{secrets.token_urlsafe(18)}",
                                 segments=segments.clean(workshop, record), joined_at=utcnow())
            db.session.add(person)
            db.session.flush()
            for item in materials:
                for key, _label, _question in DIMENSIONS:
                    value = record.get(f"m{item.id}_{key}")
                    if value:
                        db.session.add(Vote(stage_id=stage.id, participant_id=person.id, item_id=item.id,
                                            criterion=key, value=int(value), client_id=""))
                for key, _label in TEXTS:
                    text = (record.get(f"m{item.id}_{key}") or "")[:1000]
                    if workshop.safeguarding:
                        text = privacy.masked(text)
                    if text:
                        db.session.add(Vote(stage_id=stage.id, participant_id=person.id, item_id=item.id,
                                            criterion=key, value=0, note=text, client_id=""))
            count += 1
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return count
