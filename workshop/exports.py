"""A workshop's data out of the app: CSV tables in a zip (for analysis) and one JSON file (a backup).

The CSV files are for spreadsheets: UTF-8 with a byte-order mark (so Excel
reads Nordic and Cyrillic text right) and every text cell that a spreadsheet
would run as a formula is prefixed with an apostrophe. Participants are
numbered per workshop (P1, P2, ...) so a row can be followed across files;
names appear only when the workshop asked for them.

The JSON file holds everything needed to rebuild the workshop elsewhere
(imports.py reads it back); its images are embedded, base64, as stored (the
re-encoded copies), and are decoded and re-encoded again on import.
"""
from __future__ import annotations

import base64
import csv
import io
import json
import zipfile
from datetime import datetime

from sqlalchemy import select

from . import images
from .export_format import FORMAT, VERSION
from .extensions import db
from .models import Comment, Item, Participant, Stage, Vote, Workshop, utcnow
from .stages import kind_of

# What makes Excel, LibreOffice or Google Sheets read a cell as a formula (OWASP's list, the
# full-width forms Excel folds to them, and spaces before any of them).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def _rows(workshop: Workshop):
    """Load the workshop's stages, participants, items, votes and comments in a stable order."""
    stage_ids = select(Stage.id).where(Stage.workshop_id == workshop.id).scalar_subquery()
    participants = db.session.scalars(select(Participant).filter_by(workshop_id=workshop.id)
                                      .order_by(Participant.id)).all()
    items = db.session.scalars(select(Item).where(Item.stage_id.in_(stage_ids)).order_by(Item.id)).all()
    votes = db.session.scalars(select(Vote).where(Vote.stage_id.in_(stage_ids)).order_by(Vote.id)).all()
    comments = db.session.scalars(select(Comment).where(Comment.stage_id.in_(stage_ids))
                                  .order_by(Comment.id)).all()
    return list(workshop.stages), participants, items, votes, comments


# --- CSV --------------------------------------------------------------------------

def safe_cell(value):
    """Return a cell a spreadsheet shows as text, never runs as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    return "'" + text if text.lstrip(" ").startswith(FORMULA_STARTS) else text


def write_csv(header: list[str], rows) -> bytes:
    """Return one CSV file: a header and cells both made safe (imported extra-data keys become
    column names), CRLF lines, UTF-8 with a byte-order mark. Every CSV the app writes goes here."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(name) for name in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return buffer.getvalue().encode("utf-8-sig")


def csv_zip(workshop: Workshop) -> bytes:
    """Return a zip of CSV files: stages, items, votes, ratings, comments, participants, groups."""
    stages, participants, items, votes, comments = _rows(workshop)
    named = workshop.collect_names
    number = {p.id: f"P{n}" for n, p in enumerate(participants, start=1)}
    people = {p.id: p for p in participants}
    stage_of = {s.id: s for s in stages}
    item_of = {i.id: i for i in items}

    def who(participant_id):
        """Return the (participant, group[, name]) cells of whoever gave a row."""
        person = people.get(participant_id)
        cells = [number.get(participant_id, "facilitator"), person.group if person else ""]
        return cells + ([person.name if person else ""] if named else [])

    who_header = ["participant", "group"] + (["name"] if named else [])

    def stage_cells(stage_id):
        """Return the (stage number, stage title) cells of a row."""
        return [stage_of[stage_id].position + 1, stage_of[stage_id].title]

    files = {}
    files["stages.csv"] = write_csv(
        ["stage", "title", "kind", "phase", "decided_items", "rationale", "minority_view", "decided_at"],
        ([s.position + 1, s.title, s.kind, s.phase,
          "; ".join(item_of[i].title for i in (s.decision or {}).get("item_ids", []) if i in item_of),
          s.rationale, s.minority_view, s.decided_at] for s in stages))

    extra = sorted({key for item in items for key in (item.data or {}) if key not in ("image", "merge")})
    files["items.csv"] = write_csv(
        ["item_id", "stage", "stage_title", "kind", "title", "detail", "status", "merged_into_id",
         "image", *who_header, "created_at", *extra],
        ([i.id, *stage_cells(i.stage_id), stage_of[i.stage_id].kind, i.title, i.detail,
          "merged" if i.merged_into_id else "pending" if i.pending else "hidden" if i.hidden else "active",
          i.merged_into_id,
          images.filename(i.image, images.WIDTHS[-1]) if i.image else "",
          *who(i.participant_id), i.created_at,
          *(_flat((i.data or {}).get(key, "")) for key in extra)] for i in items))

    def vote_row(v):
        """Return one vote as a row: what was voted on, by whom, what the value means (the kind says)."""
        kind = kind_of(stage_of[v.stage_id])
        return [*stage_cells(v.stage_id), kind.key, v.item_id, item_of[v.item_id].title,
                *who(v.participant_id), v.criterion or kind.vote_meaning, kind.export_value(v.value), v.note,
                v.updated_at]

    files["votes.csv"] = write_csv(
        ["stage", "stage_title", "kind", "item_id", "item_title", *who_header, "vote", "value", "note",
         "updated_at"], (vote_row(v) for v in votes if not v.criterion))
    files["ratings.csv"] = write_csv(
        ["stage", "stage_title", "kind", "item_id", "item_title", *who_header, "criterion", "score", "note",
         "updated_at"], (vote_row(v) for v in votes if v.criterion))
    files["comments.csv"] = write_csv(
        ["stage", "stage_title", "item_id", "item_title", *who_header, "tag", "text", "created_at", "status"],
        ([*stage_cells(c.stage_id), c.item_id, item_of[c.item_id].title, *who(c.participant_id), c.tag,
          c.text, c.created_at, "pending" if c.pending else "hidden" if c.hidden else "active"]
         for c in comments))
    files["participants.csv"] = write_csv(
        who_header + ["joined_at"], ([*who(p.id), p.joined_at] for p in participants))
    counts: dict[str, int] = {group: 0 for group in workshop.groups}
    for p in participants:
        counts[p.group] = counts.get(p.group, 0) + 1
    files["groups.csv"] = write_csv(["group", "participants"], sorted(counts.items()))
    segment_keys = sorted({key for p in participants for key in (p.segments or {})})
    if segment_keys:  # the optional segment questions asked at join
        files["segments.csv"] = write_csv(["participant", *segment_keys],
                                     ([number[p.id], *((p.segments or {}).get(k, "") for k in segment_keys)]
                                      for p in participants))
    for name, (header, rows) in results_tables(stages).items():  # the kinds' computed figures
        files[f"{name}.csv"] = write_csv(header, rows)

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=utcnow().timetuple()[:6]), data,
                             compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def results_tables(stages) -> dict[str, tuple[list[str], list[list]]]:
    """Return the kinds' computed results as tables (a stage number and title first in each row)."""
    tables: dict[str, tuple[list[str], list[list]]] = {}
    for stage in stages:
        if stage.phase == "pending":
            continue
        for name, (header, rows) in kind_of(stage).export_tables(stage).items():
            table = tables.setdefault(name, (["stage", "stage_title", *header], []))
            table[1].extend([stage.position + 1, stage.title, *row] for row in rows)
    return tables


def _flat(value) -> str:
    """Return an extra field as one cell: lists joined, everything else as text."""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return "" if value is None else str(value)


# --- JSON -------------------------------------------------------------------------

def _time(value: datetime | None) -> str | None:
    """Return a time as ISO 8601 (UTC, seconds), or None."""
    return value.isoformat(timespec="seconds") if value else None


def image_entry(image: dict | None) -> dict | None:
    """Return an image as {width, height, format, data: base64} from its largest stored copy."""
    if not isinstance(image, dict) or not {"name", "ext"} <= set(image):
        return None
    for width in reversed(images.WIDTHS):  # files are named by the nominal widths
        path = images.file_path(images.filename(image, width))
        if path is not None:
            return {"width": image.get("width"), "height": image.get("height"), "format": image["ext"],
                    "data": base64.b64encode(path.read_bytes()).decode("ascii")}
    return None


def workshop_dict(workshop: Workshop) -> dict:
    """Return everything in a workshop as plain JSON data (the export format, version 1)."""
    stages, participants, items, votes, comments = _rows(workshop)
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": _time(utcnow()),
        "workshop": {
            "code": workshop.code, "title": workshop.title, "topic": workshop.topic,
            "description": workshop.description, "groups": list(workshop.groups),
            "collect_names": workshop.collect_names, "status": workshop.status,
            "timer_seconds": workshop.timer_seconds, "language": workshop.language,
            "org_name": workshop.org_name, "org_logo": image_entry(workshop.org_logo),
            "page_size": workshop.page_size, "created_at": _time(workshop.created_at),
            "current_stage_id": workshop.current_stage_id,
            "safeguarding": workshop.safeguarding, "helpline": workshop.helpline,
            "consent_note": workshop.consent_note, "retention_days": workshop.retention_days,
            "closed_at": _time(workshop.closed_at), "purged_at": _time(workshop.purged_at),
            "self_paced": workshop.self_paced, "segment_questions": workshop.segment_questions or {},
            "moderation": workshop.moderation, "shuffle_ballots": workshop.shuffle_ballots,
        },
        "stages": [{"id": s.id, "kind": s.kind, "title": s.title, "prompt": s.prompt, "phase": s.phase,
                    "settings": s.settings or {}, "decision": s.decision, "rationale": s.rationale,
                    "minority_view": s.minority_view, "notes": s.notes,
                    "revealed_at": _time(s.revealed_at), "decided_at": _time(s.decided_at),
                    "warning": s.warning, "aggregate": s.aggregate}
                   for s in stages],
        "participants": [{"id": p.id, "name": p.name, "group": p.group, "joined_at": _time(p.joined_at),
                          "segments": p.segments or {}, "consented_at": _time(p.consented_at)}
                         for p in participants],
        "items": [{"id": i.id, "stage_id": i.stage_id, "participant_id": i.participant_id,
                   "title": i.title, "detail": i.detail,
                   "data": {k: v for k, v in (i.data or {}).items() if k not in ("image", "merge")},
                   "image": image_entry(i.image), "hidden": i.hidden, "pending": i.pending,
                   "merged_into_id": i.merged_into_id,
                   "created_at": _time(i.created_at)} for i in items],
        "votes": [{"stage_id": v.stage_id, "participant_id": v.participant_id, "item_id": v.item_id,
                   "criterion": v.criterion, "value": v.value, "note": v.note, "hidden": v.note_hidden,
                   "updated_at": _time(v.updated_at)} for v in votes],
        "comments": [{"stage_id": c.stage_id, "item_id": c.item_id, "participant_id": c.participant_id,
                      "tag": c.tag, "text": c.text, "hidden": c.hidden, "pending": c.pending,
                      "created_at": _time(c.created_at)} for c in comments],
        # Computed from the rows above (or kept by retention): for reading, never read back by imports.
        "results": {name: [dict(zip(header, row, strict=True)) for row in rows]
                    for name, (header, rows) in results_tables(stages).items()},
    }


def json_export(workshop: Workshop) -> bytes:
    """Return the workshop as a UTF-8 JSON file."""
    return json.dumps(workshop_dict(workshop), ensure_ascii=False, indent=1).encode("utf-8")
