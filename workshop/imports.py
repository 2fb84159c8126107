"""Reading a workshop's JSON export back in: a new workshop, new code, new ids, for the importer.

The file may be old, damaged or hostile, so everything is checked before anything is stored. Its
shape is one declared JSON Schema (export_format.SCHEMA, checked with jsonschema); what a schema
cannot say is checked after it: ids point at rows of the same file (a vote's item in its stage, a
merge inside one stage), a stage's phase, settings and decision are its kind's, dates parse, images'
headers are within bounds (images.save() re-encodes them). A refusal says where (`votes[3].item_id`)
and stores nothing. It runs in a worker (datajobs.py); votes go in VOTE_CHUNK rows at a time."""
from __future__ import annotations

import base64
import binascii
import json
import time
from datetime import datetime
from io import BytesIO

import jsonschema
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select
from werkzeug.datastructures import MultiDict

from . import images, privacy, sharing
from .errors import Refused
from .export_format import FORMAT, SCHEMA, VERSION, same_type
from .extensions import db
from .models import Comment, Item, Participant, Stage, Vote, Workshop, new_code, utcnow
from .stages import KINDS

MAX_DEPTH = 3  # settings and an item's extra fields: scalars, and lists or objects of them, this deep
VOTE_CHUNK, VOTE_PAUSE = 200, 0.04  # votes per transaction (ms of SQLite's lock), then a pause for the room


class _Bad(Exception):  # a problem in the file, with where it is
    def __init__(self, where: str, problem):  # where: e.g. `votes[3].item_id`
        super().__init__(f"{where}: {problem}")
        self.where, self.problem = where, problem


def _where(path) -> str:
    """Return a place in the file as people read it: `stages[0].settings.dots`."""
    out = "file"
    for part in path:
        out = f"{out}[{part}]" if isinstance(part, int) else (part if out == "file" else f"{out}.{part}")
    return out


TYPE_WORDS = {"string": _l("should be text"), "integer": _l("should be a whole number"),
              "array": _l("should be a list"), "object": _l("should be an object"),
              "boolean": _l("should be true or false")}


def _explain(error: jsonschema.ValidationError) -> _Bad:
    """Turn a schema violation into a refusal that says where and what, in the reader's language."""
    where, rule, value = _where(error.absolute_path), error.validator, error.validator_value
    if rule == "type":
        kind = value if isinstance(value, str) else next(t for t in value if t != "null")
        return _Bad(where, TYPE_WORDS.get(kind, _l("has a value of the wrong type")))
    if rule in ("minimum", "maximum"):
        low, high = error.schema.get("minimum", -2**53), error.schema.get("maximum", 2**53)
        return _Bad(where, _l("should be a whole number from %(low)d to %(high)d", low=low, high=high))
    if rule == "maxLength":
        return _Bad(where, _l("is longer than %(n)d characters", n=value))
    if rule in ("minLength", "minItems"):
        return _Bad(where, _l("is empty"))
    if rule in ("maxItems", "maxProperties"):
        return _Bad(where, _l("has more than %(n)d entries", n=value))
    if rule == "required":
        missing = sorted(name for name in value if name not in error.instance)
        return _Bad(where, _l("lacks the field %(name)s", name=missing[0]))
    if rule == "additionalProperties":
        unknown = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return _Bad(where, _l("has an unknown field %(name)s", name=unknown[0][:40]))
    if rule in ("enum", "const"):
        return _Bad(where, _l("should be one of: %(values)s", values=", ".join(map(str, value))
                              if isinstance(value, list) else value))
    return _Bad(where, _l("has a value of the wrong type"))


# --- the file ---------------------------------------------------------------------

def parse(raw: bytes) -> dict:
    """Decode a JSON export, or refuse: too large, not JSON, another format or version."""
    limit = current_app.config["IMPORT_MAX_MB"] * 1024 * 1024
    if len(raw) > limit:
        raise Refused(_l("The file is larger than %(mb)d MB.", mb=current_app.config["IMPORT_MAX_MB"]), 413)

    def no_constants(name):  # NaN and Infinity: Python's json accepts them, JSON does not
        raise ValueError(name)

    try:
        data = json.loads(raw.decode("utf-8-sig"), parse_constant=no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise Refused(_l("This file is not a Charrette workshop export (it is not valid JSON).")) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise Refused(_l("This file is not a Charrette workshop export."))
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise Refused(_l("This export has no valid format version."))
    if version > VERSION:
        raise Refused(_l("This export was made by a newer version of Charrette (format %(v)d); "
                         "update this server to import it.", v=version))
    return data


def import_workshop(facilitator, raw: bytes) -> Workshop:
    """Create a new workshop for `facilitator` from a JSON export, or refuse and store nothing."""
    data = parse(raw)
    try:
        plan = check(data)
    except _Bad as bad:
        raise Refused(_l("This file cannot be imported: %(where)s: %(problem)s.",
                         where=bad.where, problem=bad.problem)) from None
    saved, made = [], []  # the images stored, the workshop (once created)
    try:
        workshop = _store(facilitator, plan, saved, made)
    except BaseException:
        db.session.rollback()
        list(map(images.delete, saved))
        if made and made[0].id is not None:  # its first part was committed: remove it all
            sharing.delete_workshop(made[0], made[0].code)
        raise
    return workshop


_VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def check(data: dict) -> dict:
    """Check the whole file (the schema, then what it cannot say); return it as a plan of rows to create."""
    error = jsonschema.exceptions.best_match(_VALIDATOR.iter_errors(data))
    if error is not None:
        raise _explain(error)
    w = data["workshop"]
    stages = _by_id(data["stages"], "stages")
    people = _by_id(data["participants"], "participants")
    items = _by_id(data["items"], "items")
    for n, stage in enumerate(data["stages"]):
        _check_kind(stage, f"stages[{n}]")
    if w.get("current_stage_id") is not None and w["current_stage_id"] not in stages:
        raise _Bad("workshop.current_stage_id", _l("points to no stage of this file"))
    for n, item in enumerate(data["items"]):
        where = f"items[{n}]"
        _ref(item["stage_id"], stages, where + ".stage_id")
        _ref(item.get("participant_id"), people, where + ".participant_id")
        extra = _plain(item.get("data") or {}, where + ".data")
        if "image" in extra:
            raise _Bad(where + ".data", _l("should be an object of text fields"))
        target = item.get("merged_into_id")
        if target is not None:
            _in_stage(target, items, item["stage_id"], where + ".merged_into_id")
            if target == item["id"] or items[target].get("merged_into_id") is not None:  # merges are flat
                raise _Bad(where + ".merged_into_id", _l("should point to an item that is not merged itself"))
    seen = set()
    for n, vote in enumerate(data["votes"]):
        where = f"votes[{n}]"
        _ref(vote["stage_id"], stages, where + ".stage_id")
        _ref(vote["participant_id"], people, where + ".participant_id")
        _in_stage(vote["item_id"], items, vote["stage_id"], where + ".item_id")
        key = (vote["participant_id"], vote["item_id"], vote.get("criterion", ""))
        if key in seen:
            raise _Bad(where, _l("repeats a vote of the same participant on the same item"))
        seen.add(key)
    for n, comment in enumerate(data["comments"]):
        where = f"comments[{n}]"
        _ref(comment["stage_id"], stages, where + ".stage_id")
        _in_stage(comment["item_id"], items, comment["stage_id"], where + ".item_id")
        _ref(comment.get("participant_id"), people, where + ".participant_id")
    for n, stage in enumerate(data["stages"]):  # what a stage points at must be its own items
        _check_references(stage, f"stages[{n}]", items)
    for table in ("workshop", "stages", "participants", "items", "votes", "comments"):
        rows = [data[table]] if table == "workshop" else data[table]
        for n, row in enumerate(rows):
            for name in ("created_at", "joined_at", "revealed_at", "decided_at", "updated_at", "closed_at",
                         "purged_at", "consented_at"):
                _time(row.get(name), f"{table}[{n}].{name}" if table != "workshop" else f"workshop.{name}")
    pictures = {i["id"]: _image(i.get("image"), f"items[{n}].image") for n, i in enumerate(data["items"])}
    return {"data": data, "logo": _image(w.get("org_logo"), "workshop.org_logo"), "images": pictures}


def _by_id(rows: list[dict], table: str) -> dict[int, dict]:
    """Index a table's rows by id; refuse an id that appears twice."""
    found = {}
    for n, row in enumerate(rows):
        if row["id"] in found:
            raise _Bad(f"{table}[{n}].id", _l("appears twice"))
        found[row["id"]] = row
    return found


def _check_kind(stage: dict, where: str) -> None:
    """Check what a stage's kind says of it: its phase, its settings and the shape of its decision."""
    kind = KINDS.get(stage["kind"])
    if kind is None:
        raise _Bad(where + ".kind", _l("is not a kind of stage this version knows"))
    if stage["phase"] not in kind.phases:
        raise _Bad(where + ".phase", _l("is not a phase of this kind of stage"))
    _settings(kind, stage.get("settings") or {}, where + ".settings")
    if stage.get("decision") is not None:
        error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(
            kind.decision_schema).iter_errors(stage["decision"]))
        if error is not None:
            explained = _explain(error)
            raise _Bad(f"{where}.decision" + explained.where.removeprefix("file"), explained.problem)


def _check_references(stage: dict, where: str, items: dict) -> None:
    """Check that the items a stage's decision and focus name are the stage's own."""
    if stage.get("decision") is not None:
        for item_id in KINDS[stage["kind"]].decision_item_ids(stage["decision"]):
            _in_stage(item_id, items, stage["id"], where + ".decision")
    focus = (stage.get("settings") or {}).get("focus")
    if focus is not None:
        _in_stage(focus, items, stage["id"], where + ".settings.focus")
    aggregate = stage.get("aggregate")
    if aggregate is not None:  # what retention kept: its rows name the stage's own items
        rows = aggregate.get("results")
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise _Bad(where + ".aggregate.results", _l("should be a list"))
        for n, row in enumerate(rows):
            if row.get("item_id") is not None:
                _in_stage(row["item_id"], items, stage["id"], f"{where}.aggregate.results[{n}].item_id")


def _settings(kind, settings: dict, where: str) -> dict:
    """Check a stage's settings with its kind's settings form, as the console's changes are."""
    settings = _plain(settings, where)
    known = set(kind.defaults) | (set(kind.SettingsForm().data) if kind.SettingsForm else set())
    unknown = set(settings) - known
    if unknown:
        raise _Bad(where, _l("has an unknown field %(name)s", name=sorted(unknown)[0][:40]))
    given = {k: v for k, v in settings.items() if k != "focus" and v is not None}
    pairs = []
    for key, value in given.items():
        for one in value if isinstance(value, list) else [value]:
            if isinstance(one, bool):
                pairs += [(key, "y")] if one else []
            elif isinstance(one, (int, str)):
                pairs.append((key, str(one)))
            else:
                raise _Bad(f"{where}.{key}", _l("has a value of an unknown type"))
    if kind.SettingsForm is not None:
        form = kind.SettingsForm(formdata=MultiDict(pairs))
        form.validate()
        for key in given:  # only what the file gives: a missing setting takes the kind's default
            if form.errors.get(key):
                raise _Bad(f"{where}.{key}", str(form.errors[key][0]))
            if not same_type(given[key], form.data[key]):  # "3" for a number reads as 3 in a form
                raise _Bad(f"{where}.{key}", _l("has a value of the wrong type"))
    focus = settings.get("focus")
    if focus is not None and (isinstance(focus, bool) or not isinstance(focus, int)):
        raise _Bad(f"{where}.focus", _l("points to nothing in this file"))
    return settings


def _plain(value, where: str, depth: int = 0):
    """Check free-form JSON (settings, extra fields): short texts, shallow lists and objects."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        if len(value) > 10_000:
            raise _Bad(where, _l("is longer than %(n)d characters", n=10_000))
        return value
    if depth >= MAX_DEPTH:
        raise _Bad(where, _l("is nested too deeply"))
    if isinstance(value, list):
        if len(value) > 200:
            raise _Bad(where, _l("has more than %(n)d entries", n=200))
        return [_plain(v, f"{where}[{n}]", depth + 1) for n, v in enumerate(value)]
    if len(value) > 100:
        raise _Bad(where, _l("has more than %(n)d entries", n=100))
    for key in value:
        if len(key) > 64:
            raise _Bad(where, _l("is longer than %(n)d characters", n=64))
    return {k: _plain(v, f"{where}.{k[:20]}", depth + 1) for k, v in value.items()}


def _time(value, where: str) -> datetime | None:
    """Parse an ISO 8601 time (or None), dropping any zone: times are stored as naive UTC."""
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=None)
    except ValueError:
        raise _Bad(where, _l("is not a date and time")) from None


def _image(value, where: str) -> bytes | None:
    """Return an embedded image's bytes, its header checked (decoded later, by images.save)."""
    if value is None:
        return None
    try:
        raw = base64.b64decode(value["data"], validate=True)
        images.check_header(raw)  # a 1 x 40,000,000 px image is refused before anything is stored
    except (binascii.Error, ValueError):
        raise _Bad(where, _l("is not base64 data")) from None
    except Refused as refusal:
        raise _Bad(where, refusal.message) from None
    return raw


def _ref(value, known: dict, where: str) -> None:  # an id (None: none given) of a row of the file
    if value is not None and value not in known:
        raise _Bad(where, _l("points to nothing in this file"))


def _in_stage(value, items: dict, stage_id, where: str) -> None:  # an item id of the given stage
    if value not in items:
        raise _Bad(where, _l("points to nothing in this file"))
    if items[value]["stage_id"] != stage_id:
        raise _Bad(where, _l("points to an item of another stage"))


# --- storing ---------------------------------------------------------------------

def _store(facilitator, plan: dict, saved: list[dict], made: list) -> Workshop:
    """Create the rows of a checked file with new ids; re-encode the images (into `saved`)."""
    def picture(raw: bytes | None, where: str) -> dict | None:
        """Decode, check and re-encode an embedded image like an upload; remember it for clean-up."""
        if raw is None:
            return None
        try:
            image = images.save(BytesIO(raw))
        except Refused as refusal:
            raise Refused(_l("This file cannot be imported: %(where)s: %(problem)s",
                             where=where, problem=refusal.message), refusal.status) from None
        saved.append(image)
        return image

    data = plan["data"]
    w = data["workshop"]
    code = new_code()
    while db.session.scalar(select(Workshop.id).filter_by(code=code)) is not None:
        code = new_code()
    safe = w.get("safeguarding", False)
    collect_names = w.get("collect_names", False) and not safe
    names = ("title", "topic", "description", "groups", "collect_names", "timer_seconds", "language",
             "org_name", "page_size", "safeguarding", "helpline", "consent_note", "retention_days",
             "self_paced", "segment_questions", "moderation", "shuffle_ballots")
    said = privacy.masked if safe else (lambda text: text)  # safeguarding: no contact details come in
    workshop = Workshop(facilitator=facilitator, code=code, status=w.get("status", "closed"),
                        org_logo=picture(plan["logo"], "workshop.org_logo"),
                        created_at=_time(w.get("created_at"), "") or utcnow(),
                        closed_at=_time(w.get("closed_at"), ""), purged_at=_time(w.get("purged_at"), ""),
                        **_given({name: w.get(name) for name in names}))
    workshop.collect_names = collect_names
    db.session.add(workshop)
    made.append(workshop)
    stage_map = {}
    for position, s in enumerate(data["stages"]):
        texts = _given({name: s.get(name) for name in ("prompt", "rationale", "minority_view", "notes",
                                                       "warning")})
        stage = Stage(workshop=workshop, position=position, kind=s["kind"], title=s["title"],
                      phase=s["phase"], settings=s.get("settings") or {},
                      revealed_at=_time(s.get("revealed_at"), ""), decided_at=_time(s.get("decided_at"), ""),
                      **texts)
        db.session.add(stage)
        stage_map[s["id"]] = stage
    people_map = {p["id"]: Participant(workshop=workshop, group=p["group"],
                                       name=p.get("name", "") if collect_names else "",  # never if anonymous
                                       segments=p.get("segments") or {},
                                       consented_at=_time(p.get("consented_at"), ""),
                                       **_given({"joined_at": _time(p.get("joined_at"), "")}))
                  for p in data["participants"]}
    db.session.add_all(people_map.values())
    db.session.flush()
    item_map = {}
    for n, i in enumerate(data["items"]):
        extra = dict(i.get("data") or {})
        image = picture(plan["images"][i["id"]], f"items[{n}].image")
        if image:
            extra["image"] = image
        by_phone = i.get("participant_id") is not None
        item = Item(stage_id=stage_map[i["stage_id"]].id, data=extra,
                    title=said(i["title"]) if by_phone else i["title"],
                    detail=said(i.get("detail", "")) if by_phone else i.get("detail", ""),
                    hidden=i.get("hidden", False), pending=i.get("pending", False),
                    **_given({"created_at": _time(i.get("created_at"), "")}),
                    participant_id=people_map[i["participant_id"]].id if i.get("participant_id") else None)
        db.session.add(item)
        item_map[i["id"]] = item
    db.session.flush()
    ids = {old: item.id for old, item in item_map.items()}
    for i in data["items"]:
        if i.get("merged_into_id") is not None:
            item_map[i["id"]].merged_into_id = ids[i["merged_into_id"]]
    for s in data["stages"]:
        stage = stage_map[s["id"]]
        if s.get("decision") is not None:
            stage.decision = KINDS[s["kind"]].renumber_decision(s["decision"], ids)
        if (s.get("settings") or {}).get("focus") is not None:
            stage.settings = {**s["settings"], "focus": ids[s["settings"]["focus"]]}
        if s.get("aggregate") is not None:
            stage.aggregate = {**s["aggregate"], "results": [
                {**row, "item_id": ids[row["item_id"]]} if row.get("item_id") is not None else row
                for row in s["aggregate"]["results"]]}
    if w.get("current_stage_id") is not None:
        workshop.current_stage = stage_map[w["current_stage_id"]]
    stage_ids, people_ids = ({old: row.id for old, row in rows.items()} for rows in (stage_map, people_map))
    for c in data["comments"]:
        db.session.add(Comment(
            stage_id=stage_map[c["stage_id"]].id, item_id=ids[c["item_id"]], tag=c["tag"],
            text=said(c["text"]), hidden=c.get("hidden", False), pending=c.get("pending", False),
            participant_id=people_map[c["participant_id"]].id if c.get("participant_id") else None,
            **_given({"created_at": _time(c.get("created_at"), "")})))
    db.session.commit()  # the write lock goes back before the votes are even read (SQLite: one writer)
    rows = [{"stage_id": stage_ids[v["stage_id"]], "item_id": ids[v["item_id"]],
             "participant_id": people_ids[v["participant_id"]], "criterion": v.get("criterion", ""),
             "value": v["value"], "note": said(v.get("note", "")), "note_hidden": v.get("hidden", False),
             "updated_at": _time(v.get("updated_at"), "") or utcnow()} for v in data["votes"]]
    for start in range(0, len(rows), VOTE_CHUNK):
        db.session.execute(insert(Vote), rows[start:start + VOTE_CHUNK])
        db.session.commit()
        time.sleep(VOTE_PAUSE)  # the live server's writes, waiting for the lock, get it now
    return workshop


def _given(fields: dict) -> dict:  # the fields the file gave: for the others the columns' defaults apply
    return {k: v for k, v in fields.items() if v is not None}
