"""Socket.IO with the real test client: rooms, roles, acks and what each screen receives."""
import json
import re

import pytest
from sqlalchemy import func, select

from tests.conftest import gen_facilitator, gen_ideas, gen_workshop, views
from workshop.extensions import db
from workshop.flow import phases
from workshop.models import Item, Vote


@pytest.fixture
def room(app, browser):
    """A workshop with a signed-in console and projector and two joined phones."""
    gen_facilitator()
    w = gen_workshop(gen_facilitator("host@example.org"))
    laptop = browser()
    laptop.login("host@example.org")
    phones = [browser(), browser()]
    phones[0].join(w.code, "Youth")
    phones[1].join(w.code, "Government")
    socks = {"console": laptop.socket(w.code, "console"), "projector": laptop.socket(w.code, "projector"),
             "phone": phones[0].socket(w.code, "phone"), "phone2": phones[1].socket(w.code, "phone")}
    assert all(s.is_connected() for s in socks.values())
    for s in socks.values():
        s.get_received()
    return w, socks


def test_connections_are_refused_to_anyone_not_entitled(app, browser):
    w = gen_workshop()
    stranger = browser()
    assert not stranger.socket(w.code, "phone").is_connected()  # has not joined
    assert not stranger.socket(w.code, "console").is_connected()  # not signed in
    assert not stranger.socket(w.code, "projector").is_connected()
    assert not stranger.socket("ZZZZZZ", "phone").is_connected()
    stranger.join(w.code)
    assert not stranger.socket(w.code, "admin").is_connected()
    assert stranger.socket(w.code, "phone").is_connected()
    other_host = browser()
    gen_facilitator("other@example.org")
    other_host.login("other@example.org")
    assert not other_host.socket(w.code, "console").is_connected()


def test_sync_returns_the_view_and_the_phones_own_votes(room):
    w, socks = room
    reply = socks["phone"].emit("sync", {}, callback=True)
    assert reply["ok"] and 'data-stage="' in reply["view"]["html"]
    assert socks["projector"].emit("sync", {}, callback=True)["view"]["participants"] == 2
    assert reply["mine"]["budget"] == 3 and reply["mine"]["dots"] == {}


def test_a_console_action_reaches_every_screen_of_that_workshop_only(app, room, browser):
    w, socks = room
    other = gen_workshop(w.facilitator, title="Other workshop")
    outsider = browser()
    outsider.join(other.code)
    outsider_sock = outsider.socket(other.code, "phone")
    outsider_sock.get_received()
    reply = socks["console"].emit("stage:go", {"stage_id": w.stages[0].id, "phase": "collect"}, callback=True)
    assert reply == {"ok": True}
    for name in ("console", "projector", "phone", "phone2"):
        (view,) = views(socks[name])
        assert view["phase"] == "collect", name
    assert outsider_sock.get_received() == []


def _drawn(page: str) -> tuple[int, dict]:
    """The workshop version a phone page was drawn from, and the rest of a sync's answer it carries."""
    version = re.search(r'data-version="(\d+)"', page)
    drawn = re.search(r'<script type="application/json" id="drawn">(.*?)</script>', page, re.S)
    return int(version[1]), json.loads(drawn[1])


def test_a_phone_page_carries_what_a_sync_answers_and_its_socket_is_told_only_when_stale(app, browser):
    """A join storm: the phone page is the view, so its socket needs no first `sync`, unless the
    workshop changed between the page and the socket (a facilitator action in between)."""
    w = gen_workshop()
    gen_ideas(w, "Walk to school", "Ride together")
    phases.set_phase(w, w.current_stage_id, "vote")
    phone = browser()
    page = phone.join(w.code, "Youth").get_data(as_text=True)
    version, drawn = _drawn(page)
    first = phone.socket(w.code, "phone", version=version)
    assert first.is_connected() and first.get_received() == []  # drawn at the current version: nothing
    reply = first.emit("sync", {}, callback=True)
    # A phone that gave nothing: the stage, and nothing given (phone.js starts it empty).
    assert drawn["mine"] == {"stage_id": reply["mine"]["stage_id"]} == {"stage_id": w.current_stage_id}
    assert not any(reply["mine"][k] for k in ("dots", "ideas"))
    assert {k: drawn["view"][k] for k in ("stage_id", "phase", "timer", "open", "lang")} == {
        k: reply["view"][k] for k in ("stage_id", "phase", "timer", "open", "lang")}

    # What the phone gave is drawn into its page, as a sync says it; and a running timer.
    item_id = db.session.scalar(select(Item.id).where(Item.stage_id == w.current_stage_id))
    voted = first.emit("vote", {"cid": "drawn-vote-1", "item_id": item_id, "dots": 2}, callback=True)
    assert voted["ok"], voted
    phases.start_timer(w, 120)
    version, drawn = _drawn(phone.http.get(f"/j/{w.code}").get_data(as_text=True))
    reply = first.emit("sync", {}, callback=True)
    assert drawn["mine"]["dots"] == reply["mine"]["dots"] == {str(item_id): 2}
    assert 115_000 < drawn["view"]["timer"]["left_ms"] <= 120_000

    # The facilitator acted between the page and its socket: the socket is told to sync.
    phases.set_phase(w, w.current_stage_id, "results")
    stale = phone.socket(w.code, "phone", version=version)
    assert [m["name"] for m in stale.get_received()] == ["stale"]
    for odd in ("7", True, None, 1.5):  # not a version: no word either way (the page syncs itself)
        sock = phone.socket(w.code, "phone", version=odd)
        assert sock.is_connected() and sock.get_received() == []
        sock.disconnect()


def test_votes_are_acked_with_mine_and_reach_the_projector_without_results(room):
    w, socks = room
    (a, b) = gen_ideas(w, "Fake job offers", "Debt bondage")
    socks["console"].emit("stage:go", {"stage_id": w.stages[0].id, "phase": "vote"}, callback=True)
    for s in socks.values():
        s.get_received()
    reply = socks["phone"].emit("vote", {"cid": "vote-00001", "item_id": a.id, "dots": 2}, callback=True)
    assert reply["ok"] and reply["mine"]["dots"] == {str(a.id): 2} and reply["mine"]["left"] == 1
    # A vote changes numbers only: the projector gets them without any HTML (nothing
    # it could show before the reveal), the console its live tally as a part.
    (projector_view,) = views(socks["projector"])
    assert projector_view["numbers"] and projector_view["progress"] == {"voters": 1, "dots": 2}
    assert "html" not in projector_view and "parts" not in projector_view
    assert "Fake job offers" not in str(projector_view)  # hidden until the reveal
    (console_view,) = views(socks["console"])
    assert "html" not in console_view
    tally = console_view["parts"]["tally"]
    assert 'class="bars' in tally and tally.index("Fake job offers") < tally.index("Debt bondage")
    assert socks["phone2"].get_received() == []  # no broadcast per vote to phones
    over = socks["phone"].emit("vote", {"cid": "vote-00002", "item_id": b.id, "dots": 2}, callback=True)
    assert over["ok"] is False and "dots left" in over["error"]
    assert db.session.scalar(select(func.sum(Vote.value))) == 2


def test_reveal_shows_results_everywhere(room):
    w, socks = room
    (a, b) = gen_ideas(w, "Fake job offers", "Debt bondage")
    socks["console"].emit("stage:go", {"stage_id": w.stages[0].id, "phase": "vote"}, callback=True)
    socks["phone"].emit("vote", {"cid": "vote-00001", "item_id": b.id, "dots": 3}, callback=True)
    for s in socks.values():
        s.get_received()
    assert socks["console"].emit("results:reveal", {"stage_id": w.stages[0].id, "revealed": "1"},
                                 callback=True)["ok"]
    for name in ("projector", "phone", "phone2"):
        (view,) = views(socks[name])
        html = view["html"]
        assert 'class="bars' in html and html.index("Debt bondage") < html.index("Fake job offers"), name


def test_merge_tells_phones_to_read_their_moved_dots_again(room):
    """The server moved the dots (the kind's merge rule); phones ask for their own votes again
    rather than redo the rule in JavaScript."""
    w, socks = room
    (a, b) = gen_ideas(w, "Fake job offers", "Job scams online")
    socks["console"].emit("stage:go", {"stage_id": w.stages[0].id, "phase": "vote"}, callback=True)
    assert socks["phone"].emit("vote", {"cid": "vote-00009", "item_id": b.id, "dots": 2}, callback=True)["ok"]
    socks["phone"].get_received()
    assert socks["console"].emit("item:merge", {"source_id": b.id, "target_id": a.id}, callback=True)["ok"]
    (view,) = views(socks["phone"])
    assert view["resync"] is True and "Job scams online" not in view["html"]
    mine = socks["phone"].emit("sync", {}, callback=True)["mine"]
    assert mine["dots"] == {str(a.id): 2} and mine["left"] == 1  # dots moved with their idea


def test_a_phone_idea_is_stored_once_when_resent(room):
    w, socks = room
    socks["console"].emit("stage:go", {"stage_id": w.stages[0].id, "phase": "collect"}, callback=True)
    first = socks["phone"].emit("idea:add", {"cid": "idea-00001", "title": "Recruiters at bus stations"},
                                callback=True)
    again = socks["phone"].emit("idea:add", {"cid": "idea-00001", "title": "Recruiters at bus stations"},
                                callback=True)
    assert first["ok"] and again["item"]["id"] == first["item"]["id"]
    assert len(w.stages[0].items) == 1
    bad = socks["phone"].emit("idea:add", {"cid": "idea-00002", "title": ""}, callback=True)
    assert bad["ok"] is False and "few words" in bad["error"]


def test_bad_payloads_get_an_error_reply_not_a_crash(room):
    w, socks = room
    for payload in (None, "text", [1, 2], {"stage_id": "x", "phase": "vote"},
                    {"stage_id": w.stages[0].id, "phase": "vote", "extra": 1},
                    {"stage_id": 10 ** 6, "phase": "vote"}):
        reply = socks["console"].emit("stage:go", payload, callback=True)
        assert reply["ok"] is False and reply["error"], payload
    assert w.stages[0].phase == "pending"


def test_timer_reaches_all_screens(room):
    w, socks = room
    assert socks["console"].emit("timer:start", {"seconds": 180}, callback=True)["ok"]
    (view,) = views(socks["phone"])
    assert 179_000 <= view["timer"]["left_ms"] <= 180_000
    socks["console"].emit("timer:stop", {}, callback=True)
    assert views(socks["projector"])[-1]["timer"] is None


def test_the_server_holds_the_timer_add_stop_and_a_stage_change(room):
    """+1 minute needs a running timer and stays within bounds; a phase change keeps the timer,
    another stage on screen clears it, whichever way it is put there; phones may not touch it."""
    w, socks = room
    console = socks["console"]
    for payload in ({"seconds": 60}, {}, {"seconds": 5}, {"seconds": 4000}, {"seconds": "x"}):
        reply = console.emit("timer:add", payload, callback=True)
        assert reply["ok"] is False and reply["error"], payload
    assert socks["phone"].emit("timer:start", {"seconds": 60}, callback=True)["ok"] is False
    assert console.emit("timer:start", {"seconds": 60}, callback=True)["ok"]
    assert console.emit("timer:add", {"seconds": 60}, callback=True)["ok"]
    # 60 s + 60 s, less the time taken
    assert 100_000 < views(socks["phone"])[-1]["timer"]["left_ms"] <= 120_000
    for _ in range(70):  # never past four hours
        console.emit("timer:add", {"seconds": 3600}, callback=True)
    assert views(socks["projector"])[-1]["timer"]["left_ms"] <= 4 * 3600 * 1000
    first, second = w.stages[0], w.stages[1]
    assert console.emit("stage:go", {"stage_id": first.id, "phase": "collect"}, callback=True)["ok"]
    assert views(socks["phone"])[-1]["timer"] is not None  # the same stage: the timer runs on
    for go in ({"stage_id": second.id, "phase": second.phase}, {"stage_id": first.id, "phase": "vote"}):
        assert console.emit("timer:start", {"seconds": 60}, callback=True)["ok"]
        assert console.emit("stage:go", go, callback=True)["ok"]
        for audience in ("phone", "projector", "console"):
            assert views(socks[audience])[-1]["timer"] is None, (go, audience)


def test_projector_refreshes_are_coalesced_under_a_burst_of_votes(app, room):
    """30 votes in a burst reach the projector as a few coalesced views, not 30."""
    import time
    w, socks = room
    ideas = gen_ideas(w, "A", "B", "C")
    socks["console"].emit("stage:go", {"stage_id": w.stages[0].id, "phase": "vote"}, callback=True)
    socks["projector"].get_received()
    app.config["PUSH_INTERVAL"] = 0.2
    start = time.monotonic()
    for i in range(30):
        reply = socks["phone"].emit("vote", {"cid": f"burst-{i:04d}", "item_id": ideas[i % 3].id,
                                             "dots": 1 if i % 2 else 0}, callback=True)
        assert reply["ok"]
    elapsed = time.monotonic() - start
    deadline = time.monotonic() + 3
    received = []
    while time.monotonic() < deadline:
        received += views(socks["projector"])
        if received and received[-1]["progress"]["dots"] == reply["mine"]["budget"] - reply["mine"]["left"]:
            break
        time.sleep(0.05)
    assert received, "the projector got no refresh"
    assert len(received) <= elapsed / 0.2 + 2, (len(received), elapsed)
    final = received[-1]["progress"]
    assert final == {"voters": 1, "dots": sum(reply["mine"]["dots"].values())}


def test_a_numbers_push_is_stamped_before_it_reads_the_votes(app, monkeypatch):
    """`rendered_at` promises every vote committed before it is in the numbers (the
    benchmark's vote -> projector latency relies on it): it is taken before the read."""
    import time

    from workshop import live
    from workshop.stages.trend import TrendStage
    w = gen_workshop()
    gen_ideas(w, "A")
    w.stages[0].phase = "vote"
    db.session.commit()
    reads = []
    real = TrendStage.progress

    def progress(self, stage):
        reads.append(time.time())
        return real(self, stage)

    monkeypatch.setattr(TrendStage, "progress", progress)
    pushed = live.numbers(w)
    assert reads and pushed["rendered_at"] <= reads[0]


def test_phones_share_one_render_per_version_and_see_every_change(room):
    w, socks = room
    first = socks["phone"].emit("sync", {}, callback=True)["view"]["html"]
    assert socks["phone2"].emit("sync", {}, callback=True)["view"]["html"] is not None
    socks["console"].emit("stage:go", {"stage_id": w.stages[0].id, "phase": "collect"}, callback=True)
    socks["console"].emit("stage:go", {"stage_id": w.stages[0].id, "phase": "vote"}, callback=True)
    socks["console"].emit("item:add", {"title": "Added by the facilitator while voting"}, callback=True)
    latest = socks["phone2"].emit("sync", {}, callback=True)["view"]["html"]
    assert latest != first and "Added by the facilitator while voting" in latest


def test_whole_views_that_take_long_to_render_are_pushed_less_often(app, monkeypatch):
    """Thousands of ideas make a whole console view slow: it is then re-sent less often, so
    rendering never takes over the process (the numbers still go out every interval)."""
    import time

    from workshop import coalescer as coalescing
    w = gen_workshop()
    pushed = []

    def slow_push(workshop):
        pushed.append(time.monotonic())
        time.sleep(0.5)  # a whole view of a huge workshop

    coalescer = coalescing.Coalescer(app, slow_push, lambda workshop, tally: None)
    assert coalescer.flush({w.id: {"full"}}) == {}  # pushed at once
    time.sleep(coalescing.FULL_INTERVAL + 0.1)  # the usual interval has passed ...
    assert coalescer.flush({w.id: {"full"}}) == {w.id: {"full"}}  # ... but 4 x 0.5 s has not
    time.sleep(0.6)
    assert coalescer.flush({w.id: {"full"}}) == {}
    assert len(pushed) == 2 and pushed[1] - pushed[0] >= coalescing.FULL_SPACING * 0.5 - 0.01


def test_with_several_processes_only_the_languages_in_use_are_rendered(app):
    """Other processes' rooms are invisible; the languages screens connected with are kept in
    Redis (the real one), so a Swedish console is rendered in Swedish only, not in all four."""
    import uuid

    import redis

    from workshop import broadcast
    coalescer = app.extensions["charrette.coalescer"]
    coalescer.redis = redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=5)
    coalescer.prefix = f"charrette-test-{uuid.uuid4().hex[:10]}:push"
    try:
        assert broadcast.languages_in_use(7, "console") == []
        broadcast.remember_language(7, "console", "sv")
        for lang in ("nb", "en", "nb"):
            broadcast.remember_language(7, "phone", lang)
        assert broadcast.languages_in_use(7, "console") == ["sv"]
        assert broadcast.languages_in_use(7, "phone") == ["en", "nb"]
        assert broadcast.languages_in_use(8, "console") == []  # another workshop
    finally:
        coalescer.redis.delete(*coalescer.redis.keys(f"{coalescer.prefix}:*"))


def test_a_process_notes_a_language_in_redis_once_a_minute_not_once_per_screen(app, monkeypatch):
    """A join storm's sockets: the first phone of a language notes it, the rest of the minute's
    do not ask Redis (the real one); after the minute it is noted again, so a Redis that lost it
    (a restart) has it back."""
    import time
    import uuid

    import redis

    from workshop import broadcast
    coalescer = app.extensions["charrette.coalescer"]
    coalescer.redis = redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=5)
    coalescer.prefix = f"charrette-test-{uuid.uuid4().hex[:10]}:push"
    key = f"{coalescer.prefix}:langs:7:phone"
    sent = []
    real_pipeline = coalescer.redis.pipeline
    monkeypatch.setattr(coalescer.redis, "pipeline", lambda *a, **k: sent.append(1) or real_pipeline(*a, **k))
    try:
        for _ in range(500):
            broadcast.remember_language(7, "phone", "en")
        broadcast.remember_language(7, "phone", "nb")  # another language is noted at once
        broadcast.remember_language(7, "console", "en")  # and another audience
        assert len(sent) == 3
        assert broadcast.languages_in_use(7, "phone") == ["en", "nb"]
        coalescer.redis.delete(key)  # Redis lost it
        now = time.monotonic()
        monkeypatch.setattr(broadcast.time, "monotonic", lambda: now + broadcast.NOTE_AGAIN + 1)
        broadcast.remember_language(7, "phone", "en")
        assert len(sent) == 4 and broadcast.languages_in_use(7, "phone") == ["en"]
    finally:
        coalescer.redis.delete(*coalescer.redis.keys(f"{coalescer.prefix}:*"))


@pytest.mark.parametrize("elsewhere", [[], ["sv"], ["sv", "mn"]])
def test_a_console_push_renders_the_languages_of_consoles_on_every_process_and_no_other(app, monkeypatch,
                                                                                        elsewhere):
    """A numbers push renders the console's tally once per language some console speaks, on this
    process or another (the languages in the real Redis), and none for a language nobody speaks."""
    import uuid

    import redis

    from workshop import broadcast, live
    coalescer = app.extensions["charrette.coalescer"]
    coalescer.redis = redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=5)
    coalescer.prefix = f"charrette-test-{uuid.uuid4().hex[:10]}:push"
    w = gen_workshop()
    rendered = []
    monkeypatch.setattr(live, "tally", lambda workshop, lang: rendered.append(lang) or {})
    try:
        broadcast.send_numbers(w)
        assert rendered == []  # no console anywhere: nothing rendered
        broadcast.remember_language(w.id, "console", "nb")  # a console here
        for lang in elsewhere:  # consoles connected to another process, which noted their languages
            coalescer.redis.sadd(f"{coalescer.prefix}:langs:{w.id}:console", lang)
        broadcast.remember_language(w.id, "phone", "en")  # a phone's language is no console's
        broadcast.send_numbers(w)
        assert sorted(rendered) == sorted({"nb", *elsewhere})
    finally:
        coalescer.redis.delete(*coalescer.redis.keys(f"{coalescer.prefix}:*"))
