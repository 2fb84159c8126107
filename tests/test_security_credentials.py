"""Credentials end with sign-out (issue 17, items 4, 5, 6 and 10): every cookie a sign-in issued stops
working when it ends; remember cookies carry a per-sign-in token and a fixed expiry; sign-up is
the first facilitator's, then by invitation; an unknown e-mail costs the same hashing."""
from datetime import UTC, timedelta

import pytest
from sqlalchemy import select

import config
from tests.conftest import gen_facilitator, gen_workshop
from workshop import auth, create_app
from workshop.extensions import db
from workshop.models import SignIn, utcnow

PASSWORD = "correct horse battery"


def signed_in(app, remember=False, email="fac@example.org", password=PASSWORD):
    client = app.test_client()
    r = client.post("/login", data={"email": email, "password": password,
                                    "remember": "y" if remember else ""})
    assert r.status_code == 302
    return client


def cookies(client) -> dict:
    return {name: client.get_cookie(name).value for name in ("session", "remember_token")
            if client.get_cookie(name) is not None}


def replay(app, stolen: dict, only=None):
    """A new browser carrying copies of some cookies; True if it opens the workshops page."""
    thief = app.test_client()
    for name, value in stolen.items():
        if only is None or name == only:
            thief.set_cookie(name, value)
    return thief.get("/workshops").status_code == 200


@pytest.fixture
def fac(app):
    return gen_facilitator()


def test_each_sign_in_gets_its_own_remember_token_with_its_expiry_inside(app, fac):
    first, second = cookies(signed_in(app, remember=True)), cookies(signed_in(app, remember=True))
    assert first["remember_token"] != second["remember_token"]
    for stolen in (first, second):
        credential = stolen["remember_token"].split("|")[0]
        sign_in_id, expiry, token = credential.split(".", 2)
        row = db.session.get(SignIn, int(sign_in_id))
        assert int(expiry) == int(row.expires_at.replace(tzinfo=UTC).timestamp()) and len(token) >= 32
        assert row.expires_at - row.created_at == app.config["REMEMBER_COOKIE_DURATION"]
        assert replay(app, stolen, only="remember_token") and replay(app, stolen, only="session")


@pytest.mark.parametrize("ending", ["logout", "everywhere", "password"])
def test_every_credential_issued_before_the_end_stops_working(app, fac, ending):
    laptop = signed_in(app, remember=True)
    other = signed_in(app, remember=True)  # the same account on a second device
    before = {"laptop": cookies(laptop), "other": cookies(other)}
    if ending == "logout":
        assert laptop.post("/logout").status_code == 302
        ended = ["laptop"]
    elif ending == "everywhere":
        assert laptop.post("/logout/everywhere").status_code == 302
        ended = ["laptop", "other"]
    else:
        r = laptop.post("/account", data={"pw-current": PASSWORD, "pw-password": "a new long password",
                                          "pw-confirm": "a new long password"})
        assert r.status_code == 302
        assert laptop.get("/workshops").status_code == 200  # the browser that changed it stays signed in
        ended = ["laptop", "other"]
    for device, stolen in before.items():
        for name in stolen:
            assert replay(app, stolen, only=name) is (device not in ended), (ending, device, name)
    if ending != "logout":
        assert (other.get("/workshops").status_code == 302)


def test_a_sign_in_ends_at_its_expiry_and_use_does_not_extend_it(app, fac):
    client = signed_in(app, remember=True)
    row = db.session.scalar(select(SignIn))
    expires = row.expires_at
    for _ in range(3):
        assert client.get("/workshops").status_code == 200
    db.session.refresh(row)
    assert row.expires_at == expires  # using it never moves it
    stolen = cookies(client)
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert not replay(app, stolen, only="session") and not replay(app, stolen, only="remember_token")


@pytest.mark.parametrize("credential", ["1", "1.9999999999.x", "x.y.z", "", "1.1.token",
                                        "99.9999999999." + "a" * 43])
def test_forged_or_old_style_credentials_open_nothing(app, fac, credential):
    from flask.sessions import SecureCookieSessionInterface
    signed_in(app)  # a real sign-in exists (id 1)
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    forged = serializer.dumps({"_user_id": credential, "_fresh": True})
    assert not replay(app, {"session": forged})


def test_an_unknown_e_mail_costs_the_same_password_hashing(app, fac, monkeypatch):
    calls = []
    import workshop.models as models
    real = auth.check_password_hash

    def counted(hashed, password):
        calls.append(hashed.split("$")[0])  # the method and its cost parameters
        return real(hashed, password)
    monkeypatch.setattr(auth, "check_password_hash", counted)
    monkeypatch.setattr(models, "check_password_hash", counted)
    client = app.test_client()
    for email in ("fac@example.org", "nobody@example.org"):
        client.post("/login", data={"email": email, "password": "wrong password"})
    assert len(calls) == 2 and calls[0] == calls[1]  # the same method and cost parameters


def test_sign_up_is_the_first_facilitators_then_by_invitation(app):
    app.config["SIGNUP_OPEN"] = False
    new = {"name": "A", "password": "long enough pw", "confirm": "long enough pw"}
    first = app.test_client()
    assert first.get("/signup").status_code == 200
    assert first.post("/signup", data={**new, "email": "first@example.org"}).status_code == 302
    stranger = app.test_client()
    assert stranger.get("/signup").status_code == 302
    assert stranger.post("/signup", data={**new, "email": "x@example.org"}).status_code == 302
    assert auth.find_facilitator("x@example.org") is None
    assert "Create a facilitator account" not in stranger.get("/login").get_data(as_text=True)
    r = first.post("/account", data={"invite-email": "Invited@Example.org"})
    link = r.get_data(as_text=True).split('id="invite-link" class="wide" readonly value="')[1].split('"')[0]
    from urllib.parse import urlsplit
    assert not link.startswith("http://localhost")  # the address others reach
    parts = urlsplit(link.replace("&amp;", "&"))
    path = f"{parts.path}?{parts.query}"
    invited = app.test_client()
    assert "invited@example.org" in invited.get(path).get_data(as_text=True)
    r = invited.post(path, data={**new, "email": "someone-else@example.org"})
    assert "This invitation is for" in r.get_data(as_text=True)
    assert invited.post(path, data={**new, "email": "invited@example.org"}).status_code == 302
    assert auth.find_facilitator("invited@example.org") is not None
    forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert app.test_client().get(forged).status_code == 302
    app.config["SIGNUP_OPEN"] = True
    assert stranger.post("/signup", data={**new, "email": "x@example.org"}).status_code == 302
    assert auth.find_facilitator("x@example.org") is not None


def test_a_facilitator_name_is_one_header_safe_line(app):
    app.config["SIGNUP_OPEN"] = True
    app.test_client().post("/signup", data={"name": "Eve\r\nBcc: all@example.org", "email": "eve@example.org",
                                            "password": "long enough pw", "confirm": "long enough pw"})
    assert auth.find_facilitator("eve@example.org").name == "Eve Bcc: all@example.org"


def _dev_app(tmp_path, **kw):
    app = _make_dev_app(tmp_path, **kw)

    @app.teardown_request
    def _forget_cached_user(_exc=None):  # one app context for the test: as tests/conftest.py does
        from flask import g
        g.pop("_login_user", None)
    return app


def _make_dev_app(tmp_path, **kw):
    return create_app(config.DevelopmentConfig(DATABASE_URL=f"sqlite:///{tmp_path / 'dev.db'}", DEMO=True,
                                               MIGRATE_ON_START=False, ASYNC_MODE="threading",
                                               REPORT_SPARE=False, WTF_CSRF_ENABLED=False, **kw))


def test_the_demo_password_is_shown_and_the_demo_signs_in_only_on_the_laptop_itself(tmp_path):
    app = _dev_app(tmp_path)
    with app.app_context():
        gen_facilitator(app.config["DEMO_EMAIL"], password=app.config["DEMO_PASSWORD"])
        password = app.config["DEMO_PASSWORD"]
        for addr, shown in (("127.0.0.1", True), ("::1", True), ("192.168.1.23", False), ("10.0.0.9", False)):
            html = app.test_client().get("/login", environ_base={"REMOTE_ADDR": addr}).get_data(as_text=True)
            assert (password in html) is shown, addr
        proxied = app.test_client().get("/login", headers={"X-Forwarded-For": "192.168.1.23"})
        assert password not in proxied.get_data(as_text=True)
        demo = {"email": app.config["DEMO_EMAIL"], "password": password}
        for addr, allowed in (("127.0.0.1", True), ("::1", True), ("192.168.1.23", False)):
            r = app.test_client().post("/login", data=demo, environ_base={"REMOTE_ADDR": addr})
            assert (r.status_code == 302) is allowed, addr
            if not allowed:
                assert "only on the laptop" in r.get_data(as_text=True)
        db.session.remove()


def test_production_locks_a_leftover_demo_account_and_sends_hsts_over_https(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'dev.db'}"  # the laptop's database, later served in production
    dev = _dev_app(tmp_path)
    with dev.app_context():
        gen_facilitator(dev.config["DEMO_EMAIL"], password=dev.config["DEMO_PASSWORD"])
        db.session.remove()
    monkeypatch.setenv("SECRET_KEY", "0123456789abcdef" * 4)
    app = create_app(config.ProductionConfig(DATABASE_URL=url, MIGRATE_ON_START=False,
                                             ASYNC_MODE="threading", REPORT_SPARE=False, PROXY_COUNT=1))
    with app.app_context():
        demo = auth.find_facilitator(app.config["DEMO_EMAIL"])
        assert not demo.check_password(app.config["DEMO_PASSWORD"])
        client = app.test_client()
        https = client.get("/login", headers={"X-Forwarded-Proto": "https"})
        assert https.headers["Strict-Transport-Security"] == "max-age=31536000"
        assert app.config["DEMO_PASSWORD"] not in https.get_data(as_text=True)
        assert "Strict-Transport-Security" not in client.get("/login").headers  # plain HTTP: meaningless
        db.session.remove()


def test_private_pages_are_never_stored(app, fac):
    w = gen_workshop(fac)
    client = signed_in(app)
    paths = ["/workshops", "/account", f"/w/{w.code}/console", f"/w/{w.code}/present", f"/w/{w.code}/report",
             f"/w/{w.code}/share", f"/w/{w.code}/partners", f"/w/{w.code}/export.json", "/campaigns"]
    for path in paths:
        r = client.get(path)
        assert r.status_code == 200 and "no-store" in r.headers["Cache-Control"], path
    phone = app.test_client()
    phone.post(f"/j/{w.code}", data={"group": w.groups[0]})
    for path in (f"/j/{w.code}", f"/j/{w.code}/ballot", "/", "/login"):
        assert "no-store" in phone.get(path).headers["Cache-Control"], path
    static = client.get("/static/css/app.css")
    assert "no-store" not in (static.headers.get("Cache-Control") or "")
    static.close()


@pytest.mark.parametrize("role", ["console", "projector"])
def test_a_screen_connected_before_sign_out_stops_with_it(app, browser, role):
    w = gen_workshop()
    laptop = browser()
    laptop.login()
    screen = laptop.socket(w.code, role)
    assert screen.emit("sync", {}, callback=True)["ok"]
    quiet = laptop.socket(w.code, role)  # only listens: never sends an event again
    other = browser()
    other.login()
    other.http.post("/logout/everywhere")  # from another device: this laptop's sign-in ends too
    assert not quiet.is_connected()  # disconnected as the sign-in ended
    assert not screen.is_connected()


def test_a_screen_of_a_sign_in_ended_elsewhere_is_refused_at_its_next_event(app, browser, monkeypatch):
    from workshop import sockets
    w = gen_workshop()
    laptop = browser()
    laptop.login()
    screen = laptop.socket(w.code, "console")
    monkeypatch.setattr(sockets, "end_screens", lambda ids: None)  # as if on another process
    other = browser()
    other.login()
    other.http.post("/logout/everywhere")
    assert screen.is_connected()
    reply = screen.emit("sync", {}, callback=True)
    assert reply["ok"] is False and "Sign in" in reply["error"]
    assert not screen.is_connected()
