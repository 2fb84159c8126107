"""Robustness over Socket.IO (issue 17, item 12): huge integers are refused cleanly and log nothing,
one phone cookie opens a few sockets, not hundreds, and `sync` is rate-limited."""
import logging

import pytest

from tests.conftest import gen_ideas, gen_workshop
from workshop import events, sockets
from workshop.flow import phases

HUGE = [10**30, -(10**30), "1" * 30, "9" * 5000, 2**63]
ID_KEYS = ("item_id", "stage_id", "source_id", "target_id", "seconds", "dots", "value", "position")


@pytest.fixture
def room(app, browser):
    w = gen_workshop()
    gen_ideas(w, "One", "Two")
    phases.set_phase(w, w.stages[0].id, "vote")
    phone = browser()
    phone.join(w.code)
    laptop = browser()
    laptop.login()
    return w, phone, laptop


def test_huge_integers_in_every_event_are_refused_without_a_traceback(room, caplog):
    w, phone, laptop = room
    screens = {"phone": phone.socket(w.code, "phone"), "console": laptop.socket(w.code, "console")}
    caplog.set_level(logging.INFO)
    sent = 0
    for name, event in events.EVENTS.items():
        sock = screens["phone" if "phone" in event.roles else "console"]
        for key in ID_KEYS:
            for value in HUGE:
                reply = sock.emit(name, {"cid": f"big-{sent:06d}", key: value, "stage_id": w.stages[0].id}
                                  if key != "stage_id" else {"cid": f"big-{sent:06d}", key: value},
                                  callback=True)
                sent += 1
                assert reply["ok"] is False, (name, key, value, reply)
    assert sent > 100
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_a_flood_of_one_failure_logs_one_traceback_then_one_line_each(room, caplog, monkeypatch):
    w, phone, _laptop = room
    sock = phone.socket(w.code, "phone")
    monkeypatch.setattr(sockets, "sync", lambda *a: 1 / 0)
    sockets.LOGGED.discard(("sync", "ZeroDivisionError"))
    caplog.set_level(logging.INFO)
    for _ in range(5):
        assert sock.emit("sync", {}, callback=True)["ok"] is False
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 5 and sum(r.exc_info is not None for r in errors) == 1


def test_one_phone_cookie_opens_a_few_sockets_not_hundreds(room):
    w, phone, _laptop = room
    open_ = [phone.socket(w.code, "phone") for _ in range(sockets.SOCKETS_PER_PHONE)]
    assert all(s.is_connected() for s in open_)
    (token,) = [t for t, n in sockets.PHONE_SOCKETS.items() if n == sockets.SOCKETS_PER_PHONE]
    assert not phone.socket(w.code, "phone").is_connected()
    open_[0].disconnect()
    again = phone.socket(w.code, "phone")
    assert again.is_connected()
    for s in [*open_[1:], again]:
        s.disconnect()
    assert token not in sockets.PHONE_SOCKETS  # every socket of this phone closed: none counted


def test_sync_is_rate_limited_per_phone(app, room):
    app.config["RATE_LIMITS"] = {**app.config["RATE_LIMITS"], "syncs": "5 per minute"}
    w, phone, laptop = room
    first, second = phone.socket(w.code, "phone"), phone.socket(w.code, "phone")
    for n in range(5):
        assert (first if n % 2 else second).emit("sync", {}, callback=True)["ok"]
    reply = first.emit("sync", {}, callback=True)
    assert reply["ok"] is False and "Too many" in reply["error"]
    assert laptop.socket(w.code, "console").emit("sync", {}, callback=True)["ok"]  # another screen's own


BIDI = ["\u202e", "\u202b", "\u202d", "\u202a", "\u2066", "\u2067", "\u2068"]


@pytest.mark.parametrize("opener", BIDI)
def test_bidi_controls_in_user_text_are_closed_within_it(room, opener):
    from sqlalchemy import select

    from workshop import checks
    from workshop.extensions import db
    from workshop.models import Item
    w, phone, _laptop = room
    phases.set_phase(w, w.stages[0].id, "collect")
    sock = phone.socket(w.code, "phone")
    title = f"Pay {opener}no fees\u202c\u2069 at all"  # an opener, plus closers of both kinds
    assert sock.emit("idea:add", {"cid": "bidi-000001", "title": title}, callback=True)["ok"]
    stored = db.session.scalar(select(Item.title).where(Item.title.like("Pay %")))
    assert stored == checks.balance_bidi(title)
    depth = []
    for c in stored:  # every opener is closed by its own kind, in order, within the text
        if c in checks.BIDI_OPEN:
            depth.append(checks.BIDI_OPEN[c])
        elif c in checks.BIDI_CLOSE:
            assert depth and depth.pop() == c
    assert depth == []


def test_a_new_database_file_is_private(tmp_path):
    import os
    import stat

    import config
    from workshop import create_app
    app = create_app(config.DevelopmentConfig(DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.db'}", DEMO=False,
                                              MIGRATE_ON_START=False, ASYNC_MODE="threading", SECRET_KEY="k"))
    with app.app_context():
        from workshop.extensions import db
        db.session.remove()
        db.engine.dispose()
    mode = stat.S_IMODE(os.stat(tmp_path / "fresh.db").st_mode)
    assert mode == 0o600, oct(mode)  # and SQLite gives its -wal and -shm files the same


def test_huge_ids_in_every_url_are_404_not_500(app, client):
    from werkzeug.routing import IntegerConverter
    w = gen_workshop()
    client.post("/login", data={"email": "fac@example.org", "password": "correct horse battery"})
    adapter = app.url_map.bind("localhost")
    tried = 0
    for rule in app.url_map.iter_rules():
        ints = {a for a, conv in rule._converters.items() if isinstance(conv, IntegerConverter)}
        if not ints:
            continue
        args = {a: w.code if a == "code" else 10**30 if a in ints else "pdf" if a == "fmt" else "x"
                for a in rule.arguments}
        url = adapter.build(rule.endpoint, args)
        for method in {"GET", "POST"} & rule.methods:
            assert client.open(url, method=method, data={"title": "x"}).status_code == 404, url
            tried += 1
    assert tried >= 20
    r = client.post(f"/j/{w.code}/act", data={"event": "vote", "item_id": "1" * 30, "cid": "big-000001"})
    assert r.status_code != 500
