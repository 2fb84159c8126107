"""Hostile cases: each is refused with a clear message and changes nothing.

Phones, consoles and projectors are the real Flask-SocketIO test clients sharing
cookies with a Flask test client (conftest.Browser); what people would see is
checked in the `view` payloads the server pushes.
"""
import json
import logging
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from flask_socketio import ConnectionRefusedError
from sqlalchemy import select

import config
from tests.conftest import gen_facilitator, gen_ideas, gen_workshop, views
from workshop import broadcast, create_app, sockets
from workshop.extensions import db
from workshop.flow import phases
from workshop.models import Item, Participant, SignIn, Stage, Vote, utcnow

ROLES = broadcast.ROLES
NOT_ALLOWED = "You are not allowed to do that."


def snapshot() -> dict:
    """Everything stored, table by table, to prove a refusal changed nothing."""
    db.session.expire_all()
    return {table.name: [tuple(row) for row in db.session.execute(
        table.select().order_by(*table.primary_key.columns))] for table in db.metadata.sorted_tables}


def console_events(stage_id: int, a: int, b: int) -> list[tuple[str, dict]]:
    """Every facilitator event, each with a payload that would succeed from the console."""
    return [
        ("stage:go", {"stage_id": stage_id, "phase": "results"}),
        ("stage:settings", {"stage_id": stage_id, "dots": 7}),
        ("item:add", {"title": "Planted by a phone"}),
        ("item:hide", {"item_id": a, "hidden": True}),
        ("item:merge", {"source_id": b, "target_id": a}),
        ("timer:start", {"seconds": 60}),
        ("timer:stop", {}),
        ("results:reveal", {"stage_id": stage_id, "revealed": True}),
        ("stage:decide", {"stage_id": stage_id, "item_ids": [a], "rationale": "Because I say so"}),
        ("stage:notes", {"stage_id": stage_id, "notes": "Read the facilitator's notes"}),
    ]


@pytest.fixture
def rooms(app, browser):
    """Two workshops of two facilitators, each voting on two ideas; A has a console,
    a projector and a phone connected, B a console and a phone."""
    host_a, host_b = gen_facilitator("a@example.org"), gen_facilitator("b@example.org")
    wa, wb = gen_workshop(host_a, title="Workshop A"), gen_workshop(host_b, title="Workshop B")
    ideas_a = gen_ideas(wa, "A first idea", "A second idea")
    ideas_b = gen_ideas(wb, "B secret idea", "B other idea")
    for w in (wa, wb):
        phases.set_phase(w, w.stages[0].id, "vote")
    laptop_a, laptop_b, phone_a, phone_b = browser(), browser(), browser(), browser()
    laptop_a.login("a@example.org")
    laptop_b.login("b@example.org")
    phone_a.join(wa.code)
    phone_b.join(wb.code)
    socks = {"console": laptop_a.socket(wa.code, "console"),
             "projector": laptop_a.socket(wa.code, "projector"),
             "phone": phone_a.socket(wa.code, "phone"), "console_b": laptop_b.socket(wb.code, "console"),
             "phone_b": phone_b.socket(wb.code, "phone")}
    assert [name for name, s in socks.items() if not s.is_connected()] == []
    for s in socks.values():
        s.get_received()
    return type("Rooms", (), {"a": wa, "b": wb, "ideas_a": ideas_a, "ideas_b": ideas_b, "socks": socks,
                              "laptop_a": laptop_a, "laptop_b": laptop_b, "phone_a": phone_a})


# --- roles -------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["phone", "projector"])
def test_only_the_console_may_send_facilitator_events(rooms, role):
    a, b = rooms.ideas_a
    before = snapshot()
    for event, payload in console_events(rooms.a.stages[0].id, a.id, b.id):
        reply = rooms.socks[role].emit(event, payload, callback=True)
        assert reply == {"ok": False, "error": NOT_ALLOWED}, event
    assert snapshot() == before
    assert views(rooms.socks["projector"]) == [] and views(rooms.socks["console"]) == []


def test_the_console_may_not_send_phone_events(rooms):
    a, _b = rooms.ideas_a
    for event, payload in (("vote", {"cid": "vote-00000001", "item_id": a.id, "dots": 3}),
                           ("idea:add", {"cid": "idea-00000001", "title": "As a participant"})):
        reply = rooms.socks["console"].emit(event, payload, callback=True)
        assert reply == {"ok": False, "error": NOT_ALLOWED}


def test_events_nobody_handles_are_ignored(rooms):
    before = snapshot()
    for name in ("admin", "workshop:delete", "vote:all"):
        assert rooms.socks["phone"].emit(name, {"workshop_id": rooms.b.id}, callback=True) is None
    assert snapshot() == before


# --- one workshop cannot reach another ----------------------------------------------------

def test_a_console_cannot_touch_another_workshop_by_its_ids(rooms):
    stage_b = rooms.b.stages[0]
    x, y = rooms.ideas_b
    before = snapshot()
    for event, payload in console_events(stage_b.id, x.id, y.id):
        if event in ("item:add", "timer:start", "timer:stop"):
            continue  # these name no id: they act on the console's own workshop
        reply = rooms.socks["console"].emit(event, payload, callback=True)
        assert reply["ok"] is False and "not part of this workshop" in reply["error"], (event, reply)
    mixed = rooms.socks["console"].emit("item:merge", {"source_id": x.id, "target_id": rooms.ideas_a[0].id},
                                        callback=True)
    assert mixed["ok"] is False and "not part of this workshop" in mixed["error"]
    decide = rooms.socks["console"].emit("stage:decide", {
        "stage_id": rooms.a.stages[0].id, "item_ids": [x.id], "rationale": "Theirs"}, callback=True)
    assert decide["ok"] is False and "Choose what was decided" in decide["error"]
    assert snapshot() == before
    assert rooms.socks["console_b"].get_received() == [] and rooms.socks["phone_b"].get_received() == []


def test_a_phone_cannot_vote_on_or_see_another_workshops_ideas(rooms):
    x, _y = rooms.ideas_b
    before = snapshot()
    reply = rooms.socks["phone"].emit("vote", {"cid": "vote-00000001", "item_id": x.id, "dots": 1},
                                      callback=True)
    assert reply == {"ok": False, "error": "That idea is not open for voting."}
    reply = rooms.socks["phone"].emit("vote", {"cid": "vote-00000002", "item_id": 10 ** 9, "dots": 1},
                                      callback=True)
    assert reply["ok"] is False
    assert snapshot() == before
    seen = rooms.socks["phone"].emit("sync", {"workshop_id": rooms.b.id, "code": rooms.b.code}, callback=True)
    assert "A first idea" in seen["view"]["html"] and "B secret idea" not in seen["view"]["html"]
    assert rooms.phone_a.http.get(f"/j/{rooms.b.code}").status_code == 200  # B's join page, not B's data
    assert rooms.phone_a.socket(rooms.b.code, "phone").is_connected() is False  # not joined there


def test_a_second_facilitator_cannot_open_another_console_or_projector(rooms):
    for role in ("console", "projector"):
        assert not rooms.laptop_b.socket(rooms.a.code, role).is_connected(), role
    for url in (f"/w/{rooms.a.code}/console", f"/w/{rooms.a.code}/present", f"/w/{rooms.a.code}/qr.svg"):
        r = rooms.laptop_b.http.get(url)
        assert r.status_code == 403 and "belongs to another facilitator" in r.get_data(as_text=True), url
    assert rooms.laptop_b.http.post(f"/w/{rooms.a.code}/status").status_code == 403
    assert rooms.a.is_open


# --- forged identities and malformed payloads -----------------------------------------------

def test_a_phone_cannot_act_as_another_participant(rooms, browser):
    a, _b = rooms.ideas_a
    victim = db.session.scalars(select(Participant).filter_by(workshop_id=rooms.a.id)).first()
    before = snapshot()
    for payload in ({"cid": "vote-00000001", "item_id": a.id, "dots": 1, "participant_id": victim.id},
                    {"cid": "vote-00000001", "item_id": a.id, "dots": 1, "token": victim.token}):
        reply = rooms.socks["phone"].emit("vote", payload, callback=True)
        assert reply["ok"] is False and "unknown field" in reply["error"]
    assert snapshot() == before
    forger = browser()
    forger.http.set_cookie("session", f'{{"joined": {{"{rooms.a.code}": "{victim.token}"}}}}')
    sock = forger.socket(rooms.a.code, "phone")
    assert not sock.is_connected()  # an unsigned cookie is no session at all


MALFORMED_IDEAS = [
    ({"cid": "idea-00000001", "title": "x" * 5000}, "longer than 120"),
    ({"cid": "idea-00000001", "title": "W" * 5000}, "longer than 120"),
    ({"cid": "idea-00000001", "title": "Fine", "detail": "y" * 100_000}, "longer than 1000"),
    ({"cid": "idea-00000001", "title": "Fine", "hidden": True}, "unknown field hidden"),
    ({"cid": "idea-00000001", "title": "Fine", "stage_id": 1}, "unknown field stage_id"),
    ({"cid": "idea-00000001", "title": {"$ne": ""}}, "Invalid value for title"),
    ({"cid": "idea-00000001", "title": ["a", "b"]}, "Invalid value for title"),
    ({"cid": "idea-00000001", "title": ["a", ["b"]]}, "Invalid value for title"),
    ({"cid": "../../etc/passwd", "title": "Fine"}, "Invalid request id"),
    ({"cid": "c" * 65, "title": "Fine"}, "Request id"),
    ({"title": "No request id"}, "Request id"),
    ("not an object", "Invalid request"),
    (["idea:add"], "Invalid request"),
    (None, "Invalid request"),
]


def test_malformed_ideas_are_refused_with_a_message(app, rooms):
    app.config["RATE_LIMITS"] = {**app.config["RATE_LIMITS"], "ideas": "100 per minute"}  # all count
    phases.set_phase(rooms.a, rooms.a.stages[0].id, "collect")
    before = snapshot()
    for payload, message in MALFORMED_IDEAS:
        reply = rooms.socks["phone"].emit("idea:add", payload, callback=True)
        assert reply["ok"] is False and message in reply["error"], (str(payload)[:80], reply)
    assert snapshot() == before


def test_malformed_votes_are_refused_with_a_message(rooms):
    item = rooms.ideas_a[0].id
    before = snapshot()
    for payload in ({"cid": "vote-00000001", "item_id": "1 OR 1=1", "dots": 1},
                    {"cid": "vote-00000001", "item_id": item, "dots": -5},
                    {"cid": "vote-00000001", "item_id": item, "dots": 10 ** 12},
                    {"cid": "vote-00000001", "item_id": [item, item], "dots": 1},
                    {"cid": "vote-00000001", "item_id": item, "dots": [1]},
                    {"cid": "vote-00000001", "item_id": item, "dots": 1.5},
                    {"cid": "vote-00000001", "item_id": item, "dots": None},
                    {"cid": "vote-00000001", "item_id": item, "dots": 1, "criterion": "x"}):
        reply = rooms.socks["phone"].emit("vote", payload, callback=True)
        assert reply["ok"] is False and reply["error"], (payload, reply)
    assert snapshot() == before


def test_oversized_facilitator_payloads_are_refused(rooms):
    stage = rooms.a.stages[0]
    before = snapshot()
    for event, payload in (("stage:notes", {"stage_id": stage.id, "notes": "n" * 10_001}),
                           ("stage:decide", {"stage_id": stage.id, "item_ids": list(range(1, 10_001)),
                                             "rationale": "r"}),
                           ("stage:decide", {"stage_id": stage.id, "item_ids": [rooms.ideas_a[0].id],
                                             "rationale": "r" * 4001}),
                           ("timer:start", {"seconds": 10 ** 9}),
                           ("stage:settings", {"stage_id": stage.id, "dots": 10 ** 6}),
                           ("stage:settings", {"stage_id": stage.id, "dots": 3, "secret": 1})):
        reply = rooms.socks["console"].emit(event, payload, callback=True)
        assert reply["ok"] is False and reply["error"], (event, reply)
    assert snapshot() == before


# --- what each screen shows ------------------------------------------------------------------

HOSTILE = ["<script>alert('title')</script>", '<img src=x onerror="alert(1)">',
           "javascript:alert(document.cookie)", '"><svg onload=alert(2)>', "W" * 120]


class Elements(HTMLParser):
    """Collect every element (tag, attributes) a browser would build from some HTML."""

    def __init__(self, html: str):
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def assert_inert(html: str, where: str) -> None:
    """No hostile markup survives as markup; it is all there as text."""
    for tag, attrs in Elements(html).found:
        assert tag not in ("script", "img", "iframe", "object", "embed"), (where, tag, attrs)
        assert not [name for name in attrs if name.startswith("on")], (where, tag, attrs)
        for name in ("href", "src", "action", "formaction", "xlink:href"):
            assert not (attrs.get(name) or "").strip().lower().startswith("javascript:"), (where, tag, attrs)
    assert "&lt;script&gt;alert(" in html, where


def test_injected_markup_is_shown_as_text_on_every_screen(app, browser):
    host = gen_facilitator()
    w = gen_workshop(host, collect_names=True)
    phases.set_phase(w, w.stages[0].id, "collect")
    laptop, phone = browser(), browser()
    laptop.login()
    phone.join(w.code, name="<script>alert('name')</script>")
    socks = {role: laptop.socket(w.code, role) for role in ("console", "projector")}
    socks["phone"] = phone.socket(w.code, "phone")
    for sock in socks.values():
        sock.get_received()
    for i, title in enumerate(HOSTILE):
        detail = "D" * 1000 if i == 4 else f"<b onmouseover=alert({i})>detail</b>"
        reply = socks["phone"].emit("idea:add", {"cid": f"idea-{i:08d}", "title": title, "detail": detail},
                                    callback=True)
        assert reply["ok"] and reply["item"]["title"] == title  # stored as typed
    console = socks["console"]
    first = db.session.scalar(select(Item.id).where(Item.title == HOSTILE[0]))
    stage_id = w.stages[0].id
    assert console.emit("stage:go", {"stage_id": stage_id, "phase": "vote"}, callback=True)["ok"]
    for role, sock in socks.items():  # every idea is listed while voting
        pushed = views(sock)[-1]
        assert pushed["phase"] == "vote"
        assert_inert(pushed["html"], role)
        assert "W" * 120 in pushed["html"], role  # the long word is there, whole (CSS wraps it)
    socks["phone"].emit("vote", {"cid": "vote-00000001", "item_id": first, "dots": 2}, callback=True)
    assert console.emit("results:reveal", {"stage_id": stage_id, "revealed": True}, callback=True)["ok"]
    assert console.emit("stage:decide", {"stage_id": stage_id, "item_ids": [first], "rationale": HOSTILE[1],
                                         "minority_view": HOSTILE[0]}, callback=True)["ok"]
    for role, sock in socks.items():  # the results and the decision
        assert_inert(sock.emit("sync", {}, callback=True)["view"]["html"], role)
    console_html = console.emit("sync", {}, callback=True)["view"]["html"]
    assert "&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;" in console_html  # the named participant
    for url in (f"/w/{w.code}/console", f"/w/{w.code}/present"):
        assert "<script>alert" not in laptop.http.get(url).get_data(as_text=True), url
    assert "<script>alert" not in phone.http.get(f"/j/{w.code}").get_data(as_text=True)


def test_results_before_the_reveal_reach_no_phone_projector_or_url(rooms):
    a, b = rooms.ideas_a
    phone = rooms.socks["phone"]
    assert phone.emit("vote", {"cid": "vote-00000001", "item_id": b.id, "dots": 3}, callback=True)["ok"]
    assert rooms.socks["console"].emit("timer:start", {"seconds": 60}, callback=True)["ok"]  # a push to all
    pushed = {role: views(rooms.socks[role]) for role in ("projector", "phone", "console")}
    synced = {role: rooms.socks[role].emit("sync", {}, callback=True) for role in ("projector", "phone")}
    for role in ("projector", "phone"):
        for payload in pushed[role] + [synced[role]["view"]]:  # whole views and numbers-only pushes
            text = json.dumps(payload)
            assert "bar-row" not in text and "score" not in text, role
            assert not {"results", "tally", "bars", "parts"} & set(payload), role
    assert synced["phone"]["mine"]["dots"] == {str(b.id): 3} or synced["phone"]["mine"]["dots"] == {b.id: 3}
    assert "bar-row" in pushed["console"][-1]["html"]  # the facilitator alone sees the live tally
    stranger = rooms.phone_a.http
    for url in ("/", f"/{rooms.a.code}", f"/j/{rooms.a.code}", f"/j/{rooms.a.code}?edit=1",
                f"/w/{rooms.a.code}/console", f"/w/{rooms.a.code}/present", f"/w/{rooms.a.code}/qr.svg",
                "/workshops", "/results", f"/w/{rooms.a.code}/results"):
        r = stranger.get(url, follow_redirects=True)
        assert "bar-row" not in r.get_data(as_text=True), url
    projector_page = rooms.laptop_a.http.get(f"/w/{rooms.a.code}/present").get_data(as_text=True)
    assert "bar-row" not in projector_page


def test_names_are_never_stored_or_shown_in_an_anonymous_workshop(app, browser):
    w = gen_workshop()
    gen_ideas(w)
    phone, laptop = browser(), browser()
    laptop.login()
    r = phone.http.post(f"/j/{w.code}", data={"group": "Youth", "name": "Alice Secretname"})
    assert r.status_code == 200 and 'data-role="phone"' in r.get_data(as_text=True)
    assert db.session.scalar(select(Participant.name).where(Participant.group == "Youth"
                                                            ).order_by(Participant.id.desc())) == ""
    sock = phone.socket(w.code, "phone")
    assert sock.emit("idea:add", {"cid": "idea-00000001", "title": "An idea"}, callback=True)["ok"]
    for role in ("console", "projector"):
        html = laptop.socket(w.code, role).emit("sync", {}, callback=True)["view"]["html"]
        assert "Alice" not in html and "Youth" in (html if role == "console" else "Youth"), role
    assert "Alice" not in phone.http.get(f"/j/{w.code}").get_data(as_text=True)


def test_names_in_a_named_workshop_reach_the_console_only(app, browser):
    w = gen_workshop(collect_names=True)
    gen_ideas(w)
    phone, laptop = browser(), browser()
    laptop.login()
    phone.join(w.code, name="Alice Namedperson")
    phone.socket(w.code, "phone").emit("idea:add", {"cid": "idea-00000001", "title": "Mine"}, callback=True)
    html = {role: laptop.socket(w.code, role).emit("sync", {}, callback=True)["view"]["html"]
            for role in ("console", "projector")}
    assert "Alice Namedperson" in html["console"] and "Alice Namedperson" not in html["projector"]
    other = browser()
    other.join(w.code)
    phone_view = other.socket(w.code, "phone").emit("sync", {}, callback=True)["view"]["html"]
    assert "Alice Namedperson" not in phone_view


# --- closed workshops ------------------------------------------------------------------------

def test_a_closed_workshops_code_stops_working_everywhere(rooms, browser):
    a, _b = rooms.ideas_a
    late = browser()
    assert rooms.laptop_a.http.post(f"/w/{rooms.a.code}/status").status_code == 302  # close
    assert not rooms.a.is_open
    ended = "This workshop has ended"
    r = late.http.post("/", data={"code": rooms.a.code})
    assert r.status_code == 200 and ended in r.get_data(as_text=True)
    r = late.http.get(f"/j/{rooms.a.code}")
    assert r.status_code == 410 and ended in r.get_data(as_text=True)
    before = snapshot()
    assert late.join(rooms.a.code).status_code == 410
    assert rooms.phone_a.join(rooms.a.code, group="Government").status_code == 410  # no edits either
    reply = rooms.socks["phone"].emit("vote", {"cid": "vote-00000001", "item_id": a.id, "dots": 1},
                                      callback=True)
    assert reply["ok"] is False and ended in reply["error"]
    reply = rooms.socks["phone"].emit("idea:add", {"cid": "idea-00000001", "title": "Late"}, callback=True)
    assert reply["ok"] is False
    assert snapshot() == before
    assert not rooms.phone_a.socket(rooms.a.code, "phone").is_connected()  # reconnecting is refused
    assert rooms.laptop_a.socket(rooms.a.code, "console").is_connected()  # the facilitator still can


def test_a_socket_refusal_does_not_tell_whether_a_code_exists(app):
    w = gen_workshop()
    for role in ROLES:
        with app.test_request_context():  # a browser that has neither joined nor signed in
            messages = set()
            for code in (w.code, "ZZZZZZ"):
                with pytest.raises(ConnectionRefusedError) as refused:
                    sockets.connect({"code": code, "role": role})
                messages.add(refused.value.args)
            assert len(messages) == 1, (role, messages)


# --- accounts, cookies, headers, origins -------------------------------------------------------

def production_app(tmp_path, **overrides):
    return create_app(config.ProductionConfig(SECRET_KEY="a1b2c3d4e5f60718293a4b5c6d7e8f90" * 2, DEMO=False,
                                              ASYNC_MODE="threading",
                                              DATABASE_URL=f"sqlite:///{tmp_path / 'prod.db'}", **overrides))


def csrf_token(client, url: str) -> str:
    html = client.get(url, base_url="https://localhost").get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_every_state_changing_route_needs_a_csrf_token(tmp_path):
    app = production_app(tmp_path)
    with app.app_context():
        w = gen_workshop()
        client = app.test_client()
        before = snapshot()
        posted = set()
        for rule in app.url_map.iter_rules():
            if "POST" not in rule.methods:
                continue
            args = {name: w.code if name == "code" else 1 for name in rule.arguments}
            url = rule.build(args, append_unknown=False)[1]
            r = client.post(url, data={"email": "x@example.org", "password": "long enough pw", "code": w.code,
                                       "group": "Youth", "title": "T", "topic": "T", "groups": "G"},
                            base_url="https://localhost")
            assert r.status_code == 400 and "CSRF" in r.get_data(as_text=True), rule.rule
            posted.add(rule.endpoint)
        assert {"auth.login", "auth.signup", "auth.logout", "facilitate.new", "facilitate.toggle_open",
                "participate.enter_code", "participate.phone"} <= posted
        assert snapshot() == before
        db.session.remove()
        db.engine.dispose()


def test_production_cookies_are_secure_httponly_and_same_site(tmp_path):
    app = production_app(tmp_path)
    with app.app_context():
        gen_facilitator()
        client = app.test_client()
        r = client.post("/login", base_url="https://localhost", headers={"Referer": "https://localhost/login"},
                        data={
            "email": "fac@example.org", "password": "correct horse battery", "remember": "y",
            "csrf_token": csrf_token(client, "/login")})
        assert r.status_code == 302
        cookies = {c.split("=", 1)[0]: c for c in r.headers.getlist("Set-Cookie")}
        assert {"session", "remember_token"} <= set(cookies)
        for name in ("session", "remember_token"):
            attrs = {a.strip().lower() for a in cookies[name].split(";")}
            assert {"secure", "httponly", "samesite=lax"} <= attrs, cookies[name]
        db.session.remove()
        db.engine.dispose()


def test_pages_send_the_security_headers(client):
    for url in ("/", "/login", "/static/js/live.js"):
        r = client.get(url)
        r.close()
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("style-src")[0], url
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, url
        assert r.headers["X-Content-Type-Options"] == "nosniff", url
        assert r.headers["X-Frame-Options"] == "DENY", url
        assert r.headers["Referrer-Policy"] == "same-origin", url


def test_sockets_are_accepted_from_our_own_origin_and_public_url_only(tmp_path):
    app = create_app(config.TestingConfig(PUBLIC_URL="https://workshop.example.org/",
                                          DATABASE_URL=f"sqlite:///{tmp_path / 'o.db'}"))
    client = app.test_client()
    handshake = "/socket.io/?EIO=4&transport=polling"
    for origin, ok in (("http://localhost", True), ("https://workshop.example.org", True),
                       ("http://evil.example", False), ("null", False), ("https://workshop.example.org.evil.example",
                                                                          False)):
        r = client.get(handshake, headers={"Origin": origin})
        assert (r.status_code == 200) is ok, origin
        if not ok:
            assert "Not an accepted origin" in r.get_data(as_text=True)
            assert "Access-Control-Allow-Origin" not in r.headers
    assert client.get(handshake).status_code == 200  # no Origin: not a browser page elsewhere


def test_facilitator_sign_in_expires(app, client, browser):
    w = gen_workshop()
    laptop = browser()
    assert laptop.login().status_code == 302
    assert laptop.http.get("/workshops").status_code == 200
    sign_in = db.session.scalar(select(SignIn))
    assert sign_in.expires_at - sign_in.created_at == app.config["FACILITATOR_SESSION_LIFETIME"]
    sign_in.expires_at = utcnow() + timedelta(seconds=60)  # as if it started 11 h 59 min ago
    db.session.commit()
    assert laptop.http.get("/workshops").status_code == 200  # a minute to go
    assert laptop.socket(w.code, "console").is_connected()
    sign_in.expires_at = utcnow() - timedelta(seconds=60)
    db.session.commit()
    assert not laptop.socket(w.code, "console").is_connected()
    r = laptop.http.get("/workshops")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert laptop.http.get(f"/w/{w.code}/console").status_code == 302


def test_keep_me_signed_in_lasts_the_remember_duration(app, browser):
    gen_facilitator()
    laptop = browser()
    laptop.http.post("/login", data={"email": "fac@example.org", "password": "correct horse battery",
                                     "remember": "y"})
    remember = app.config["REMEMBER_COOKIE_DURATION"]
    assert remember > app.config["FACILITATOR_SESSION_LIFETIME"]
    sign_in = db.session.scalar(select(SignIn))
    assert sign_in.expires_at - sign_in.created_at == remember
    sign_in.expires_at = utcnow() + timedelta(days=1)  # as if it started 13 days ago
    db.session.commit()
    assert laptop.http.get("/workshops").status_code == 200
    sign_in.expires_at = utcnow() - timedelta(days=1)
    db.session.commit()
    assert laptop.http.get("/workshops").status_code == 302


def test_passwords_are_never_logged(app, client, caplog):
    app.config["SIGNUP_OPEN"] = True
    caplog.set_level(logging.DEBUG)
    secret = "Tr0ub4dor-and-more"
    client.post("/signup", data={"name": "Pat", "email": "pat@example.org", "password": secret,
                                 "confirm": secret})
    client.post("/logout")
    client.post("/login", data={"email": "pat@example.org", "password": secret + "x"})
    client.post("/login", data={"email": "pat@example.org", "password": secret})
    assert secret not in caplog.text
    short = client.post("/signup", data={"name": "Q", "email": "q@example.org", "password": "nine char",
                                         "confirm": "nine char"})
    assert "at least 10 characters" in short.get_data(as_text=True)


def test_stage_and_vote_tables_are_untouched_by_refusals_of_a_closed_vote(rooms):
    """Votes on a phase that is not voting are refused, and nothing moves."""
    a, _b = rooms.ideas_a
    assert rooms.socks["console"].emit("results:reveal", {"stage_id": rooms.a.stages[0].id, "revealed": True},
                                       callback=True)["ok"]
    before = snapshot()
    reply = rooms.socks["phone"].emit("vote", {"cid": "vote-00000009", "item_id": a.id, "dots": 1},
                                      callback=True)
    assert reply == {"ok": False, "error": "Voting is closed."}
    assert snapshot() == before
    assert db.session.scalar(select(Stage.phase).where(Stage.id == rooms.a.stages[0].id)) == "results"
    assert db.session.scalars(select(Vote)).all() == []
