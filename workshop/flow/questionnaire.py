"""Editing the campaign's KAP questionnaire: drafts from the audience's profile, the segment questions,
saving the editor's rows, adding, removing and moving questions.

Once a baseline or endline is imported the questionnaire's shape is fixed (its questions,
their answer lists and answer names: the surveys' answers are stored by those names); the
wording in every language and what counts as a good answer may still be corrected, until
retention deleted answers given on phones and kept only their totals, which were counted
with what counted then. A change reaches the phones of a survey running in the campaign's
workshops at once (their cached pages are keyed by the workshop's version).
"""
from __future__ import annotations

import re

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from .. import campaign_strategy, kapform
from ..campaign_models import Campaign, KapQuestion
from ..errors import Refused
from ..extensions import db
from ..i18n import LANGUAGES
from ..kapresults import TARGET_KINDS, target_text
from ..models import Workshop

MAX_LABEL = 500
MAX_CHOICES = 20
NAME = re.compile(r"^[A-Za-z0-9_]{1,32}$")
# The segment questions every questionnaire starts with: name -> (question, [(answer name, answer)]).
SEGMENTS = {
    "age_band": (_l("How old are you?"), [("under_18", _l("Under 18")), ("18_24", "18–24"),
                                          ("25_34", "25–34"), ("35_plus", _l("35 or older"))]),
    "place": (_l("Where do you live?"), [("urban", _l("In a city or town")),
                                         ("rural", _l("In a village or the countryside"))]),
    "gender": (_l("You are…"), [("woman", _l("A woman")), ("man", _l("A man")),
                                ("another", _l("Another gender")), ("no_answer", _l("I prefer not to say"))]),
}
LOCKED = _l("The baseline or endline is imported: questions, their answers and their names can no longer "
            "change. Delete the imported surveys first.")
COUNTED = _l("Answers given on phones were deleted after their retention period and kept as totals, counted "
             "with what counted then: what counts can no longer change.")


def locked(campaign: Campaign) -> bool:
    """Tell whether answers were imported, which fixes the questionnaire's shape."""
    return bool(campaign.surveys)


def counted(campaign: Campaign) -> bool:
    """Tell whether retention kept answers as totals only, which fixes what counts as well."""
    return any(survey.kept for survey in campaign.surveys)


def _touch(campaign: Campaign) -> None:
    """Bump the versions of the campaign's workshops: phones asking the questionnaire draw it again."""
    ids = [link.workshop_id for link in campaign.links]
    if ids:
        db.session.execute(update(Workshop).where(Workshop.id.in_(ids)).values(version=Workshop.version + 1)
                           .execution_options(synchronize_session=False))
        for link in campaign.links:  # read again by the push that follows, in this same session
            db.session.expire(link.workshop, ["version"])


def profile(campaign: Campaign):
    """Return the primary audience the campaign decided (its knowledge, attitudes, practices), if any."""
    return campaign_strategy.strategy(campaign).summary.get("primary")


def _translated(text) -> dict:
    """Return an app string in every language (a question's or answer's default wording)."""
    out = {}
    for lang in LANGUAGES:
        with force_locale(lang):
            out[lang] = str(text)
    return out


def start(campaign: Campaign) -> None:
    """Give a new questionnaire its segment questions (age band, place, gender), then the profile's drafts."""
    if any(q.section == "segment" for q in campaign.questions):
        return
    for position, (name, (text, answers)) in enumerate(SEGMENTS.items()):
        campaign.questions.append(KapQuestion(
            section="segment", name=name, position=position, answers=kapform.OWN, labels=_translated(text),
            choices=[{"name": key, "labels": _translated(label)} for key, label in answers]))
    _touch(campaign)
    draft_from_profile(campaign)


def sentences(text: str) -> list[str]:
    """Split a profile's text into its statements (sentences, lines, semicolons)."""
    parts = re.split(r"(?<=[.!?;])\s+|\n+|;\s*", text or "")
    return [p.strip().rstrip(";").strip() for p in parts if len(p.strip()) > 2]


def draft_from_profile(campaign: Campaign) -> int:
    """Add a draft item for every statement of the audience's profile not drafted yet; return how many."""
    audience = profile(campaign)
    if audience is None:
        return 0
    if locked(campaign):
        raise Refused(LOCKED)
    have = {q.source for q in campaign.questions}
    added = 0
    for section, field in (("knowledge", "knowledge"), ("attitude", "attitudes"), ("practice", "practices")):
        for sentence in sentences(audience.field(field)):
            if sentence in have:
                continue
            question = _new(campaign, section)
            question.labels = {campaign.language: sentence[:MAX_LABEL]}
            question.draft, question.source = True, sentence
            have.add(sentence)
            added += 1
    _touch(campaign)
    db.session.commit()
    return added


def _new(campaign: Campaign, section: str) -> KapQuestion:
    """Append an empty question to a section, with the next free name (k3, a1...)."""
    names = {q.name for q in campaign.questions}
    n = 1
    while f"{kapform.PREFIX[section]}{n}" in names:
        n += 1
    position = 1 + max((q.position for q in campaign.questions if q.section == section), default=-1)
    question = KapQuestion(section=section, name=f"{kapform.PREFIX[section]}{n}", position=position,
                           answers=kapform.SECTION_ANSWERS[section][0], labels={}, good=[], choices=[])
    campaign.questions.append(question)
    return question


def add_question(campaign: Campaign, section: str) -> KapQuestion:
    """Add an empty knowledge, attitude or practice item."""
    if section not in kapform.PREFIX:
        raise Refused(_l("Choose knowledge, attitudes or practices."))
    if locked(campaign):
        raise Refused(LOCKED)
    question = _new(campaign, section)
    _touch(campaign)
    db.session.commit()
    return question


def _question(campaign: Campaign, question_id: int) -> KapQuestion:
    question = next((q for q in campaign.questions if q.id == question_id), None)
    if question is None:
        raise Refused(_l("That question is not part of this questionnaire."), 404)
    return question


def remove_question(campaign: Campaign, question_id: int) -> None:
    """Take an item (not a segment question) out of the questionnaire."""
    question = _question(campaign, question_id)
    if locked(campaign):
        raise Refused(LOCKED)
    campaign.questions.remove(question)
    _touch(campaign)
    db.session.commit()


def move_question(campaign: Campaign, question_id: int, offset: int) -> None:
    """Move a question one place up or down within its section (the order people are asked in)."""
    question = _question(campaign, question_id)
    same = sorted((q for q in campaign.questions if q.section == question.section),
                  key=lambda q: (q.position, q.id))
    i = same.index(question)
    j = max(0, min(len(same) - 1, i + offset))
    same.insert(j, same.pop(i))
    for position, each in enumerate(same):
        each.position = position
    _touch(campaign)
    db.session.commit()


def save(campaign: Campaign, form: dict) -> dict[str, str]:
    """Check and store the editor's rows (`q<id>.<field>`); return the errors by field (none stored then)."""
    errors: dict[str, str] = {}
    is_locked, is_counted = locked(campaign), counted(campaign)
    plans = [(q, _read(q, form, errors, is_locked, is_counted)) for q in campaign.questions]
    if errors:
        return errors
    for question, plan in plans:
        if plan.pop("edited"):
            question.draft = False  # rewritten by the facilitator
        for name, value in plan.items():
            setattr(question, name, value)
    _touch(campaign)
    db.session.commit()
    return {}


def _read(q: KapQuestion, form: dict, errors: dict, is_locked: bool, is_counted: bool = False) -> dict:
    """Read one question's posted fields; note its errors; return the columns to store."""
    key = f"q{q.id}"
    labels = {lang: " ".join(form.get(f"{key}.label.{lang}", "").split()) for lang in LANGUAGES}
    for lang, text in labels.items():
        if len(text) > MAX_LABEL:
            errors[f"{key}.label.{lang}"] = str(_l("At most %(n)d characters.", n=MAX_LABEL))
    plan = {"labels": {lang: text for lang, text in labels.items() if text},
            "edited": labels != {lang: (q.labels or {}).get(lang, "") for lang in LANGUAGES}}
    if q.section == "segment":
        plan["choices"] = _choices(q, form, errors, is_locked)
        return plan
    answers = form.get(f"{key}.answers", q.answers)
    if answers not in kapform.SECTION_ANSWERS[q.section]:
        errors[f"{key}.answers"] = str(_l("Choose one of the answer lists."))
        return plan
    if answers != q.answers and is_locked:
        errors[f"{key}.answers"] = str(LOCKED)
        return plan
    good = form.get(f"{key}.good", "")
    if good and good not in kapform.GOOD[answers]:
        if answers == q.answers:
            errors[f"{key}.good"] = str(_l("Choose what counts from the list."))
            return plan
        good = ""  # another answer list: what counts is chosen again from its answers
    plan.update(answers=answers, good=list(kapform.GOOD[answers][good][1]) if good else [])
    if is_counted and plan["good"] != list(q.good or []):
        errors[f"{key}.good"] = str(COUNTED)
    return plan


def _choices(q: KapQuestion, form: dict, errors: dict, is_locked: bool) -> list[dict]:
    """Read a segment question's answer rows (`q<id>.c<n>.name`, `.c<n>.<lang>`); a row left empty goes."""
    key, out, seen = f"q{q.id}", [], set()
    for n in range(MAX_CHOICES + 1):
        name = form.get(f"{key}.c{n}.name", "").strip()
        labels = {lang: " ".join(form.get(f"{key}.c{n}.{lang}", "").split()) for lang in LANGUAGES}
        if not name and not any(labels.values()):
            continue
        if not name:
            name = _slug(labels["en"] or next(text for text in labels.values() if text)) or f"answer_{n + 1}"
        if not NAME.match(name) or name in seen:
            errors[f"{key}.c{n}.name"] = str(_l("Use letters, digits and _ only, each name once."))
        seen.add(name)
        out.append({"name": name,
                    "labels": {lang: text[:MAX_LABEL] for lang, text in labels.items() if text}})
    if not out:
        errors[f"{key}.c0.name"] = str(_l("Give at least one answer."))
    if is_locked and [c["name"] for c in out] != [c["name"] for c in q.choices]:
        errors[f"{key}.c0.name"] = str(LOCKED)
    return out


def _slug(text: str) -> str:
    """Make an answer name from its words: lower case, letters and digits, _ between (at most 32)."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:32]


# --- targets: what the strategy calls success, per indicator ---------------------------------

def set_targets(campaign: Campaign, form: dict, indicators: list, author: str) -> dict[str, str]:
    """Store the targets posted for the indicators (`t.<key>.kind`, `t.<key>.value`); changes go into the
    strategy's history. Return errors by field name, storing nothing then."""
    errors, targets = {}, {}
    for ind in indicators:
        kind = form.get(f"t.{ind.key}.kind", "change")
        text = form.get(f"t.{ind.key}.value", "").strip().replace(",", ".").lstrip("+")
        if not text:
            continue
        try:
            value = float(text)
        except ValueError:
            errors[f"t.{ind.key}.value"] = str(_l("A number of percentage points, e.g. 15."))
            continue
        low = -100 if kind == "change" else 0
        if kind not in TARGET_KINDS or not low <= value <= 100:
            errors[f"t.{ind.key}.value"] = str(_l("Between %(low)d and 100.", low=low))
            continue
        targets[ind.key] = {"kind": kind, "value": value}
    if errors:
        return errors
    campaign_strategy.sync(campaign)
    labels = {ind.key: ind.label for ind in indicators}
    with force_locale(campaign.language if campaign.language in LANGUAGES else "en"):
        for key in sorted(set(campaign.targets or {}) | set(targets)):
            old, new = target_text((campaign.targets or {}).get(key)), target_text(targets.get(key))
            if old != new:
                campaign_strategy.record(campaign, f"target.{key}",
                                         str(_l("Target: %(indicator)s", indicator=labels.get(key, key))),
                                         old, new, str(_l("Set on the campaign’s results page.")), author)
    campaign.targets = targets
    db.session.commit()
    return {}
