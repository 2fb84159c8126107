"""Segment questions asked at join (age band, place, gender): one or two simple questions, all optional.

The facilitator picks which to ask and writes the answers for age and place (from the
audience chosen earlier: "18-24", "Khovd"); gender has fixed answers. A participant's
answers are kept in `Participant.segments` and read per segment in the results.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

QUESTIONS = {"age": _l("Your age"), "place": _l("Where do you live?"), "gender": _l("You are")}
GENDERS = {"woman": _l("A woman"), "man": _l("A man"), "other": _l("Another gender")}
MAX_OPTIONS = 12
NOT_ANSWERED = _l("Not answered")


def asked(workshop) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """Return the questions this workshop asks, as (key, question, [(value, label)]), in order."""
    config = workshop.segment_questions or {}
    out = []
    for key, question in QUESTIONS.items():
        if key == "gender" and config.get("gender"):
            out.append((key, str(question), [(k, str(v)) for k, v in GENDERS.items()]))
        elif key != "gender" and config.get(key):
            out.append((key, str(question), [(v, v) for v in config[key]]))
    return out


def label(workshop, key: str, value: str) -> str:
    """Return how an answer reads (a gender's words in the current language; others as written)."""
    if not value:
        return str(NOT_ANSWERED)
    if key == "gender":
        return str(GENDERS.get(value, value))
    return value


def clean(workshop, answers: dict) -> dict:
    """Keep only answers that are one of the offered options (anything else is dropped, not refused)."""
    out = {}
    for key, _question, options in asked(workshop):
        value = answers.get(key) or ""
        if value in {v for v, _label in options}:
            out[key] = value
    return out


def parse_options(text: str) -> list[str]:
    """Return the answers typed one per line (or comma-separated), without duplicates, at most 12."""
    seen: list[str] = []
    for part in (text or "").replace(",", "\n").splitlines():
        part = " ".join(part.split())[:60]
        if part and part not in seen:
            seen.append(part)
    return seen[:MAX_OPTIONS]
