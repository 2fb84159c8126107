"""Pick a trend: ideas are collected, merged, dot-voted, revealed and decided."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, literal_column, select, union_all

from ... import batch, voting
from ...errors import Refused
from ...extensions import db
from ...models import Item, Participant, Vote, utcnow
from ..base import ACTIVE, ADD_VOTE, CHANGE_VOTE, STAGE_IN_VOTE, StageKind
from ..registry import register
from .forms import DotSettingsForm, DotsForm, TrendIdeaForm

# Dots count on ideas still in the vote (IN_VOTE): dots on a hidden idea go back to the
# participant, and return if it is shown again. Statements built once (see stages/base.py).
_V, _P = Vote.__table__.c, Participant.__table__.c
DOTS_BY_GROUP = (select(_V.item_id, _P.group, _V.value).select_from(
    Vote.__table__.join(Participant.__table__, _V.participant_id == _P.id))
    .where(_V.stage_id == bindparam("stage"), _V.value > 0))
# The live tally's leaders (TrendStage.leaders): every idea in the vote with its dots, best
# first (ties in submission order, as voting.rank), counted and cut in the database. The ideas
# in the vote (with no dots) and the stage's dots are read once each and summed per idea
# together; an idea not in the vote (`listed` 0) drops out. No join: a join of the ideas to their
# dots let a PostgreSQL whose statistics predate the workshop (a new database) sum the stage's
# dots again for every idea (2 s for 2,000 ideas and 8,000 votes, every second, with the pushes to
# the projector waiting behind it); summed through the votes' item index, ideas by the hundred met
# a scan of all the stage's votes each, on PostgreSQL and on SQLite alike.
_I = Item.__table__.c
_DOTS = union_all(
    select(_I.id.label("item_id"), literal_column("0").label("dots"), literal_column("1").label("listed"))
    .where(*ACTIVE),
    select(_V.item_id, _V.value, literal_column("0")).where(_V.stage_id == bindparam("stage"), _V.value > 0),
).subquery()
_SCORE = func.sum(_DOTS.c.dots).label("score")
LEADERS = (select(_DOTS.c.item_id, _SCORE, func.count().over().label("total"))
           .group_by(_DOTS.c.item_id).having(func.max(_DOTS.c.listed) == 1)
           .order_by(_SCORE.desc(), _DOTS.c.item_id).limit(bindparam("n")))
DOTS_OF_ITEMS = (select(_V.item_id, _P.group, func.sum(_V.value)).select_from(
    Vote.__table__.join(Participant.__table__, _V.participant_id == _P.id))
    .where(_V.stage_id == bindparam("stage"), _V.value > 0,
           _V.item_id.in_(bindparam("items", expanding=True)))
    .group_by(_V.item_id, _P.group))
PROGRESS = (select(func.count(func.distinct(_V.participant_id)), func.coalesce(func.sum(_V.value), 0))
            .where(*STAGE_IN_VOTE, _V.value > 0))


class TrendStage(StageKind):
    key = "trend"
    label = _l("Pick a trend")
    prompt = _l("Which pattern should this campaign tackle? Describe one trend you see.")
    defaults = {"dots": 3, "show_groups": False}
    template = "stages/trend/screens.html"
    shuffles = True  # a ballot: each phone lists the items in its own order
    ItemForm = TrendIdeaForm
    VoteForm = DotsForm
    SettingsForm = DotSettingsForm
    mergeable = True  # phones propose the same trend in other words
    crowd_items = True  # every phone proposes: the console lists a bounded part (browse.py)
    vote_meaning = "dots"
    strategy_labels = {"trend": _l("Trend")}

    def vote(self, stage, participant, form, client_id):
        """Put `dots` dots on one idea (absolute, so a replay changes nothing).

        The caller has locked the participant row, so two tabs racing cannot
        both pass the budget check. This is the hot path of a live session: a handful
        of statements built once (stages/base.py).
        """
        item_id, wanted = form.item_id.data, form.dots.data
        item = self.item_state(item_id)
        if item is None or item.stage_id != stage.id or item.hidden or item.merged_into_id:
            raise Refused(_l("That idea is not open for voting."))
        allocation = {row.item_id: row for row in self.my_votes(stage, participant)}
        existing = allocation.get(item_id)
        dots = {i: row.value for i, row in allocation.items() if row.value > 0}
        if existing is not None and existing.client_id == client_id:
            return self._summary(stage, dots)  # a replay of an action already stored
        budget = self.setting(stage, "dots")
        spent_elsewhere = sum(v for i, v in dots.items() if i != item_id)
        if not voting.within_budget({0: spent_elsewhere, item_id: wanted}, budget):
            raise Refused(_l("You have %(left)d of %(budget)d dots left.",
                             left=max(budget - sum(dots.values()), 0), budget=budget))
        values = {"participant": participant.id, "item": item_id, "crit": "", "val": wanted,
                  "cid": client_id, "text": "", "now": utcnow(), "stage": stage.id}
        # the last statement of the vote: its COMMIT goes with it (flow/votes.py commits nothing more)
        batch.run_together([(ADD_VOTE if existing is None else CHANGE_VOTE, values)], commit=True)
        batch.forget()
        dots[item_id] = wanted
        return self._summary(stage, {i: v for i, v in dots.items() if v > 0})

    def _summary(self, stage, dots: dict[int, int]) -> dict:
        budget = self.setting(stage, "dots")
        return {"dots": dots, "budget": budget, "left": budget - sum(dots.values())}

    def ballot(self, stage, participant):
        return self._summary(stage, {v.item_id: v.value for v in self.my_votes(stage, participant)
                                     if v.value > 0})

    def mine(self, stage, participant):
        return {**self.ballot(stage, participant), "ideas": self.my_items(stage, participant)}

    def results(self, stage):
        votes = db.session.execute(DOTS_BY_GROUP, {"stage": stage.id})
        return voting.dot_tally(votes, self.active_ids(stage))

    def leaders(self, stage, n):
        scored = db.session.execute(LEADERS, {"stage": stage.id, "n": n + 1}).all()
        rows = voting.rank_leaders([(item_id, score) for item_id, score, _total in scored], n)
        by_id = {row.item_id: row for row in rows}
        dots_of_leaders = db.session.execute(DOTS_OF_ITEMS, {"stage": stage.id, "items": list(by_id)})
        for item_id, group, dots in dots_of_leaders:
            by_id[item_id].by_group[group or ""] = dots
        return rows, scored[0].total if scored else 0

    def progress(self, stage):
        voters, dots = db.session.execute(PROGRESS, {"stage": stage.id}).one()
        return {"voters": voters, "dots": dots}

    def strategy_part(self, stage, by_id):
        return {"trend": [by_id[i] for i in (stage.decision or {}).get("item_ids", []) if i in by_id]}


register(TrendStage())
