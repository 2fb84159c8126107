"""Every stage kind, as a family: a whole plugin in its own folder, and the same generic moves
(merging voted items, the phone and console pages around it) right for each one.

A kind's own test file (tests/stages/test_<kind>.py) says how one of its votes looks
(`sample_vote`), how one of its comments looks if it takes them (`sample_comment`), and, if a
stage of it needs something before it takes votes (a survey: a campaign with a questionnaire),
`prepare(workshop, stage)`; so a new kind is walked here without this file knowing it.
"""
from importlib import import_module
from pathlib import Path

import pytest

from tests.conftest import cast_vote, gen_participant, gen_workshop, screens
from workshop import events
from workshop.errors import Refused
from workshop.extensions import db
from workshop.flow import agenda, phases
from workshop.models import Item
from workshop.stages import KINDS

STAGES = Path(__file__).resolve().parents[2] / "workshop" / "stages"


@pytest.mark.parametrize("key", sorted(KINDS))
def test_every_kind_is_a_whole_plugin(app, key):
    kind = KINDS[key]
    folder = STAGES / key
    assert (folder / "__init__.py").exists() and (folder / "screens.html").exists()
    assert kind.template == f"stages/{key}/screens.html"
    screens_module = app.jinja_env.get_template(kind.template).module
    for macro in ("projector", "phone", "console", "report"):
        assert hasattr(screens_module, macro), (key, macro)
    assert str(kind.label) and str(kind.prompt) and kind.phases[0] == "pending"
    module = import_module(f"tests.stages.test_{key}")
    assert hasattr(module, "sample_vote"), "how one of its votes looks"
    assert kind.CommentForm is None or hasattr(module, "sample_comment"), "how one of its comments looks"


def stage_in_vote(w, key, titles):
    """Return a stage of kind `key` in its vote with prepared items of these titles, and the kind's
    test module (its `sample_vote`)."""
    stage = next((s for s in w.stages if s.kind == key), None) or agenda.add_stage(w, key)
    items = [Item(stage_id=stage.id, title=title, data={}) for title in titles]
    db.session.add_all(items)
    db.session.commit()
    module = import_module(f"tests.stages.test_{key}")
    if hasattr(module, "prepare"):
        module.prepare(w, stage)
    phases.goto_stage(w, stage.id)
    phases.set_phase(w, stage.id, "vote")
    return stage, items, module


def voted_pair(w, key):
    """Return a stage of kind `key` in its vote, two of its items and a phone that voted on both."""
    stage, pair, module = stage_in_vote(w, key, [f"{key} item {n}" for n in range(2)])
    sample = module.sample_vote
    person = gen_participant(w)
    for n, item in enumerate(pair):
        cast_vote(w, person, {"cid": f"{key}-vote-{n}", **sample(item.id, n)})
    return stage, pair, person


@pytest.mark.parametrize("key", sorted(KINDS))
def test_merging_two_voted_items_is_the_kinds_call_and_never_breaks_a_screen(app, browser, key):
    """Kinds that merge duplicates combine the votes by their own rule; the others refuse with a
    clear message, whichever screen sent it. Either way every screen and the phone's own votes work."""
    w = gen_workshop()
    stage, (source, target), person = voted_pair(w, key)
    kind = KINDS[key]
    before = kind.mine(stage, person)
    if kind.mergeable:
        events.run("item:merge", w, None, {"source_id": source.id, "target_id": target.id})
        assert db.session.get(Item, source.id).merged_into_id == target.id
        mine = kind.mine(stage, person)
        assert source.id not in mine.get("dots", {}) and mine != before
        assert not any(k.startswith(f"{source.id}:") for k in mine.get("choices", {}))
    else:
        with pytest.raises(Refused, match=str(kind.label)):
            events.run("item:merge", w, None, {"source_id": source.id, "target_id": target.id})
        assert db.session.get(Item, source.id).merged_into_id is None and kind.mine(stage, person) == before
    html = screens(w)
    assert stage.title in html["console"] and stage.title in html["projector"]
    assert kind.results(stage) is not None
    phone = browser()  # and the phone's own page, drawn with its votes
    phone.join(w.code)
    assert phone.http.get(f"/j/{w.code}").status_code == 200


@pytest.mark.parametrize("kind", sorted(k for k in KINDS if "results" in KINDS[k].phases))
def test_results_nobody_voted_on_show_no_mean_of_zero(app, kind):
    """A mean of nothing is a dash, never "0.0", on every screen (the room reads 0.0 as a verdict)."""
    import re
    w = gen_workshop()
    stage = next((s for s in w.stages if s.kind == kind), None)
    if stage is None:
        stage = agenda.add_stage(w, kind)
    phases.goto_stage(w, stage.id)
    phases.set_phase(w, stage.id, "results")
    phases.reveal(w, stage.id, True)
    for audience, html in screens(w).items():
        assert not re.search(r">\s*0\.0\s*<", html), (kind, audience)


def _counts_item_votes(kind) -> bool:
    """A kind whose progress counts the votes on its items (the base's, or the dots of a trend)."""
    from workshop.stages.base import StageKind
    from workshop.stages.trend import TrendStage
    return type(kind).progress in (StageKind.progress, TrendStage.progress)


@pytest.mark.parametrize("key", sorted(k for k, kind in KINDS.items() if _counts_item_votes(kind)))
def test_the_live_progress_counts_only_votes_on_items_still_in_the_vote(app, key):
    """Every kind's progress of votes on items (pushed every PUSH_INTERVAL while votes come in) counts
    the votes on items still in the vote, as the per-vote join of items does, while one is hidden."""
    from sqlalchemy import func, select

    from workshop.flow.items import hide_item
    from workshop.models import Vote
    from workshop.stages.base import IN_VOTE, VOTES_IN_ITEMS

    w = gen_workshop()
    stage, items, module = stage_in_vote(w, key, [f"{key} progress {n}" for n in range(3)])
    alone, other = gen_participant(w), gen_participant(w)
    cast_vote(w, alone, {"cid": f"{key}-alone-0", **module.sample_vote(items[0].id, 0)})
    for n, item in enumerate(items[1:]):
        cast_vote(w, other, {"cid": f"{key}-other-{n}", **module.sample_vote(item.id, n)})
    kind = KINDS[key]
    joined = (select(func.count(func.distinct(Vote.participant_id)))
              .select_from(VOTES_IN_ITEMS).where(*IN_VOTE))

    def voters():
        db.session.expire_all()
        return kind.progress(stage)["voters"]

    assert voters() == db.session.scalar(joined, {"stage": stage.id}) == 2
    hide_item(w, items[0].id, True)  # the only item one phone voted on
    assert voters() == db.session.scalar(joined, {"stage": stage.id}) == 1
    hide_item(w, items[0].id, False)
    assert voters() == 2


def _rows_touched(plan: dict) -> int:
    """Return the rows a PostgreSQL plan's nodes produced and threw away, over all their loops."""
    loops = plan.get("Actual Loops", 1)
    own = plan.get("Actual Rows", 0) + plan.get("Rows Removed by Filter", 0) \
        + plan.get("Rows Removed by Join Filter", 0)
    return own * loops + sum(_rows_touched(child) for child in plan.get("Plans", []))


@pytest.mark.parametrize("key", sorted(KINDS))
def test_every_read_of_a_push_is_linear_on_a_postgresql_whose_statistics_predate_the_workshop(
        tmp_path, postgres_url, key):
    """What the coalescer reads for projector and console while votes come in (the numbers every
    PUSH_INTERVAL, the console's live tally every second, the whole views, the reveal's results),
    and in every other phase the facilitator moves to and back from, for every kind, on a
    PostgreSQL with statistics taken before the workshop began (a new database, or a stage that
    grew since autovacuum last looked). Each statement, run again under EXPLAIN ANALYZE, touches
    rows in proportion to what the database holds, not to its square: the trend's leaders, joined
    to the stage's dots summed at once, were summed again for every idea (2 s for 2,000 ideas,
    every second, and the projector's pushes waited behind it). The few reads that run on the
    driver's cursor (workshop/batch.py) are single rows by key, and are not seen here.
    """
    from sqlalchemy import event, func, select, text

    import config
    from workshop import create_app, live

    app = create_app(config.TestingConfig(DATABASE_URL=postgres_url, UPLOAD_DIR=str(tmp_path / "up"),
                                          RATELIMIT_ENABLED=False, LOG_LEVEL="WARNING"))
    with app.app_context():
        w = gen_workshop()
        db.session.execute(text("ANALYZE"))  # the statistics of tables all but empty
        db.session.commit()
        stage, items, module = stage_in_vote(w, key, [f"{key} item {n}" for n in range(120)])
        people = [gen_participant(w, w.groups[k % len(w.groups)]) for k in range(240)]
        for k, person in enumerate(people):
            item = items[(k * 7) % len(items)]
            cast_vote(w, person, {"cid": f"{key}-{k:04d}", **module.sample_vote(item.id, k % 2)})
            if KINDS[key].CommentForm is not None:  # and a comment each, where the kind takes them
                comment = {"cid": f"{key}-c{k:04d}", **module.sample_comment(item.id, k)}
                events.run("comment:add", w, person, comment)
        held = sum(db.session.execute(select(func.count()).select_from(table)).scalar()
                   for table in db.metadata.sorted_tables)  # every row the database holds
        assert held >= 480  # each phone and what it gave

        ran = []

        def note(_conn, _cursor, statement, parameters, _context, _many):
            if statement.lstrip().upper().startswith("SELECT"):
                ran.append((statement, parameters))

        def read_as_the_pushes_do():
            db.session.expire_all()
            live.numbers(w)
            live.tally(w, "en")
            live.payload(w, "console", "en")
            live.payload(w, "projector")

        event.listen(db.engine, "before_cursor_execute", note)
        try:
            read_as_the_pushes_do()  # while votes come in
            for phase in (*KINDS[key].phases[1:], "vote"):  # back to the first phase, then on, and back
                if phase != "decided":
                    phases.set_phase(w, stage.id, phase)
                    if phase == "results":
                        phases.reveal(w, stage.id, True)
                    read_as_the_pushes_do()
        finally:
            event.remove(db.engine, "before_cursor_execute", note)
        assert ran
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            for statement, parameters in ran:
                cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
                touched = _rows_touched(cursor.fetchone()[0][0]["Plan"])
                assert touched <= 5 * held, (key, touched, held, statement)
        finally:
            raw.close()
            db.session.remove()
            db.engine.dispose()
