"""Rate limits: wrong codes, joins, sign-in, sign-up, ideas and votes; a friendly refusal each."""
from flask import current_app
from limits import parse_many
from sqlalchemy import func, select

import config
from tests.conftest import gen_facilitator, gen_ideas, gen_workshop
from workshop import create_app
from workshop.extensions import db
from workshop.flow import phases
from workshop.models import Item, Participant, Vote

TOO_FAST = "Too many in a short time"


def amount(name: str) -> int:
    """The number of actions the first part of a limit such as "60 per minute" allows."""
    return parse_many(current_app.config["RATE_LIMITS"][name])[0].amount


def test_a_room_of_2000_phones_behind_one_address_fits_every_limit():
    for name in ("joins",):
        for item in parse_many(config.Config.RATE_LIMITS[name]):
            assert item.amount >= 2000 and item.get_expiry() >= 60, name


def test_limits_are_counted_where_they_are_declared_and_nowhere_else(app, tmp_path, monkeypatch):
    """Flask-Limiter's check before every request is taken out (it counted nothing, at a tenth of a
    join's CPU): that holds only while no limit applies to every route. Each declared one is tested
    below (joins, sign-ins, sign-ups). With limits off there is no check to take out."""
    from workshop.extensions import limiter
    assert limiter._check_request_limit not in app.before_request_funcs.get(None, [])
    after, teardown = app.after_request_funcs[None], app.teardown_request_funcs[None]
    wrapped = [hook for hook in after + teardown if hasattr(hook, "where_limited")]
    assert len(wrapped) == 2  # its after-request hook and its teardown: only where a limit was checked
    made = []
    real = type(limiter).context
    monkeypatch.setattr(type(limiter), "context", property(lambda self: made.append(1) or real.fget(self)))
    assert app.test_client().get("/").status_code == 200 and made == []  # no limit here: no context made
    failed = app.test_client().post("/login", data={"email": "x@example.org", "password": "guess"})
    assert failed.status_code == 200 and made  # a limited route: its context, its deduction (tested below)
    manager = limiter.limit_manager
    assert not manager.default_limits and not manager.application_limits and not manager._blueprint_limits
    off = create_app(config.TestingConfig(DATABASE_URL=f"sqlite:///{tmp_path / 'off.db'}",
                                          RATELIMIT_ENABLED=False))
    assert limiter._check_request_limit not in off.before_request_funcs.get(None, [])


def test_wrong_codes_are_limited_per_address_but_right_codes_never(client, app):
    w = gen_workshop()
    for _ in range(amount("code_guesses") + 20):  # a whole room behind one address
        assert client.post("/", data={"code": w.code}).status_code == 302
    for i in range(amount("code_guesses")):
        r = client.post("/", data={"code": f"ZZZZ{i:02d}"})
        assert r.status_code == 200 and "No workshop has the code" in r.get_data(as_text=True)
    r = client.post("/", data={"code": "ZZZZZZ"})
    html = r.get_data(as_text=True)
    assert r.status_code == 429 and TOO_FAST in html and 'href="/"' in html and "Try again" in html
    assert client.get("/j/ZZZZZZ").status_code == 429  # one budget for every route that takes a code
    assert client.post("/", data={"code": w.code}).status_code == 302  # only failures are refused
    assert client.get(f"/j/{w.code}").status_code == 200
    assert client.get("/").status_code == 200  # the page itself still loads
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.9.8.7"
    assert elsewhere.post("/", data={"code": w.code}).status_code == 302


def _guess_until_refused(client, forwarded_for: str) -> int:
    """Guess wrong codes from one X-Forwarded-For address; return the status once over the limit."""
    for i in range(amount("code_guesses")):
        client.get(f"/j/ZZZZ{i:02d}", headers={"X-Forwarded-For": forwarded_for})
    return client.get("/j/ZZZZZZ", headers={"X-Forwarded-For": forwarded_for}).status_code


def test_behind_a_proxy_each_phone_has_its_own_budget(tmp_path):
    app = create_app(config.TestingConfig(DATABASE_URL=f"sqlite:///{tmp_path / 'proxy.db'}", PROXY_COUNT=1))
    with app.app_context():
        client = app.test_client()
        assert _guess_until_refused(client, "203.0.113.7") == 429
        # Another phone behind the same proxy (same REMOTE_ADDR) is not refused with it.
        assert client.get("/j/ZZZZZZ", headers={"X-Forwarded-For": "203.0.113.8"}).status_code == 404


def test_without_a_proxy_a_forged_forwarded_for_does_not_escape_the_limit(client):
    assert _guess_until_refused(client, "203.0.113.7") == 429
    assert client.get("/j/ZZZZZZ", headers={"X-Forwarded-For": "203.0.113.8"}).status_code == 429


def test_guessing_codes_in_join_urls_is_limited(client):
    for i in range(amount("code_guesses")):
        assert client.get(f"/j/ZZZZ{i:02d}").status_code == 404
    r = client.get("/j/ZZZZZZ")
    assert r.status_code == 429 and TOO_FAST in r.get_data(as_text=True)


def test_a_facilitator_guessing_other_workshops_codes_is_limited(client):
    w = gen_workshop()
    theirs = gen_workshop(gen_facilitator("other@example.org"), title="Theirs")
    client.post("/login", data={"email": "fac@example.org", "password": "correct horse battery"})
    for _ in range(amount("code_guesses")):
        assert client.get(f"/w/{theirs.code}/console").status_code == 403
    assert client.get(f"/w/{theirs.code}/present").status_code == 429
    assert client.get("/w/ZZZZZZ/present").status_code == 429  # the same answer: no existence oracle
    assert client.get(f"/w/{w.code}/console").status_code == 200  # their own still opens


def test_joins_are_limited_per_address_and_code(app):
    app.config["RATE_LIMITS"] = {**app.config["RATE_LIMITS"], "joins": "20 per minute"}  # not 10,000 here
    w = gen_workshop()
    other = gen_workshop(w.facilitator, title="Next room")
    phones = [app.test_client() for _ in range(amount("joins"))]
    for phone in phones:  # many phones behind one NAT address
        joined = phone.post(f"/j/{w.code}", data={"group": "Youth"})
        assert 'data-role="phone"' in joined.get_data(as_text=True)
    late = app.test_client()
    r = late.post(f"/j/{w.code}", data={"group": "Youth"})
    assert r.status_code == 429 and TOO_FAST in r.get_data(as_text=True)
    assert f'href="/j/{w.code}"' in r.get_data(as_text=True)  # "Try again" comes back here
    assert Participant.query.filter_by(workshop_id=w.id).count() == amount("joins")
    assert late.get(f"/j/{w.code}").status_code == 200  # reading the page is not joining
    joined = late.post(f"/j/{other.code}", data={"group": "Youth"})
    assert 'data-role="phone"' in joined.get_data(as_text=True)


def test_failed_sign_ins_are_limited_successful_ones_are_not(client, app):
    gen_facilitator()
    good = {"email": "fac@example.org", "password": "correct horse battery"}
    for _ in range(amount("login_failures") + 2):
        assert client.post("/login", data=good).status_code == 302
        client.post("/logout")
    for _ in range(amount("login_failures")):
        r = client.post("/login", data={**good, "password": "guess guess guess"})
        assert "Wrong e-mail or password" in r.get_data(as_text=True)
    r = client.post("/login", data=good)
    assert r.status_code == 429 and TOO_FAST in r.get_data(as_text=True)
    assert client.get("/workshops").status_code == 302  # not signed in
    assert client.get("/login").status_code == 200
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.9.8.7"
    assert elsewhere.post("/login", data=good).status_code == 302


def test_sign_ups_are_limited(client):
    for i in range(amount("signups")):
        client.post("/signup", data={"name": "", "email": f"x{i}@example.org", "password": "short"})
    r = client.post("/signup", data={"name": "X", "email": "x@example.org",
                                     "password": "long enough pw", "confirm": "long enough pw"})
    assert r.status_code == 429


def test_ideas_are_limited_per_phone_with_a_message(app, browser):
    w = gen_workshop()
    gen_ideas(w)  # opens the stage for ideas
    phone, other = browser(), browser()
    phone.join(w.code)
    other.join(w.code)
    sock, other_sock = phone.socket(w.code, "phone"), other.socket(w.code, "phone")
    for i in range(amount("ideas")):
        assert sock.emit("idea:add", {"cid": f"idea-{i:05d}", "title": f"Idea {i}"}, callback=True)["ok"]
    reply = sock.emit("idea:add", {"cid": "idea-99999", "title": "One too many"}, callback=True)
    assert reply == {"ok": False, "error": "Too many in a short time. Wait a minute, then try again."}
    assert Item.query.filter_by(title="One too many").count() == 0
    assert other_sock.emit("idea:add", {"cid": "idea-00001", "title": "Another phone"}, callback=True)["ok"]
    second_tab = phone.socket(w.code, "phone")  # the limit is the participant's, not the tab's
    assert second_tab.emit("idea:add", {"cid": "idea-99998", "title": "Tab"}, callback=True)["ok"] is False


def test_vote_floods_are_limited_per_phone(app, browser):
    w = gen_workshop()
    (a,) = gen_ideas(w, "Fake job offers")
    phases.set_phase(w, w.stages[0].id, "vote")
    phone = browser()
    phone.join(w.code)
    sock = phone.socket(w.code, "phone")
    for i in range(amount("votes")):
        vote = {"cid": f"vote-{i:05d}", "item_id": a.id, "dots": i % 2}
        assert sock.emit("vote", vote, callback=True)["ok"]
    reply = sock.emit("vote", {"cid": "vote-99999", "item_id": a.id, "dots": 3}, callback=True)
    assert reply["ok"] is False and TOO_FAST in reply["error"]
    assert db.session.scalar(select(func.sum(Vote.value))) == 1  # the last accepted vote


def test_socket_code_guesses_are_limited(app, browser):
    w = gen_workshop()
    laptop = browser()
    laptop.login()
    for i in range(amount("code_guesses")):
        assert not laptop.socket(f"ZZZZ{i:02d}", "console").is_connected()
    assert laptop.socket(w.code, "console").is_connected()  # the right one still connects
    assert browser().socket("ZZZZZZ", "console").is_connected() is False


def test_in_memory_counters_are_swept_once_a_second_and_still_expire_on_time(app, monkeypatch):
    """The default `memory://` storage: limits' own, with its sweep of every counter at most once a
    second, in line (limits' timer, under gevent, swept at nearly every counted event: thousands of
    sweeps a second with thousands of phones; no timer now); an expired counter counts as zero
    before any sweep."""
    import time

    from workshop.extensions import limiter
    from workshop.limits import SweptMemory
    storage = limiter.limiter.storage
    assert type(storage) is SweptMemory
    storage.incr("phone-1", expiry=0.05)
    assert storage.get("phone-1") == 1
    time.sleep(0.1)
    assert "phone-1" in storage.storage  # not swept yet
    assert storage.get("phone-1") == 0  # but expired all the same

    # A room of phones counted at once: one sweep a second, whatever the number of events.
    clock = [time.monotonic()]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    storage.next_sweep, before = clock[0] + SweptMemory.SWEEP_SECONDS, storage.sweeps
    for _second in range(3):
        for i in range(2_500):
            storage.incr(f"votes/{i % 500}", expiry=60)
        clock[0] += 1.0  # each round of 2,500 events takes a second
    storage.incr("votes/last", expiry=60)
    assert storage.sweeps - before == 3
    for key in [key for key in storage.expirations if key.startswith("votes/")]:
        storage.expirations[key] = time.time() - 1  # their minute is over
    clock[0] += 1.0
    storage.incr("votes/after", expiry=60)  # the next sweep frees what expired
    assert "votes/1" not in storage.storage and "votes/after" in storage.storage
