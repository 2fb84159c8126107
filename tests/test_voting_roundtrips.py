"""Database round trips per vote (at most 2 on PostgreSQL; statements per vote on SQLite) and per
phone's join (5 on PostgreSQL, every path through the phone's page committed as it should be).

A vote runs once per tap in the room, and with PostgreSQL each statement is a round trip
to the server: the vote path sends its reads together (workshop/batch.py, psycopg's
pipeline), then Pick a trend's write with its COMMIT in one more pipeline. Counted for one
vote event arriving over a real Socket.IO test client (as after the first vote of the
process, which also reads the workshop for its copy), for every kind of vote action: a new
allocation, a change, a replay of an acknowledged action (same client id), a refused one.

SQLite has no round trips (it runs in the process): there the statements are counted with
sqlite3's trace callback (every statement it runs, however it was sent). PostgreSQL is the
one of tests/test_scaleout.py (SCALEOUT_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/test; a database of this test's own, dropped
afterwards); libpq's protocol trace counts the messages the client then waits on: each
simple Query (BEGIN, COMMIT) and each Sync (one after a statement, one after a whole
pipeline).
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path

from flask import g
from sqlalchemy import event

import config
from tests.support import postgres_round_trips
from workshop import create_app
from workshop.auth import create_facilitator
from workshop.extensions import db, socketio
from workshop.flow import phases, workshops


@contextmanager
def voting_phones(url: str, tmp: Path, phones: int = 2):
    """An app on `url` with a workshop in its vote (6 ideas) and phones joined over HTTP with sockets."""
    app = create_app(config.TestingConfig(  # pushes coalesced (PUSH_INTERVAL), as in production
        DATABASE_URL=url, UPLOAD_DIR=str(tmp / "up"), RATELIMIT_ENABLED=False, PUSH_INTERVAL=1000,
        LOG_LEVEL="WARNING"))
    with app.app_context():
        facilitator = create_facilitator("trips@example.org", "Trips", "correct horse battery")
        workshop = workshops.create_workshop(facilitator, title="Round trips", topic="Votes")
        stage = workshop.current_stage
        phases.set_phase(workshop, stage.id, "collect")
        sockets = []
        for _i in range(phones):
            http = app.test_client()
            joined = http.post(f"/j/{workshop.code}", data={"group": workshop.groups[0]})
            assert b'data-role="phone"' in joined.data
            g.pop("_login_user", None)
            g.pop("_flask_babel", None)
            sock = socketio.test_client(app, flask_test_client=http,
                                        auth={"code": workshop.code, "role": "phone"})
            assert sock.is_connected()
            sockets.append(sock)
        for i in range(6):
            idea = {"cid": f"idea-{i:06d}", "title": f"Idea number {i}"}
            reply = sockets[i % phones].emit("idea:add", idea,
                                             callback=True)
            assert reply["ok"], reply
        db.session.expire_all()
        phases.set_phase(workshop, stage.id, "vote")
        items = [item.id for item in workshop.current_stage.items]
        try:
            yield app, sockets, items
        finally:
            for sock in sockets:
                sock.disconnect()
            db.session.remove()
            db.engine.dispose()


def vote(sock, cid: str, item_id: int, dots: int) -> dict:
    return sock.emit("vote", {"cid": cid, "item_id": item_id, "dots": dots}, callback=True)


# (what the phone does, whether the server accepts it): 3 dots in the budget
ACTIONS = [("new allocation", "vote-002", 1, 2, True), ("change", "vote-003", 0, 0, True),
           ("replay of an acknowledged action", "vote-003", 0, 0, True),
           ("second idea", "vote-004", 2, 1, True), ("over the budget", "vote-005", 3, 2, False)]


def test_a_vote_on_sqlite_is_a_lock_four_reads_and_a_write(tmp_path):
    with voting_phones(f"sqlite:///{tmp_path / 'trips.db'}", tmp_path) as (_app, sockets, items):
        assert vote(sockets[0], "vote-001", items[0], 1)["ok"]  # the process's first vote: + the workshop
        statements: list[str] = []
        traced = []

        def trace(dbapi_conn, *_args):  # sqlite3 reports every statement it runs, however it was sent
            dbapi_conn.set_trace_callback(lambda sql: statements.append(sql.split()[0].upper()))
            traced.append(dbapi_conn)

        event.listen(db.engine, "checkout", trace)
        try:
            for label, cid, item, dots, ok in ACTIONS:
                statements.clear()
                assert vote(sockets[0], cid, items[item], dots)["ok"] is ok, label
                work = [s for s in statements if s not in ("BEGIN", "COMMIT", "ROLLBACK")]
                # lock; workshop, action, item, own votes (together on PostgreSQL); write. Was 7.
                assert len(work) <= 6, (label, statements)
                assert work[:3] == ["UPDATE", "SELECT", "INSERT"], (label, statements)
                assert work.count("SELECT") == 3, (label, statements)
                assert statements.count("BEGIN") == 1, (label, statements)  # one transaction
                assert statements[-1] in ("COMMIT", "ROLLBACK"), (label, statements)
        finally:
            event.remove(db.engine, "checkout", trace)
            for dbapi_conn in traced:
                dbapi_conn.set_trace_callback(None)


def test_a_vote_is_at_most_two_round_trips_on_postgresql(tmp_path, postgres_url):
    with voting_phones(postgres_url, tmp_path) as (_app, sockets, items):
        assert vote(sockets[0], "vote-001", items[0], 1)["ok"]
        assert vote(sockets[1], "vote-101", items[1], 1)["ok"]  # every pooled connection has been used
        with postgres_round_trips(db.engine) as taken:
            taken()
            for label, cid, item, dots, ok in ACTIONS:
                assert vote(sockets[0], cid, items[item], dots)["ok"] is ok, label
                trips = taken()
                assert trips, "nothing traced"
                # was 9: BEGIN, 7 statements, COMMIT; then 3: the reads, the write, COMMIT
                assert len(trips) <= 2, (label, trips)


def test_every_votes_connection_goes_back_to_the_pool_out_of_autocommit(postgres_url, tmp_path):
    """A vote turns autocommit on to send its own BEGIN (batch.one_trip). Its connection goes back to
    the pool at its commit or rollback, and under gevent another greenlet may take it out at once:
    it must come back out of autocommit, whatever became of the vote (stored, a replay, refused),
    or another vote's statements would each commit on their own."""
    with voting_phones(postgres_url, tmp_path) as (_app, sockets, items):
        returned: list[bool] = []

        def checkin(dbapi_connection, _record):
            returned.append(dbapi_connection.autocommit)

        event.listen(db.engine.pool, "checkin", checkin)
        try:
            for what, cid, item, dots, accepted in ACTIONS:
                returned.clear()
                assert vote(sockets[0], cid, items[item], dots)["ok"] is accepted, what
                assert returned and not any(returned), (what, returned)
        finally:
            event.remove(db.engine.pool, "checkin", checkin)


def test_a_phones_join_is_five_round_trips_on_postgresql(tmp_path, postgres_url):
    """A join storm's three requests on PostgreSQL: the join page (the workshop's head, one read
    made alone, in autocommit: batch.first), the join (the workshop read alone; BEGIN, the new
    phone and COMMIT in one pipeline: batch.one_trip) and the socket as live.js opens it, with the
    version of the page it was drawn with (its entry, then, once in its rooms, the version: each a
    read alone). Was 3 + 4 + 4, then 1 + 4 + 2. Every connection goes back to the pool out of
    autocommit."""
    app = create_app(config.TestingConfig(  # pushes coalesced (PUSH_INTERVAL, s), as in production
        DATABASE_URL=postgres_url, UPLOAD_DIR=str(tmp_path / "up"), RATELIMIT_ENABLED=False,
        PUSH_INTERVAL=1000, LOG_LEVEL="WARNING"))
    with app.app_context():
        facilitator = create_facilitator("joins@example.org", "Joins", "correct horse battery")
        workshop = workshops.create_workshop(facilitator, title="Joins", topic="Round trips")
        code, group = workshop.code, workshop.groups[0]
        db.session.remove()
        returned: list[bool] = []
        event.listen(db.engine.pool, "checkin",
                     lambda dbapi_conn, _record: returned.append(dbapi_conn.autocommit))
        sockets = []
        try:
            with postgres_round_trips(db.engine) as taken:
                for phone in range(3):  # the first phone draws the cached pages; the last is counted
                    http = app.test_client()
                    taken()
                    page = http.get(f"/{code}")
                    trips = {"page": taken()}
                    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page.data).group(1).decode()
                    joined = http.post(f"/j/{code}", data={"group": group, "csrf_token": token})
                    trips["join"] = taken()
                    assert b'data-role="phone"' in joined.data, phone
                    g.pop("_login_user", None)
                    g.pop("_flask_babel", None)
                    drawn = int(re.search(rb'data-version="(\d+)"', joined.data).group(1))
                    auth = {"code": code, "role": "phone", "version": drawn}  # as live.js connects
                    sockets.append(socketio.test_client(app, flask_test_client=http, auth=auth))
                    trips["socket"] = taken()
                    assert sockets[-1].is_connected(), phone
                    assert not [m for m in sockets[-1].get_received() if m["name"] == "stale"], phone
            assert [len(trips[step]) for step in ("page", "join", "socket")] == [1, 2, 2], trips
            assert returned and not any(returned), returned
        finally:
            for sock in sockets:
                sock.disconnect()
            db.session.remove()
            db.engine.dispose()


def test_every_step_of_a_phones_page_commits_its_write_and_gives_its_connection_back(tmp_path, postgres_url):
    """The phone's page runs in `batch.one_trip`: its reads go alone (autocommit) and its one write
    with its BEGIN and COMMIT. Walk every path through it on PostgreSQL, in a workshop with consent
    asked and one without: the join page, a refused join, the consent step, a join, a reload of the
    joined phone, a change of group. Each write is committed (seen from another connection), each
    refusal stores nothing, no request leaves a transaction open, and every connection goes back to
    the pool out of autocommit."""
    import psycopg

    app = create_app(config.TestingConfig(
        DATABASE_URL=postgres_url, UPLOAD_DIR=str(tmp_path / "up"), RATELIMIT_ENABLED=False,
        PUSH_INTERVAL=1000, LOG_LEVEL="WARNING"))
    plain_url = postgres_url.replace("+psycopg", "")

    def stored(code: str) -> list[tuple]:
        with psycopg.connect(plain_url) as other:  # another connection sees only what was committed
            return other.execute(
                'SELECT p."group", p.consented_at IS NOT NULL FROM participants p JOIN workshops w'
                " ON w.id = p.workshop_id WHERE w.code = %s ORDER BY p.id", (code,)).fetchall()

    with app.app_context():
        facilitator = create_facilitator("steps@example.org", "Steps", "correct horse battery")
        plain = workshops.create_workshop(facilitator, title="Plain", topic="Steps")
        asking = workshops.create_workshop(facilitator, title="Consent", topic="Steps", safeguarding=True)
        codes = {"plain": (plain.code, plain.groups), "asking": (asking.code, asking.groups)}
        db.session.remove()
        returned: list[bool] = []
        event.listen(db.engine.pool, "checkin",
                     lambda dbapi_conn, _record: returned.append(dbapi_conn.autocommit))
        try:
            with postgres_round_trips(db.engine) as taken:
                for which, (code, groups) in codes.items():
                    for phone in range(2):  # the first phone draws the cached pages; the second is counted
                        steps = _walk_a_phones_page(app.test_client(), code, groups, which == "asking",
                                                    stored, taken, phone)
                    # A join storm's requests: the page, the workshop's head; the join, the workshop, then
                    # BEGIN, INSERT and COMMIT in one pipeline (was BEGIN, the workshop, INSERT, COMMIT).
                    assert (len(steps["page"]), len(steps["join"])) == (1, 2), (which, steps)
            assert returned and not any(returned), returned
        finally:
            db.session.remove()
            db.engine.dispose()


def _walk_a_phones_page(http, code: str, groups: list[str], asking: bool, stored, taken, phone: int) -> dict:
    """One phone through its page: the join page, a refused join, consent if asked, a join, a reload,
    a change of group. Return each step's round trips; check what is stored after each."""
    steps: dict[str, list[str]] = {}

    def step(name, response):
        steps[name] = taken()
        assert response.status_code == 200, (name, response.status_code)
        return response.data

    taken()
    page = step("page", http.get(f"/{code}"))
    form = {"csrf_token": re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()}
    before = stored(code)
    refused = step("refused", http.post(f"/j/{code}", data={**form, "group": "Nobody's"}))
    assert b'data-role="phone"' not in refused
    assert stored(code) == before, "a refused join stores nothing"
    if asking:
        agreed = step("consent", http.post(f"/j/{code}", data={**form, "step": "consent", "consent": "yes"}))
        assert b'data-role="phone"' not in agreed
        assert stored(code) == before, "agreeing stores nothing until the phone joins"
        form["consent"] = "yes"
    assert b'data-role="phone"' in step("join", http.post(f"/j/{code}", data={**form, "group": groups[0]}))
    assert stored(code) == [*before, (groups[0], asking)], phone
    assert b'data-role="phone"' in step("reload", http.get(f"/j/{code}"))
    moved = step("change", http.post(f"/j/{code}?edit=1", data={**form, "group": groups[1]}))
    assert b'data-role="phone"' in moved
    assert stored(code) == [*before, (groups[1], asking)], phone
    return steps
