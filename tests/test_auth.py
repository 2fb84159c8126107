"""Facilitator accounts: sign-up, login, logout, hashing, CSRF."""
import config
from tests.conftest import gen_facilitator
from workshop import create_app
from workshop.auth import find_facilitator


def test_signup_logs_in_and_hashes_the_password(client):
    r = client.post("/signup", data={"name": "Sara", "email": "Sara@Example.org",
                                     "password": "long enough pw", "confirm": "long enough pw"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/workshops/new")
    user = find_facilitator("sara@example.org")
    assert user.password_hash.startswith("scrypt:") and "long enough pw" not in user.password_hash
    assert client.get("/workshops").status_code == 200


def test_signup_rejects_bad_input_with_visible_messages(app, client):
    app.config["SIGNUP_OPEN"] = True
    gen_facilitator("taken@example.org")
    r = client.post("/signup", data={"name": "", "email": "not-an-email", "password": "short",
                                     "confirm": "other"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "Enter a valid e-mail address" in html and "at least 10 characters" in html
    r = client.post("/signup", data={"name": "X", "email": "taken@example.org",
                                     "password": "long enough pw", "confirm": "long enough pw"})
    assert "exists already" in r.get_data(as_text=True)


def test_login_logout(client):
    gen_facilitator()
    r = client.post("/login", data={"email": "fac@example.org", "password": "wrong password"})
    assert "Wrong e-mail or password" in r.get_data(as_text=True)
    r = client.post("/login", data={"email": "FAC@example.org", "password": "correct horse battery"})
    assert r.status_code == 302
    assert client.post("/logout").status_code == 302
    assert client.get("/workshops").status_code == 302  # back to login


def test_login_only_follows_local_next(client):
    gen_facilitator()
    r = client.post("/login?next=https://evil.example/x",
                    data={"email": "fac@example.org", "password": "correct horse battery"})
    assert r.headers["Location"] == "/workshops"


def test_forms_need_a_csrf_token(tmp_path):
    app = create_app(config.TestingConfig(WTF_CSRF_ENABLED=True,
                                          DATABASE_URL=f"sqlite:///{tmp_path / 'c.db'}"))
    with app.app_context():
        gen_facilitator()
        r = app.test_client().post("/login", data={"email": "fac@example.org",
                                                   "password": "correct horse battery"})
        assert r.status_code == 400
        assert app.test_client().post("/logout").status_code in (400, 302)


def test_signup_can_be_closed(app, client):
    app.config["SIGNUP_OPEN"] = False
    gen_facilitator()  # the first facilitator may always sign up; further ones are invited
    r = client.post("/signup", data={"name": "X", "email": "x@example.org",
                                     "password": "long enough pw", "confirm": "long enough pw"})
    assert r.status_code == 302 and find_facilitator("x@example.org") is None
