"""Fixtures: an app on a fresh in-memory database, clients, sockets and data factories."""
from __future__ import annotations

import os

import pytest
from flask import g
from hypothesis import settings

from config import TestingConfig
from tests.actions import add_comment, add_item, cast_vote, edit_item, update_settings
from tests.support import fresh_postgres
from workshop import checks, create_app, forms
from workshop.auth import create_facilitator
from workshop.extensions import db, socketio
from workshop.flow import phases, workshops
from workshop.models import Participant

# Property tests check what is computed, never how fast: no per-example deadline (on a shared
# machine a slow example is not a failure).
settings.register_profile("charrette", deadline=None)
settings.load_profile("charrette")


@pytest.fixture
def app(tmp_path):
    app = create_app(TestingConfig(DATABASE_URL=f"sqlite:///{tmp_path / 'test.db'}",
                                   UPLOAD_DIR=str(tmp_path / "uploads")))

    @app.teardown_request
    def _forget_cached_user(_exc=None):
        # Tests keep one app context open, so `g` outlives a request; in production
        # each request has its own. Without this, Flask-Login's cached user would leak
        # from one test client to another. The same holds for Flask-Babel's cached locale.
        g.pop("_login_user", None)
        g.pop("_flask_babel", None)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def gen_facilitator(email="fac@example.org", name="Fac", password="correct horse battery"):
    """Create a facilitator account."""
    return create_facilitator(email, name, password)


def gen_workshop(facilitator=None, **kwargs):
    """Create a workshop from the campaign template."""
    facilitator = facilitator or gen_facilitator()
    kwargs.setdefault("title", "Safe migration planning")
    kwargs.setdefault("topic", "Trafficking in persons")
    return workshops.create_workshop(facilitator, **kwargs)


def gen_participant(workshop, group="Youth", name=""):
    """Join a workshop as a new phone."""
    return workshops.join(workshop, None, name, group)


def gen_ideas(workshop, *titles):
    """Open the current stage for ideas and add some from new participants."""
    stage = workshop.current_stage
    phases.set_phase(workshop, stage.id, "collect")
    ideas = []
    for i, title in enumerate(titles):
        person = gen_participant(workshop, group=workshop.groups[i % len(workshop.groups)])
        ideas.append(add_item(workshop, person, {"cid": f"idea-{i:04d}", "title": title}))
    return ideas


class Browser:
    """A phone or laptop: an HTTP client whose cookies its sockets share."""

    def __init__(self, app):
        self.app = app
        self.http = app.test_client()

    def login(self, email="fac@example.org", password="correct horse battery"):
        return self.http.post("/login", data={"email": email, "password": password})

    def join(self, code, group="Youth", name=""):
        return self.http.post(f"/j/{code}", data={"group": group, "name": name})

    def socket(self, code, role, **auth):
        # The connect handler reads current_user; a socket connect is no request, so the
        # teardown above does not clear the user the previous client left in `g`.
        g.pop("_login_user", None)
        g.pop("_flask_babel", None)
        return socketio.test_client(self.app, flask_test_client=self.http,
                                    auth={"code": code, "role": role, **auth})


@pytest.fixture
def browser(app):
    """Make clients: browser() is a new phone or laptop."""
    return lambda: Browser(app)


def views(sock):
    """Return the `view` payloads a socket test client has received."""
    return [msg["args"][0] for msg in sock.get_received() if msg["name"] == "view"]


__all__ = ["gen_facilitator", "gen_workshop", "gen_participant", "gen_ideas", "views", "screens", "goto",
           "decide", "Participant", "add_item", "cast_vote", "add_comment", "update_settings", "edit_item"]


def screens(workshop):
    """Render what projector, console and phones show now: {audience: html}."""
    from workshop import live
    from workshop.extensions import db as _db
    _db.session.expire_all()
    return {audience: live.payload(workshop, audience)["html"] for audience in live.AUDIENCES}


def goto(workshop, kind, phase=None):
    """Make the first stage of `kind` current (in `phase`); return it."""
    stage = next(s for s in workshop.stages if s.kind == kind)
    phases.goto_stage(workshop, stage.id)
    if phase:
        phases.set_phase(workshop, stage.id, phase)
    return stage


def decide(workshop, stage, rationale="Because the room agreed.", **fields):
    """Record a decision through the same form the console posts."""
    return phases.decide(workshop, checks.parse(forms.DecisionForm, {"stage_id": stage.id,
                                                                  "rationale": rationale, **fields}))


# PostgreSQL of the scale-out mode's tests (running here and on CI); each test gets a database of its own.
POSTGRES_ADMIN_URL = os.environ.get("SCALEOUT_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def postgres_url():
    """A fresh PostgreSQL database for this test; yield its URL, drop it afterwards."""
    with fresh_postgres(POSTGRES_ADMIN_URL, "charrette_test") as url:
        yield url
