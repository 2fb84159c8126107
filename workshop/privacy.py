"""No identifying data: phone numbers and e-mail addresses in what participants write are masked.

One function, `mask`, applied at the one door each kind of participant text comes in by
(events.contribution for everything a phone sends; imports for JSON and field-survey files;
safeguarding.switch_on for what was written before the mode was on). Masked at the door,
the number is never stored, so no output (projector, console, phone, report, CSV, JSON,
backups) can carry it; the stored marker tells the facilitator where something was removed.
"""
from __future__ import annotations

import re

EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}", re.UNICODE)
# Seven digits or more, with the separators people type (spaces, dots, dashes, brackets), an
# optional + in front: local numbers (Mongolia: 8 digits), international ones, "99 11-22 33".
PHONE = re.compile(r"(?<![\w+])\+?\(?\d(?:[\s().\-/]{0,2}\d){6,}(?!\w)")
EMAIL_MARK = "[✉ …]"
PHONE_MARK = "[☎ …]"
MARKS = (EMAIL_MARK, PHONE_MARK)


def mask(text: str) -> tuple[str, int]:
    """Return the text with e-mail addresses and phone numbers replaced by markers, and how many."""
    if not text or not isinstance(text, str):
        return text, 0
    text, emails = EMAIL.subn(EMAIL_MARK, text)
    text, phones = PHONE.subn(PHONE_MARK, text)
    return text, emails + phones


def masked(text: str) -> str:
    """Return the text with contact details masked (see `mask`)."""
    return mask(text)[0]


def was_masked(text: str) -> bool:
    """Tell whether stored text carries a marker (something was removed from it)."""
    return bool(text) and any(mark in text for mark in MARKS)


def mask_fields(payload: dict, names) -> dict:
    """Return a payload with its free-text fields (`names`) masked; other fields as they are."""
    return {k: masked(v) if k in names and isinstance(v, str) else v for k, v in payload.items()}
