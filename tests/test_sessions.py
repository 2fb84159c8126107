"""Session cookies: checked once per process and minute, and still never trusted unsigned."""
from flask import session

from workshop.sessions import CheckedOnceSessions


def _open(app, cookie: str | None):
    headers = {"Cookie": f"session={cookie}"} if cookie else {}
    with app.test_request_context("/", headers=headers):
        return dict(session)


def test_a_signed_cookie_is_checked_once_and_each_request_gets_its_own_copy(app, monkeypatch):
    assert isinstance(app.session_interface, CheckedOnceSessions)
    serializer = app.session_interface.get_signing_serializer(app)
    cookie = serializer.dumps({"joined": {"ABC123": "token-1"}, "_flashes": []})
    checks = []
    real_loads = type(serializer).loads

    def counted_loads(self, *args, **kwargs):
        checks.append(1)
        return real_loads(self, *args, **kwargs)

    monkeypatch.setattr(type(serializer), "loads", counted_loads)
    with app.test_request_context("/", headers={"Cookie": f"session={cookie}"}):
        session["_flashes"].append(("error", "changed in one request only"))
    assert _open(app, cookie) == {"joined": {"ABC123": "token-1"}, "_flashes": []}
    assert _open(app, cookie)["joined"] == {"ABC123": "token-1"}
    assert len(checks) == 1  # three requests, one signature check


def test_a_forged_or_tampered_cookie_is_never_remembered(app):
    serializer = app.session_interface.get_signing_serializer(app)
    cookie = serializer.dumps({"joined": {"ABC123": "token-1"}})
    payload, _, signature = cookie.rpartition(".")
    forged = payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    assert _open(app, forged) == {}
    assert _open(app, "not-a-session") == {}
    assert app.session_interface.checked == {}
    assert _open(app, cookie) == {"joined": {"ABC123": "token-1"}}  # the real one still works


def test_a_sockets_events_use_its_session_without_opening_the_cookie_again(app, browser, monkeypatch):
    """After connect, Flask-SocketIO keeps the socket's own copy of the session: events reuse it."""
    from flask.sessions import SecureCookieSessionInterface

    from tests.conftest import gen_ideas, gen_workshop, goto

    workshop = gen_workshop()
    idea_id = gen_ideas(workshop, "One idea")[0].id
    goto(workshop, "trend", "vote")
    phone = browser()
    phone.join(workshop.code)
    sock = phone.socket(workshop.code, "phone")
    opened = []
    real_open = SecureCookieSessionInterface.open_session

    def counted_open(self, app_, request):
        opened.append(1)
        return real_open(self, app_, request)

    monkeypatch.setattr(SecureCookieSessionInterface, "open_session", counted_open)
    app.session_interface.checked.clear()  # a cookie opened now would be checked again, and counted
    for dots in (1, 2):
        vote = {"cid": f"vote-action-{dots}", "item_id": idea_id, "dots": dots}
        reply = sock.emit("vote", vote, callback=True)
        assert reply["ok"], reply  # the handler still knows which participant this socket is
        assert reply["mine"]["dots"] == {str(idea_id): dots}  # JSON keys
    assert opened == []


def test_a_cookie_signed_here_opens_without_a_check_and_the_serializer_is_built_once(app, monkeypatch):
    """A phone's join answers with a new cookie and its socket opens it next: no signature check for
    it. Only what was signed is remembered: a cookie changed on the way is still refused."""
    from flask import Flask

    app.config["SECRET_KEY_FALLBACKS"] = []
    interface = app.session_interface
    serializer = interface.get_signing_serializer(app)
    assert interface.get_signing_serializer(app) is serializer  # once per key
    other = Flask("other")
    other.config.update(SECRET_KEY="another key", SECRET_KEY_FALLBACKS=[])
    assert interface.get_signing_serializer(other) is not serializer  # never another app's key
    checks = []
    real_loads = type(serializer).loads
    monkeypatch.setattr(type(serializer), "loads",
                        lambda self, *a, **k: checks.append(1) or real_loads(self, *a, **k))
    with app.test_request_context("/"):
        session["joined"] = {"ABC123": "token-2"}
        response = app.process_response(app.response_class("joined"))
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    value = cookie[len("session="):].split(";", 1)[0]
    assert _open(app, value) == {"joined": {"ABC123": "token-2"}} and checks == []
    payload, _, signature = value.rpartition(".")
    changed = payload[:-1] + ("A" if payload[-1] != "A" else "B") + "." + signature
    assert _open(app, changed) == {} and checks == [1]


def test_cookies_are_signed_without_a_zlib_try_and_compressed_ones_still_open(app):
    """zlib never shortens a session (random tokens) and each try cost half a signing: none is made.
    A cookie signed before, compressed by Flask's own serializer, still opens."""
    from flask.sessions import SecureCookieSessionInterface

    app.config["SECRET_KEY_FALLBACKS"] = []
    data = {"joined": {f"CODE{n:02d}": "same-token-" * 4 for n in range(20)}}  # zlib shortens this one
    flasks = SecureCookieSessionInterface().get_signing_serializer(app).dumps(data)
    ours = app.session_interface.get_signing_serializer(app).dumps(data)
    assert flasks.startswith(".") and not ours.startswith(".")  # "." marks a compressed payload
    app.session_interface.checked.clear()
    for value in (flasks, ours):
        assert _open(app, value) == data
