"""Reading a workshop's JSON export back in: a new workshop, new code, new ids, for the importer.

The file may be old, damaged or hostile, so everything is checked before
anything is stored: the format and version, every field's type and length,
counts, that every id points at a row of the same file (a vote's item in the
vote's stage, a merge inside one stage, a decision's items in its stage),
and every embedded image is decoded and re-encoded by images.save(). A
refusal names the first problem found and stores nothing.
"""
from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from io import BytesIO

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select
from werkzeug.datastructures import MultiDict

from . import images
from .errors import Refused
from .exports import FORMAT, VERSION
from .extensions import db
from .models import Comment, Item, Participant, Stage, Vote, Workshop, new_code, utcnow
from .stages import KINDS
from .stages.drafts import DECISIONS

LIMITS = {"stages": 100, "participants": 20_000, "items": 20_000, "votes": 1_000_000, "comments": 200_000}
MAX_SETTING_DEPTH = 3


class _Bad(Exception):
    """A problem in the file, with where it is."""

    def __init__(self, where: str, problem):
        """Keep where in the file the problem is (e.g. `votes[3].item_id`) and what it is."""
        super().__init__(f"{where}: {problem}")
        self.where, self.problem = where, problem


# --- checking one value -----------------------------------------------------------

def _text(value, where: str, size: int, required: bool = False) -> str:
    """Check a text field's type and length."""
    if not isinstance(value, str):
        raise _Bad(where, _l("should be text"))
    if len(value) > size:
        raise _Bad(where, _l("is longer than %(n)d characters", n=size))
    if required and not value.strip():
        raise _Bad(where, _l("is empty"))
    return value


def _int(value, where: str, low: int = 1, high: int = 2**53) -> int:
    """Check a whole number (not a bool) within a range."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _Bad(where, _l("should be a whole number from %(low)d to %(high)d", low=low, high=high))
    return value


def _bool(value, where: str) -> bool:
    """Check a true/false field."""
    if not isinstance(value, bool):
        raise _Bad(where, _l("should be true or false"))
    return value


def _time(value, where: str) -> datetime | None:
    """Parse an ISO 8601 time (or None), dropping any zone: times are stored as naive UTC."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(_text(value, where, 40))
    except ValueError:
        raise _Bad(where, _l("is not a date and time")) from None
    return parsed.replace(tzinfo=None)


def _list(value, where: str, limit: int) -> list:
    """Check a list and its length."""
    if not isinstance(value, list):
        raise _Bad(where, _l("should be a list"))
    if len(value) > limit:
        raise _Bad(where, _l("has more than %(n)d entries", n=limit))
    return value


def _record(value, where: str, required: set[str], optional: set[str] = frozenset()) -> dict:
    """Check an object: every required field present, nothing beyond the optional ones."""
    if not isinstance(value, dict):
        raise _Bad(where, _l("should be an object"))
    missing, unknown = required - set(value), set(value) - required - optional
    if missing:
        raise _Bad(where, _l("lacks the field %(name)s", name=sorted(missing)[0]))
    if unknown:
        raise _Bad(where, _l("has an unknown field %(name)s", name=sorted(unknown)[0][:40]))
    return value


def _plain(value, where: str, depth: int = 0):
    """Check free-form JSON (settings, extra fields): small, shallow, scalars and lists."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return _text(value, where, 10_000)
    if depth >= MAX_SETTING_DEPTH:
        raise _Bad(where, _l("is nested too deeply"))
    if isinstance(value, list):
        return [_plain(v, f"{where}[{n}]", depth + 1) for n, v in enumerate(_list(value, where, 200))]
    if isinstance(value, dict):
        if len(value) > 100:
            raise _Bad(where, _l("has more than %(n)d entries", n=100))
        return {_text(k, where, 64): _plain(v, f"{where}.{k[:20]}", depth + 1) for k, v in value.items()}
    raise _Bad(where, _l("has a value of an unknown type"))


def _image(value, where: str) -> bytes | None:
    """Return an embedded image's bytes (checked as an image later, by images.save)."""
    if value is None:
        return None
    entry = _record(value, where, {"data"}, {"width", "height", "format"})
    raw = _text(entry["data"], where + ".data", (images.MAX_BYTES * 4) // 3 + 4)
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise _Bad(where, _l("is not base64 data")) from None


# --- the file ---------------------------------------------------------------------

def parse(raw: bytes) -> dict:
    """Decode a JSON export, or refuse: too large, not JSON, another format or version."""
    limit = current_app.config["IMPORT_MAX_MB"] * 1024 * 1024
    if len(raw) > limit:
        raise Refused(_l("The file is larger than %(mb)d MB.", mb=current_app.config["IMPORT_MAX_MB"]), 413)

    def no_constants(name):
        """Refuse NaN and Infinity, which Python's json accepts and JSON does not."""
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
        plan = _check(data)
    except _Bad as bad:
        raise Refused(_l("This file cannot be imported: %(where)s: %(problem)s.",
                         where=bad.where, problem=bad.problem)) from None
    saved: list[dict] = []
    try:
        workshop = _store(facilitator, plan, saved)
    except BaseException:
        db.session.rollback()
        for image in saved:
            images.delete(image)
        raise
    return workshop


def _check(data: dict) -> dict:
    """Check every part of the file and return it as a plan of rows to create."""
    _record(data, "file", {"format", "version", "workshop", "stages", "participants", "items", "votes",
                           "comments"}, {"exported_at"})
    w = _record(data["workshop"], "workshop", {"title", "groups"}, {
        "code", "topic", "description", "collect_names", "status", "timer_seconds", "language", "org_name",
        "org_logo", "page_size", "created_at", "current_stage_id"})
    groups = [_text(g, f"workshop.groups[{n}]", 80, required=True)
              for n, g in enumerate(_list(w["groups"], "workshop.groups", 20))]
    if not groups:
        raise _Bad("workshop.groups", _l("is empty"))
    workshop = {
        "title": _text(w["title"], "workshop.title", 200, required=True),
        "topic": _text(w.get("topic", ""), "workshop.topic", 200),
        "description": _text(w.get("description", ""), "workshop.description", 2000),
        "groups": groups,
        "collect_names": _bool(w.get("collect_names", False), "workshop.collect_names"),
        "status": w.get("status", "closed"),
        "timer_seconds": _int(w.get("timer_seconds", 300), "workshop.timer_seconds", 10, 4 * 3600),
        "language": _text(w.get("language", "en"), "workshop.language", 8),
        "org_name": _text(w.get("org_name", ""), "workshop.org_name", 200),
        "page_size": w.get("page_size", "A4"),
        "created_at": _time(w.get("created_at"), "workshop.created_at"),
    }
    if workshop["status"] not in ("open", "closed"):
        raise _Bad("workshop.status", _l("should be open or closed"))
    if workshop["page_size"] not in ("A4", "Letter"):
        raise _Bad("workshop.page_size", _l("should be A4 or Letter"))
    logo = _image(w.get("org_logo"), "workshop.org_logo")

    stages = {}
    for n, s in enumerate(_list(data["stages"], "stages", LIMITS["stages"])):
        where = f"stages[{n}]"
        _record(s, where, {"id", "kind", "title", "phase"}, {
            "prompt", "settings", "decision", "rationale", "minority_view", "notes", "revealed_at",
            "decided_at"})
        sid = _int(s["id"], where + ".id")
        if sid in stages:
            raise _Bad(where + ".id", _l("appears twice"))
        if s["kind"] not in KINDS:
            raise _Bad(where + ".kind", _l("is not a kind of stage this version knows"))
        if s["phase"] not in KINDS[s["kind"]].phases:
            raise _Bad(where + ".phase", _l("is not a phase of this kind of stage"))
        settings = _settings(KINDS[s["kind"]], s.get("settings") or {}, where + ".settings")
        stages[sid] = {
            "position": n, "kind": s["kind"], "title": _text(s["title"], where + ".title", 200),
            "prompt": _text(s.get("prompt", ""), where + ".prompt", 5000), "phase": s["phase"],
            "settings": settings, "decision": _decision(s.get("decision"), where + ".decision"),
            "rationale": _text(s.get("rationale", ""), where + ".rationale", 4000),
            "minority_view": _text(s.get("minority_view", ""), where + ".minority_view", 4000),
            "notes": _text(s.get("notes", ""), where + ".notes", 10_000),
            "revealed_at": _time(s.get("revealed_at"), where + ".revealed_at"),
            "decided_at": _time(s.get("decided_at"), where + ".decided_at")}
    current = w.get("current_stage_id")
    if current is not None and current not in stages:
        raise _Bad("workshop.current_stage_id", _l("points to no stage of this file"))

    people = {}
    for n, p in enumerate(_list(data["participants"], "participants", LIMITS["participants"])):
        where = f"participants[{n}]"
        _record(p, where, {"id", "group"}, {"name", "joined_at"})
        pid = _int(p["id"], where + ".id")
        if pid in people:
            raise _Bad(where + ".id", _l("appears twice"))
        name = _text(p.get("name", ""), where + ".name", 80)
        people[pid] = {"group": _text(p["group"], where + ".group", 80),
                       "name": name if workshop["collect_names"] else "",  # never names in anonymous ones
                       "joined_at": _time(p.get("joined_at"), where + ".joined_at")}

    items = {}
    for n, i in enumerate(_list(data["items"], "items", LIMITS["items"])):
        where = f"items[{n}]"
        _record(i, where, {"id", "stage_id", "title"}, {
            "participant_id", "detail", "data", "image", "hidden", "merged_into_id", "created_at"})
        iid = _int(i["id"], where + ".id")
        if iid in items:
            raise _Bad(where + ".id", _l("appears twice"))
        extra = _plain(i.get("data") or {}, where + ".data")
        if not isinstance(extra, dict) or "image" in extra:
            raise _Bad(where + ".data", _l("should be an object of text fields"))
        items[iid] = {
            "stage_id": _ref(i["stage_id"], stages, where + ".stage_id"),
            "participant_id": _ref(i.get("participant_id"), people, where + ".participant_id", optional=True),
            "title": _text(i["title"], where + ".title", 200), "detail": _text(i.get("detail", ""),
                                                                              where + ".detail", 10_000),
            "data": extra, "image": _image(i.get("image"), where + ".image"),
            "hidden": _bool(i.get("hidden", False), where + ".hidden"),
            "merged_into_id": i.get("merged_into_id"), "created_at": _time(i.get("created_at"),
                                                                           where + ".created_at")}
    for n, (iid, item) in enumerate(items.items()):
        target = item["merged_into_id"]
        if target is None:
            continue
        _in_stage(target, items, item["stage_id"], f"items[{n}].merged_into_id")
        if target == iid or items[target]["merged_into_id"] is not None:  # the app keeps merges flat
            raise _Bad(f"items[{n}].merged_into_id", _l("should point to an item that is not merged itself"))

    votes, seen = [], set()
    for n, v in enumerate(_list(data["votes"], "votes", LIMITS["votes"])):
        where = f"votes[{n}]"
        _record(v, where, {"stage_id", "participant_id", "item_id", "value"},
                {"criterion", "note", "updated_at"})
        vote = {"stage_id": _ref(v["stage_id"], stages, where + ".stage_id"),
                "participant_id": _ref(v["participant_id"], people, where + ".participant_id"),
                "item_id": _in_stage(v["item_id"], items, v["stage_id"], where + ".item_id"),
                "criterion": _text(v.get("criterion", ""), where + ".criterion", 32),
                "value": _int(v["value"], where + ".value", -1000, 1000),
                "note": _text(v.get("note", ""), where + ".note", 4000),
                "updated_at": _time(v.get("updated_at"), where + ".updated_at")}
        key = (vote["participant_id"], vote["item_id"], vote["criterion"])
        if key in seen:
            raise _Bad(where, _l("repeats a vote of the same participant on the same item"))
        seen.add(key)
        votes.append(vote)

    comments = []
    for n, c in enumerate(_list(data["comments"], "comments", LIMITS["comments"])):
        where = f"comments[{n}]"
        _record(c, where, {"stage_id", "item_id", "tag", "text"}, {"participant_id", "created_at"})
        comments.append({
            "stage_id": _ref(c["stage_id"], stages, where + ".stage_id"),
            "item_id": _in_stage(c["item_id"], items, c["stage_id"], where + ".item_id"),
            "participant_id": _ref(c.get("participant_id"), people, where + ".participant_id", optional=True),
            "tag": _text(c["tag"], where + ".tag", 16, required=True),
            "text": _text(c["text"], where + ".text", 4000),
            "created_at": _time(c.get("created_at"), where + ".created_at")})

    for sid, stage in stages.items():  # what a stage points at must be its own items
        where = f"stages[{stage['position']}]"
        decision = stage["decision"] or {}
        chosen = decision.get("item_ids", []) + [int(k) for k in decision.get("verdicts", {})]
        if "primary_id" in decision:
            chosen.append(decision["primary_id"])
        for iid in chosen:
            _in_stage(iid, items, sid, where + ".decision")
        focus = stage["settings"].get("focus")
        if focus is not None:
            _in_stage(focus, items, sid, where + ".settings.focus")
    return {"workshop": workshop, "logo": logo, "current": current, "stages": stages, "people": people,
            "items": items, "votes": votes, "comments": comments}


def _settings(kind, value, where: str) -> dict:
    """Check a stage's settings with its kind's settings form, as the console's changes are."""
    settings = _plain(value, where)
    if not isinstance(settings, dict):
        raise _Bad(where, _l("should be an object"))
    form_class = kind.SettingsForm
    known = set(kind.defaults) | (set(form_class().data) if form_class else set())
    unknown = set(settings) - known
    if unknown:
        raise _Bad(where, _l("has an unknown field %(name)s", name=sorted(unknown)[0][:40]))
    given = {k: v for k, v in settings.items() if k != "focus" and v is not None}
    pairs = []
    for key, v in given.items():
        for one in v if isinstance(v, list) else [v]:
            if isinstance(one, bool):
                pairs += [(key, "y")] if one else []
            elif isinstance(one, (int, str)):
                pairs.append((key, str(one)))
            else:
                raise _Bad(f"{where}.{key}", _l("has a value of an unknown type"))
    if form_class is not None:
        form = form_class(formdata=MultiDict(pairs))
        form.validate()
        for key in given:  # only what the file gives: a missing setting takes the kind's default
            if form.errors.get(key):
                raise _Bad(f"{where}.{key}", str(form.errors[key][0]))
            if isinstance(given[key], bool) != isinstance(form.data[key], bool) or \
                    isinstance(given[key], list) != isinstance(form.data[key], list):
                raise _Bad(f"{where}.{key}", _l("has a value of the wrong type"))
    return settings


def _decision(value, where: str) -> dict | None:
    """Check a stored decision: chosen item ids, a primary audience, drafts' verdicts."""
    if value is None:
        return None
    _record(value, where, {"item_ids"}, {"primary_id", "verdicts"})
    out = {"item_ids": [_int(i, where + ".item_ids") for i in _list(value["item_ids"], where, 1000)]}
    if "primary_id" in value:
        out["primary_id"] = _int(value["primary_id"], where + ".primary_id")
    if "verdicts" in value:
        verdicts = value["verdicts"]
        if not isinstance(verdicts, dict) or len(verdicts) > 1000 or not all(
                isinstance(k, str) and k.isdigit() and len(k) < 16 and v in DECISIONS
                for k, v in verdicts.items()):
            raise _Bad(where + ".verdicts", _l("should map item ids to approved, changes or rejected"))
        out["verdicts"] = dict(verdicts)
    return out


def _ref(value, known: dict, where: str, optional: bool = False):
    """Check that an id points at a row of the file."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value not in known:
        raise _Bad(where, _l("points to nothing in this file"))
    return value


def _in_stage(value, items: dict, stage_id, where: str) -> int:
    """Check that an item id points at an item of the given stage."""
    _ref(value, items, where)
    if items[value]["stage_id"] != stage_id:
        raise _Bad(where, _l("points to an item of another stage"))
    return value


# --- storing ---------------------------------------------------------------------

def _store(facilitator, plan: dict, saved: list[dict]) -> Workshop:
    """Create the rows of a checked plan with new ids; re-encode the images."""
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

    code = new_code()
    while db.session.scalar(select(Workshop.id).filter_by(code=code)) is not None:
        code = new_code()
    logo = picture(plan["logo"], "workshop.org_logo")
    workshop = Workshop(facilitator=facilitator, code=code, org_logo=logo, **_given(plan["workshop"]))
    db.session.add(workshop)
    stage_map = {}
    for old, s in plan["stages"].items():
        stage = Stage(workshop=workshop, **{k: v for k, v in s.items() if k != "decision"})
        db.session.add(stage)
        stage_map[old] = stage
    people_map = {old: Participant(workshop=workshop, **_given(p)) for old, p in plan["people"].items()}
    db.session.add_all(people_map.values())
    db.session.flush()
    item_map = {}
    for n, (old, i) in enumerate(plan["items"].items()):
        data = dict(i["data"])
        image = picture(i["image"], f"items[{n}].image")
        if image:
            data["image"] = image
        item = Item(stage_id=stage_map[i["stage_id"]].id, data=data, title=i["title"], detail=i["detail"],
                    hidden=i["hidden"], **_given({"created_at": i["created_at"]}),
                    participant_id=people_map[i["participant_id"]].id if i["participant_id"] else None)
        db.session.add(item)
        item_map[old] = item
    db.session.flush()
    for old, i in plan["items"].items():
        if i["merged_into_id"] is not None:
            item_map[old].merged_into_id = item_map[i["merged_into_id"]].id
    ids = {old: item.id for old, item in item_map.items()}
    for old, s in plan["stages"].items():
        stage = stage_map[old]
        if s["decision"] is not None:
            decision = {"item_ids": [ids[i] for i in s["decision"]["item_ids"]]}
            if "primary_id" in s["decision"]:
                decision["primary_id"] = ids[s["decision"]["primary_id"]]
            if "verdicts" in s["decision"]:
                decision["verdicts"] = {str(ids[int(k)]): v for k, v in s["decision"]["verdicts"].items()}
            stage.decision = decision
        if s["settings"].get("focus") is not None:
            stage.settings = {**s["settings"], "focus": ids[s["settings"]["focus"]]}
    if plan["current"] is not None:
        workshop.current_stage = stage_map[plan["current"]]
    rows = [{**v, "stage_id": stage_map[v["stage_id"]].id, "item_id": ids[v["item_id"]],
             "participant_id": people_map[v["participant_id"]].id, "client_id": "",
             "updated_at": v["updated_at"] or utcnow()} for v in plan["votes"]]
    if rows:
        db.session.execute(insert(Vote), rows)
    for c in plan["comments"]:
        db.session.add(Comment(
            stage_id=stage_map[c["stage_id"]].id, item_id=ids[c["item_id"]], tag=c["tag"], text=c["text"],
            participant_id=people_map[c["participant_id"]].id if c["participant_id"] else None,
            **_given({"created_at": c["created_at"]})))
    db.session.commit()
    return workshop


def _given(fields: dict) -> dict:
    """Drop the fields the file left empty, so the columns' defaults apply."""
    return {k: v for k, v in fields.items() if v is not None}
