"""The JSON export format (version 1), declared: what exports.py writes and imports.py accepts.

`SCHEMA` is a JSON Schema of the whole file: every field, its type, its length, how many
rows a table may have. A stage's settings and decision are its kind's (`SettingsForm`,
`decision_schema`), checked by imports.py with the references a schema cannot express.
"""
from __future__ import annotations

from . import images
from .i18n import LANGUAGES

FORMAT = "charrette-workshop"
VERSION = 1
LIMITS = {"stages": 100, "participants": 20_000, "items": 20_000, "votes": 1_000_000, "comments": 200_000}


def _text(size: int) -> dict:
    return {"type": "string", "maxLength": size}


def _row(required: dict, optional: dict) -> dict:
    return {"type": "object", "required": list(required), "additionalProperties": False,
            "properties": {**required, **optional}}


ID = {"type": "integer", "minimum": 1, "maximum": 2**53}
REF = {"type": ["integer", "null"], "minimum": 1, "maximum": 2**53}
TIME = {"type": ["string", "null"], "maxLength": 40}
IMAGE = {"type": ["object", "null"], "required": ["data"], "additionalProperties": False, "properties": {
    "data": _text((images.MAX_BYTES * 4) // 3 + 4), "width": {}, "height": {}, "format": {}}}
PLAIN = {"type": "object", "maxProperties": 100}  # free-form: checked by `_plain` for depth and size
OPTIONS = {"type": "array", "maxItems": 12, "items": _text(60)}
SEGMENT_QUESTIONS = {"type": "object", "additionalProperties": False, "properties": {
    "age": OPTIONS, "place": OPTIONS, "gender": {"type": "boolean"}}}

SCHEMA = _row({
    "format": {"const": FORMAT}, "version": {"type": "integer"},
    "workshop": _row({"title": {**_text(200), "minLength": 1}, "groups": {
        "type": "array", "minItems": 1, "maxItems": 20, "items": {**_text(80), "minLength": 1}}}, {
        "code": _text(12), "topic": _text(200), "description": _text(2000),
        "collect_names": {"type": "boolean"}, "status": {"enum": ["open", "closed"]},
        "timer_seconds": {"type": "integer", "minimum": 10, "maximum": 4 * 3600},
        "language": {"enum": list(LANGUAGES)}, "org_name": _text(200), "org_logo": IMAGE,
        "page_size": {"enum": ["A4", "Letter"]}, "created_at": TIME, "current_stage_id": REF,
        "safeguarding": {"type": "boolean"}, "helpline": _text(1000), "consent_note": _text(2000),
        "retention_days": {"type": ["integer", "null"], "minimum": 0, "maximum": 3650},
        "closed_at": TIME, "purged_at": TIME, "self_paced": {"type": "boolean"},
        "segment_questions": SEGMENT_QUESTIONS, "moderation": {"type": "boolean"},
        "shuffle_ballots": {"type": "boolean"}}),
    "stages": {"type": "array", "maxItems": LIMITS["stages"], "items": _row(
        {"id": ID, "kind": _text(32), "title": _text(200), "phase": _text(16)},
        {"prompt": _text(5000), "settings": {**PLAIN, "type": ["object", "null"]},
         "decision": {"type": ["object", "null"]}, "rationale": _text(4000), "minority_view": _text(4000),
         "notes": _text(10_000), "revealed_at": TIME, "decided_at": TIME, "warning": _text(300),
         "aggregate": {"type": ["object", "null"]}})},
    "participants": {"type": "array", "maxItems": LIMITS["participants"], "items": _row(
        {"id": ID, "group": _text(80)}, {"name": _text(80), "joined_at": TIME, "consented_at": TIME,
                                          "segments": {"type": "object", "maxProperties": 10,
                                                       "additionalProperties": _text(60)}})},
    "items": {"type": "array", "maxItems": LIMITS["items"], "items": _row(
        {"id": ID, "stage_id": ID, "title": _text(200)},
        {"participant_id": REF, "detail": _text(10_000), "data": {**PLAIN, "type": ["object", "null"]},
         "image": IMAGE, "hidden": {"type": "boolean"}, "pending": {"type": "boolean"}, "merged_into_id": REF,
         "created_at": TIME})},
    "votes": {"type": "array", "maxItems": LIMITS["votes"], "items": _row(
        {"stage_id": ID, "participant_id": ID, "item_id": ID,
         "value": {"type": "integer", "minimum": -1000, "maximum": 1000}},
        {"criterion": _text(32), "note": _text(4000), "hidden": {"type": "boolean"}, "updated_at": TIME})},
    "comments": {"type": "array", "maxItems": LIMITS["comments"], "items": _row(
        {"stage_id": ID, "item_id": ID, "tag": {**_text(16), "minLength": 1}, "text": _text(4000)},
        {"participant_id": REF, "hidden": {"type": "boolean"}, "pending": {"type": "boolean"},
         "created_at": TIME})},
}, {"exported_at": TIME, "results": {"type": "object"}})


def same_type(given, parsed) -> bool:
    """Tell whether a setting's value in a file has the JSON type its kind's form gives it.

    Forms read text: `"dots": "3"` would pass as 3 and then be stored as the text "3".
    """
    if isinstance(parsed, list):
        return isinstance(given, list) and all(same_type(a, b) for a, b in zip(given, parsed, strict=False))
    if isinstance(parsed, bool) or isinstance(given, bool):
        return isinstance(parsed, bool) and isinstance(given, bool)
    if isinstance(parsed, (int, float)):
        return isinstance(given, (int, float))
    if isinstance(parsed, str):
        return isinstance(given, str)
    return True  # an optional setting left empty
