"""What every stage kind provides: the plugin interface. The lifecycle itself lives in workshop/flow/.

A kind is one folder of workshop/stages/ and the only place its rules live:
its class (here the defaults of every hook), its forms, its screens
(`screens.html`: a macro per screen) and its test file (tests/stages/).
The generic code (phases, timer, reveal, per-group breakdown, decision,
notes, export, import, report) asks the kind; it never tests `kind == "..."`.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, insert, or_, select, update
from wtforms import BooleanField, Form

from .. import batch, stats, voting
from ..errors import Refused
from ..extensions import db
from ..models import Item, Vote, utcnow

# The statements of the vote path, built once on table columns: a vote runs them once per
# tap in the room, and building a statement costs more than running it on SQLite. (Parameter
# names differ from column names, which insert and update reserve for themselves.)
_V, _I = Vote.__table__.c, Item.__table__.c
ITEM_STATE = select(_I.stage_id, _I.hidden, _I.merged_into_id).where(_I.id == bindparam("item"))
_ONE_VOTE = (_V.participant_id == bindparam("participant"), _V.item_id == bindparam("item"),
             _V.criterion == bindparam("crit"))
VOTE_CLIENT_ID = select(_V.client_id).where(*_ONE_VOTE)
ADD_VOTE = insert(Vote.__table__).values(
    stage_id=bindparam("stage"), participant_id=bindparam("participant"),
    item_id=bindparam("item"), criterion=bindparam("crit"), value=bindparam("val"),
    client_id=bindparam("cid"), note=bindparam("text"), updated_at=bindparam("now"))
CHANGE_VOTE = update(Vote.__table__).where(*_ONE_VOTE).values(
    value=bindparam("val"), note=bindparam("text"), client_id=bindparam("cid"),
    updated_at=bindparam("now"))
IN_VOTE = (_V.stage_id == bindparam("stage"), _I.hidden.is_(False), _I.merged_into_id.is_(None))
VOTES_IN_ITEMS = Vote.__table__.join(Item.__table__, _V.item_id == _I.id)
ACTIVE = (_I.stage_id == bindparam("stage"), _I.hidden.is_(False), _I.merged_into_id.is_(None))
ACTIVE_IDS = select(_I.id).where(*ACTIVE).order_by(_I.id)
# The same votes for a count over a whole stage (the live numbers, every PUSH_INTERVAL while votes come
# in): the stage's few hidden or merged items listed once, not each vote's item looked up (12.6 -> 4.0 ms
# for the progress of 12,000 votes on SQLite).
INACTIVE_IDS = select(_I.id).where(_I.stage_id == bindparam("stage"),
                                   or_(_I.hidden.is_(True), _I.merged_into_id.is_not(None)))
STAGE_IN_VOTE = (_V.stage_id == bindparam("stage"), _V.item_id.not_in(INACTIVE_IDS))
VOTERS = select(func.count(func.distinct(_V.participant_id))).where(*STAGE_IN_VOTE)
MY_ITEMS = (select(_I.title).where(_I.stage_id == bindparam("stage"),
                                   _I.participant_id == bindparam("participant")).order_by(_I.id))
MY_VOTES = (select(_V.item_id, _V.criterion, _V.value, _V.note, _V.client_id).select_from(VOTES_IN_ITEMS)
            .where(*IN_VOTE, _V.participant_id == bindparam("participant")))

PHASE_LABELS = {
    "pending": _l("Not started"),
    "collect": _l("Collecting ideas"),
    "draft": _l("Drafting"),
    "vote": _l("Voting"),
    "results": _l("Results"),
    "decided": _l("Decided"),
}
ID_LIST = {"type": "array", "maxItems": 1000, "items": {"type": "integer", "minimum": 1, "maximum": 2**53}}


class GroupsSettingsForm(Form):
    """The setting every kind has: show the per-group breakdown on the projector."""

    show_groups = BooleanField(_l("Show groups on projector"))


class StageKind:
    """A kind of activity. Subclasses set the class attributes and override the hooks they need."""

    key = ""
    label: Any = ""
    prompt: Any = ""      # what a new stage of this kind asks the room, until the facilitator rewords it
    noun = _l("idea")     # what one item is called, for messages
    playable = True
    # The phases this kind walks through, in order; workshop/flow/phases.py moves along them.
    phases: tuple[str, ...] = ("pending", "collect", "vote", "results", "decided")
    defaults: dict[str, Any] = {"show_groups": False}
    # Jinja file with a macro per screen: projector(v), phone(v), console(v), report(v, image_src);
    # optional: tally(v), decision_fields(v, choices), decided(v), item_badge(v, item),
    # strategy_part(part, kind): what `strategy_part` returned, as a later workshop shows it carried over.
    template = ""
    ItemForm: type[Form] | None = None     # an item a phone or the facilitator adds
    VoteForm: type[Form] | None = None     # one vote action
    CommentForm: type[Form] | None = None  # a comment on an item, while voting
    SettingsForm: type[Form] | None = GroupsSettingsForm
    takes_images = False  # items get an uploaded image (the facilitator's or a partner's upload form)
    mergeable = False     # the facilitator may merge duplicate items (votes combine, see `combine`)
    # Its items come from every phone (ideas, proposals), thousands of them: past browse.LISTED, the
    # console's pushed view lists those awaiting approval and the newest, and searches the rest.
    crowd_items = False
    shuffles = False      # its vote is a ballot (dots, ranks, ratings): each phone lists items in its order
    holds_strategy = False  # this stage is the workshop's agreed strategy (the report's front page)
    # Each phone walks the stage at its own pace, one screen at a time (pre-test, survey): it runs in
    # the workshop's self-paced mode, with nobody pacing the room (participate/_steps.html).
    self_paced = False
    # A phone's answers are kept apart from votes, ideas and comments (a survey's responses): its page
    # always asks `mine` (participate._mine), and retention deletes them with `delete_raw`.
    answers_apart = False
    # A stage of this kind asks the campaign's KAP questionnaire on phones, each person a response of
    # the wave its `wave` setting names (stages/kapsurvey); the questionnaire's page can start one.
    collects_survey = False
    CodingForm: type[Form] | None = None  # the console codes participants' open answers (`code_answer`)
    strategy_labels: dict = {}  # what each key of `strategy_part` (or `written`) is called
    vote_meaning = "value"  # what a vote's value means, in the CSV export
    # JSON Schema of a stored decision, for imports (the stage's item ids are checked apart).
    decision_schema: dict = {"type": "object", "required": ["item_ids"], "additionalProperties": False,
                             "properties": {"item_ids": ID_LIST}}

    def setup(self, stage) -> None:
        """Prepare a new stage of this kind (e.g. create the items it always has)."""

    def shown(self, stage, field: str = "title") -> str:
        """Return a stage's title (or prompt) in the reader's language while it is still the kind's own
        (`label`, `prompt`, written in the workshop's language when the stage was made); words the
        facilitator wrote stay as written."""
        own = self.label if field == "title" else self.prompt
        written = getattr(stage, field)
        with force_locale(stage.workshop.language or "en"):
            default = str(own)
        return str(own) if written == default else written

    def setting(self, stage, name: str):
        """Return a stage setting, falling back to this kind's default."""
        return (stage.settings or {}).get(name, self.defaults.get(name))

    def form_for(self, stage, name: str) -> type[Form] | None:
        """Return the form class that checks a phone's or the console's `name` payload ("VoteForm",
        "ItemForm", "CommentForm") in a stage: the class attribute. A kind whose questions are data
        (a survey's questionnaire) builds it for the stage; `stage` may be the vote path's LiveStage."""
        return getattr(self, name)

    # --- items ------------------------------------------------------------------------

    def item_fields(self, form) -> dict:
        """Map a valid ItemForm to Item columns: title, detail, data."""
        return {"title": form.title.data.strip(), "detail": (form.detail.data or "").strip()}

    def item_values(self, item) -> dict:
        """Return an item's values under its ItemForm's field names (to edit it)."""
        return {**(item.data or {}), "title": item.title, "detail": item.detail}

    def can_merge(self, stage) -> bool:
        """Tell whether two of the stage's items may be merged now (duplicates, before voting closes)."""
        return self.mergeable and stage.phase not in ("results", "decided")

    def combine(self, kept: int, moved: int) -> int:
        """Merge one participant's values on two merged items (dots add up)."""
        return kept + moved

    def uncombine(self, stage, record: dict, now: int | None) -> tuple[int | None, int | None]:
        """Split one participant's value on a merge's survivor when the merge is undone: return
        (what stays on the survivor, what goes back to the duplicate), None for no vote.

        `record` is what the merge noted: `before` (the survivor's value then, or None), `moved`
        (the duplicate's), `after` (the combined one). Dots: the duplicate gets back what it
        brought, at most what is left (the budget holds whatever was moved since).
        """
        if now is None:
            return None, None
        back = min(record["moved"], now)
        return (now - back) or None, back or None

    # --- votes ------------------------------------------------------------------------

    def vote(self, stage, participant, form, client_id: str) -> dict:
        """Store one vote action atomically and return the participant's votes."""
        raise Refused(_l("This stage takes no votes."))

    def mine(self, stage, participant) -> dict:
        """Return what this participant has given in the stage (for their phone)."""
        return {}

    def ballot(self, stage, participant) -> dict:
        """Return what a vote's acknowledgement carries (what `vote` returns); default `mine`."""
        return self.mine(stage, participant)

    def export_value(self, value: int):
        """Return a stored vote value as the CSV export writes it (e.g. a verdict's name)."""
        return value

    # --- tallies ----------------------------------------------------------------------

    def results(self, stage) -> list:
        """Return the tally rows for the stage, computed from stored votes."""
        return []

    def leaders(self, stage, n: int) -> tuple[list, int]:
        """Return the first `n` tally rows and how many rows the whole tally has.

        The console's live tally asks every second while votes come in; a kind whose
        items can run into thousands (ideas from every phone) computes this in SQL.
        """
        rows = self.results(stage)
        return rows[:n], len(rows)

    def progress(self, stage) -> dict:
        """Return how many participants have voted so far."""
        return {"voters": db.session.execute(VOTERS, {"stage": stage.id}).scalar()}

    # --- the decision -----------------------------------------------------------------

    def decision_choices(self, stage) -> list[tuple[int, str]]:
        """Return the (item id, label) pairs a decision can choose from."""
        return [(item.id, item.title) for item in stage.items if item.active]

    def decide(self, stage, form) -> dict:
        """Check a DecisionForm against this stage; return the decision to store."""
        choices = dict(self.decision_choices(stage))
        chosen = [i for i in form.item_ids.data if i in choices]
        if not chosen or len(chosen) != len(form.item_ids.data):
            raise Refused(_l("Choose what was decided from this stage's ideas."))
        return {"item_ids": chosen}

    def decision_item_ids(self, decision: dict) -> list[int]:
        """Return every item id a stored decision names (an import checks they are the stage's)."""
        return list(decision.get("item_ids", []))

    def renumber_decision(self, decision: dict, ids: dict[int, int]) -> dict:
        """Return a stored decision with its item ids mapped to new ones (an import's new rows)."""
        return {**decision, "item_ids": [ids[i] for i in decision.get("item_ids", [])]}

    def strategy_part(self, stage, by_id: dict) -> dict:
        """Return what this stage's decision adds to the agreed strategy (see stages/strategy).

        A part whose keys the strategy does not know is drawn by this kind's own
        `strategy_part(part)` macro, in the strategy's summary.
        """
        return {}

    # --- coding, field surveys, exports, retention -------------------------------------

    def code_answer(self, stage, form) -> None:
        """Store the console's code of a participant's open answer (a checked CodingForm)."""
        raise Refused(_l("This stage has no answers to code."))

    def questionnaire(self, stage):
        """Return the stage's questions as an xlsform.Questionnaire (for ODK / KoboToolbox), or None."""
        return None

    def import_answers(self, stage, records: list[dict]) -> int:
        """Store answers collected in the field (records checked against `questionnaire`); return how many."""
        raise Refused(_l("This stage takes no answers from a file."))

    def delete_raw(self, stage) -> dict[str, int]:
        """Delete the raw answers this kind keeps apart from votes and comments (`answers_apart`), once
        `aggregate` kept the figures (retention); return how many of what went."""
        return {}

    def export_tables(self, stage) -> dict[str, tuple[list[str], list[list]]]:
        """Return the stage's computed results as tables {name: (header, rows)}, for the CSV and JSON
        exports."""
        return {}

    def aggregate(self, stage) -> dict:
        """Return what stays of the results once raw answers are deleted (retention): plain JSON data."""
        return {"results": [_freeze(row) for row in self.results(stage)], "progress": self.progress(stage)}

    def thaw(self, aggregate: dict) -> list:
        """Return the result rows kept by `aggregate`, as `results` returns them."""
        return [_thaw(row) for row in aggregate.get("results", [])]

    def written(self, stage) -> dict:
        """Return what the facilitator wrote into the strategy in this stage (kinds that hold it)."""
        return {}

    def strategy_text(self, part: dict) -> dict[str, tuple[str, str]]:
        """Return a strategy part (or what was written) as text: key -> (label, text).

        The campaign's strategy history compares these texts from one change to the next.
        One item reads as its title, then each of its fields under its own key
        (`primary.knowledge`); a list as its entries' titles.
        """
        out = {}
        for key, value in part.items():
            label = str(self.strategy_labels.get(key, key))
            if hasattr(value, "field"):
                out[key] = (label, value.title)
                for name, form_field in _item_fields(self):
                    text = value.detail if name == "detail" else value.field(name)
                    if isinstance(text, str):
                        out[f"{key}.{name}"] = (f"{label} · {form_field}", text)
            else:
                out[key] = (label, _text(value))
        return out

    # --- helpers for the kinds' vote methods -----------------------------------------

    @staticmethod
    def open_item(stage, item_id: int) -> None:
        """Refuse a vote on an item that is not in this stage's vote."""
        item = StageKind.item_state(item_id)
        if item is None or item.stage_id != stage.id or item.hidden or item.merged_into_id:
            raise Refused(_l("That item is not open for voting."))

    @staticmethod
    def item_state(item_id: int):
        """Return an item's stage, hidden and merged state (fetched ahead by the vote path, if it was)."""
        rows = batch.read(ITEM_STATE, {"item": item_id})
        return rows[0] if rows else None

    @staticmethod
    def store(stage, participant, item_id: int, criterion: str, value: int, client_id: str,
              note: str = "") -> bool:
        """Insert or update one vote; False when it is a replay of the stored action.

        Statements built once (above), no ORM objects: this runs once per tap in the room.
        """
        key = {"participant": participant.id, "item": item_id, "crit": criterion}
        known = batch.peek(MY_VOTES, {"stage": stage.id, "participant": participant.id})
        if known is not None:  # the phone's votes, fetched ahead with the vote's lock (after open_item)
            existing = next((v for v in known if v.item_id == item_id and v.criterion == criterion), None)
        else:
            existing = db.session.execute(VOTE_CLIENT_ID, key).first()
        if existing is not None and existing.client_id == client_id:
            return False
        values = {**key, "val": value, "cid": client_id, "text": note, "now": utcnow()}
        batch.run_together([(ADD_VOTE if existing is None else CHANGE_VOTE, {"stage": stage.id, **values})])
        batch.forget()  # what was fetched ahead is out of date now
        return True

    @staticmethod
    def my_votes(stage, participant):
        """Return this participant's votes in the stage on items still in the vote."""
        return batch.read(MY_VOTES, {"stage": stage.id, "participant": participant.id})

    @staticmethod
    def my_items(stage, participant) -> list[str]:
        """Return the titles this participant proposed in the stage."""
        mine = {"stage": stage.id, "participant": participant.id}
        return list(db.session.execute(MY_ITEMS, mine).scalars())

    @staticmethod
    def active_ids(stage) -> list[int]:
        """Return the ids of the items in the stage's vote, in order (ids only: no objects)."""
        return list(db.session.execute(ACTIVE_IDS, {"stage": stage.id}).scalars())


# The result rows `aggregate` may keep, by class name (dataclasses of voting.py and stats.py).
FROZEN = {cls.__name__: cls for cls in (voting.Row, voting.Consensus, stats.Share)}


def _freeze(row) -> dict:
    """Return a result row (a dataclass) as JSON data that names its class."""
    return {"class": type(row).__name__, **dataclasses.asdict(row)}


def _thaw(data: dict):
    """Return the result row `_freeze` kept (tuples come back as lists, which templates unpack alike)."""
    fields = dict(data)
    return FROZEN[fields.pop("class")](**fields)

def _item_fields(kind) -> list[tuple[str, str]]:
    """Return the (name, label) of an item's fields beyond its title, from the kind's item form."""
    if kind.ItemForm is None:
        return []
    return [(f.name, str(f.label.text)) for f in kind.ItemForm() if f.name != "title"]


def _text(value) -> str:
    """Return a strategy value as one line of text: items by title, entries joined by "; "."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "; ".join(t for t in map(_text, value) if t)
    if hasattr(value, "field"):  # an item (or an item as amended later)
        return value.title
    if isinstance(value, dict):
        return _text(value["item"]) if "item" in value else " – ".join(str(v) for v in value.values() if v)
    return str(value)


class Upcoming(StageKind):
    """A stage whose kind this version does not know (e.g. from a newer export)."""

    playable = False
    phases = ("pending",)
    template = "stages/upcoming.html"
    SettingsForm = None

    def __init__(self, key: str, label):
        self.key = key
        self.label = label
