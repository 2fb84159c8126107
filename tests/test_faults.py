"""Fault injection against real server processes (`python wsgi.py`, gevent, SQLite file)
with real Socket.IO clients (python-socketio) and, for the phone, Debian's Chromium.

Faults: the server killed (-9) and restarted mid-vote; double submits and replays;
two consoles acting at the same moment; a burst of 1,000 votes while another
process holds the database's write lock; a payload over the size limit; a phone
that goes offline, reloads, and comes back.
"""
from __future__ import annotations

import gc
import re
import sqlite3
import threading
import time
from collections import Counter
from contextlib import closing

import pytest
import requests
import socketio
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect, sync_playwright

from tests.support import PHONE, AppProcess, join_phone, launch_browser, running_server

# When the server drops a connection (killed, or a payload over the limit), python-engineio's
# client leaves that WebSocket to the garbage collector, which warns in whichever test runs
# next: each test collects its garbage before it ends. The socket is the test client's, not the app's.
pytestmark = [pytest.mark.filterwarnings("ignore::ResourceWarning"),
              pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")]

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
GROUPS = ("Youth", "Government", "Civil society")


def csrf(http: requests.Session, url: str) -> str:
    """GET a form page and return its CSRF token."""
    page = http.get(url, timeout=10)
    page.raise_for_status()
    return CSRF_RE.search(page.text).group(1)


def wait_until(check, timeout: float = 20, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.05)


class Screen:
    """One Socket.IO connection (a console, projector or phone) that reconnects by itself."""

    def __init__(self, http: requests.Session, base: str, code: str, role: str):
        self.http = http
        self.views: list[dict] = []
        self.sio = socketio.Client(http_session=http, reconnection=True, reconnection_delay=0.2,
                                   reconnection_delay_max=1, randomization_factor=0)
        self.sio.on("view", self.views.append)
        self.sio.connect(base, auth={"code": code, "role": role}, transports=["websocket"], wait_timeout=10)

    def call(self, event: str, payload: dict, timeout: float = 15) -> dict:
        return self.sio.call(event, payload, timeout=timeout)

    def close(self) -> None:
        self.sio.disconnect()
        if self.http is not None:
            self.http.close()


class Room:
    """A workshop on a real server: the demo facilitator's console and projector, and phones."""

    def __init__(self, base: str, title: str, ideas: list[str]):
        self.base = base
        self.http = requests.Session()
        self.http.post(f"{base}/login", data={"csrf_token": csrf(self.http, f"{base}/login"),
                                              "email": "demo@example.org", "password": "demo-facilitator"},
                       timeout=10).raise_for_status()
        made = self.http.post(f"{base}/workshops/new", allow_redirects=False, timeout=10, data={
            "csrf_token": csrf(self.http, f"{base}/workshops/new"), "title": title, "topic": "Faults",
            "groups": "\n".join(GROUPS)})
        self.code = re.search(r"/w/([^/]+)/console", made.headers["Location"]).group(1)
        self.screens: list[Screen] = []
        self.console = self.screen("console")
        self.projector = self.screen("projector")
        self.stage_id = self.console.call("sync", {})["view"]["stage_id"]
        self.go("collect")
        self.item_ids = [self.console.call("item:add", {"title": t})["item"]["id"] for t in ideas]
        self.phones: list[Screen] = []

    def screen(self, role: str, http: requests.Session | None = None) -> Screen:
        screen = Screen(http or self.http, self.base, self.code, role)
        self.screens.append(screen)
        return screen

    def go(self, phase: str, console: Screen | None = None) -> dict:
        return (console or self.console).call("stage:go", {"stage_id": self.stage_id, "phase": phase})

    def join(self, n: int) -> list[Screen]:
        """Join n phones, each with its own cookies, and connect their sockets."""
        for i in range(n):
            http = requests.Session()
            url = f"{self.base}/j/{self.code}"
            http.post(url, data={"csrf_token": csrf(http, url), "group": GROUPS[i % len(GROUPS)]},
                      timeout=10).raise_for_status()
            self.phones.append(self.screen("phone", http))
        return self.phones[-n:]

    def close(self) -> None:
        """Disconnect every screen, in parallel: each waits up to 3 s for the server's goodbye."""
        threads = [threading.Thread(target=screen.close) for screen in self.screens]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)


def query(server, sql: str, *params) -> list[tuple]:
    """Read straight from the server's database file, as another process."""
    with closing(sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True)) as conn:
        return conn.execute(sql, params).fetchall()


def stored_votes(db_path) -> dict[tuple[int, int], int]:
    """Read every stored vote straight from the database file: (participant, item) -> dots."""
    with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
        rows = conn.execute("SELECT participant_id, item_id, value FROM votes").fetchall()
    assert len(rows) == len({(p, i) for p, i, _v in rows})  # one row per participant and idea
    return {(p, i): v for p, i, v in rows}


def vote(phone: Screen, item_id: int, dots: int, cid: str) -> dict:
    return phone.call("vote", {"cid": cid, "item_id": item_id, "dots": dots})


@pytest.fixture(autouse=True)
def _collect_client_sockets():
    yield
    gc.collect()


@pytest.fixture
def server(tmp_path):
    server = AppProcess(tmp_path)
    server.db_path = tmp_path / "charrette.db"
    server.start()
    yield server
    server.stop()
    log = server.log_path.read_text()
    assert "Traceback" not in log, log[-3000:]


# --- (a) the server is killed during a live vote ---------------------------------------------

@pytest.mark.slow
def test_a_server_killed_mid_vote_keeps_every_acked_vote_once(server):
    room = Room(server.base, "Restart during voting", ["Fake job offers", "Debt bondage", "Visa overstays"])
    try:
        assert room.go("vote")["ok"]
        phones = room.join(8)
        sent = {}
        for n, phone in enumerate(phones):
            for k, (item, dots) in enumerate(((room.item_ids[n % 3], 2), (room.item_ids[(n + 1) % 3], 1))):
                cid = f"restart-{n:02d}-{k}"
                sent[cid] = (phone, item, dots)
                assert vote(phone, item, dots, cid)["ok"]
        acked = stored_votes(server.db_path)
        assert sum(acked.values()) == 8 * 3 and len(acked) == 16

        server.kill()
        wait_until(lambda: not any(s.sio.connected for s in room.screens), 10, "every client to notice")
        server.start()
        wait_until(lambda: all(s.sio.connected for s in room.screens), 30, "every client to reconnect")

        assert stored_votes(server.db_path) == acked  # nothing acknowledged was lost
        for cid, (phone, item, dots) in sent.items():  # phones resend what they were unsure of
            reply = vote(phone, item, dots, cid)
            assert reply["ok"] and reply["mine"]["left"] == 0, reply
        assert stored_votes(server.db_path) == acked  # ... and nothing is counted twice
        for screen in room.screens:  # every screen shows the current state again
            view = screen.call("sync", {})["view"]
            assert view["phase"] == "vote" and view["stage_id"] == room.stage_id
        assert room.console.call("sync", {})["view"]["progress"] == {"voters": 8, "dots": 24}
        assert room.projector.call("sync", {})["view"]["participants"] == 8

        room.projector.views.clear()  # a vote after the restart reaches the projector
        assert vote(phones[0], room.item_ids[0], 0, "restart-after-0")["ok"]
        wait_until(lambda: any(v["progress"].get("dots") == 22 for v in room.projector.views), 10,
                   "the projector's refresh")
    finally:
        room.close()


# --- (b) double submits and replays -----------------------------------------------------------

def _at_once(*calls):
    """Run the calls in threads released together; return their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, fn):
        barrier.wait()
        results[i] = fn()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


@pytest.mark.slow
def test_double_submits_and_replays_are_stored_once(server):
    room = Room(server.base, "Double taps", ["Recruiters at bus stations", "Closed chat groups"])
    try:
        (phone,) = room.join(1)
        tab = room.screen("phone", phone.http)  # a second tab: the same cookies
        idea = {"cid": "idea-twice-0001", "title": "Adverts promising hotel jobs"}
        first, second = _at_once(lambda: phone.call("idea:add", idea), lambda: tab.call("idea:add", idea))
        assert first["ok"] and second["ok"] and first["item"]["id"] == second["item"]["id"]
        again = phone.call("idea:add", idea)  # a retry after a lost ack
        assert again["item"]["id"] == first["item"]["id"]
        assert query(server, "SELECT count(*) FROM items WHERE title = ?", idea["title"]) == [(1,)]

        assert room.go("vote")["ok"]
        a, b = room.item_ids
        for n in range(10):  # double taps: the same action from two tabs at the same moment
            cid = f"vote-twice-{n:04d}"
            dots = n % 4
            one, two = _at_once(lambda d=dots, c=cid: vote(phone, a, d, c),
                                lambda d=dots, c=cid: vote(tab, a, d, c))
            assert one["ok"] and two["ok"] and one["mine"] == two["mine"], (one, two)
            assert stored_votes(server.db_path) == {(_pid(server), a): dots}
        assert vote(phone, b, 0, "vote-twice-b")["ok"]
        assert vote(phone, a, 3, "vote-twice-final")["ok"]
        replay = vote(phone, a, 3, "vote-twice-final")
        assert replay["ok"] and replay["mine"]["dots"] == {str(a): 3}
        assert sorted(stored_votes(server.db_path).values()) == [0, 3]

        # A late copy of an older action (its ack was lost in the other tab, or a retry
        # that overtook its original) must not overwrite the newer vote on the same idea.
        assert vote(tab, a, 1, "vote-twice-newer")["ok"]
        late = vote(phone, a, 3, "vote-twice-final")
        assert late["ok"] and late["mine"]["dots"] == {str(a): 1}
        late = vote(phone, a, 2, "vote-twice-0002")
        assert late["ok"] and late["mine"]["dots"] == {str(a): 1}
        assert sorted(stored_votes(server.db_path).values()) == [0, 1]
    finally:
        room.close()


def _pid(server) -> int:
    [(pid,)] = query(server, "SELECT max(id) FROM participants")
    return pid


@pytest.mark.slow
def test_a_payload_over_the_size_limit_drops_only_that_connection(server):
    room = Room(server.base, "Oversized", ["One"])
    try:
        (phone,) = room.join(1)
        huge = {"cid": "idea-huge-0001", "title": "x" * 100_000}  # over max_http_buffer_size (64 KB)
        with pytest.raises(socketio.exceptions.TimeoutError):
            phone.call("idea:add", huge, timeout=3)
        wait_until(lambda: phone.sio.connected, 15, "the phone to reconnect")
        assert phone.call("idea:add", {"cid": "idea-small-0001", "title": "A normal idea"})["ok"]
        titles = [t for (t,) in query(server, "SELECT title FROM items WHERE stage_id = ?", room.stage_id)]
        assert titles == ["One", "A normal idea"]
        assert room.console.sio.connected  # the other screens never noticed
    finally:
        room.close()


# --- (c) two consoles act at the same moment ---------------------------------------------------

@pytest.mark.slow
def test_concurrent_console_actions_leave_one_consistent_state(server):
    room = Room(server.base, "Two consoles", ["Alpha", "Beta", "Gamma", "Delta"])
    try:
        other_laptop = requests.Session()  # a co-facilitator's laptop, signed in separately
        other_laptop.post(f"{server.base}/login", timeout=10, data={
            "csrf_token": csrf(other_laptop, f"{server.base}/login"), "email": "demo@example.org",
            "password": "demo-facilitator"}).raise_for_status()
        second = room.screen("console", other_laptop)
        (phone,) = room.join(1)
        for n in range(15):
            screens = (room.console, second, room.projector, phone)
            for s in screens:
                s.views.clear()
            one, two = _at_once(lambda: room.go("collect"), lambda: room.go("vote", second))
            assert one["ok"] and two["ok"], (one, two)
            [(phase,)] = query(server, "SELECT phase FROM stages WHERE id = ?", room.stage_id)
            assert phase in ("collect", "vote")
            wait_until(lambda ss=screens: all(len(s.views) >= 2 for s in ss), 10, "two views on every screen")
            time.sleep(0.1)  # any late view would arrive now
            assert {s.views[-1]["phase"] for s in screens} == {phase}, (n, phase, [s.views for s in screens])

        # Both consoles merge the same duplicate, into different ideas: one wins, the other is told.
        alpha, beta, gamma, _delta = room.item_ids
        one, two = _at_once(lambda: room.console.call("item:merge", {"source_id": alpha, "target_id": beta}),
                            lambda: second.call("item:merge", {"source_id": alpha, "target_id": gamma}))
        assert sorted([one["ok"], two["ok"]]) == [False, True], (one, two)
        loser = one if not one["ok"] else two
        assert "Only visible ideas can be merged" in loser["error"]
        [(into,)] = query(server, "SELECT merged_into_id FROM items WHERE id = ?", alpha)
        assert into == (beta if one["ok"] else gamma)
    finally:
        room.close()


# --- (d) a burst of votes while the database is busy -------------------------------------------

@pytest.mark.slow
def test_a_burst_of_1000_votes_with_a_locked_database_loses_none(server):
    ideas = [f"Idea {n}" for n in range(10)]
    room = Room(server.base, "Vote burst", ideas)
    try:
        assert room.console.call("stage:settings", {"stage_id": room.stage_id, "dots": 20})["ok"]
        assert room.go("vote")["ok"]
        phones = room.join(40)
        per_phone = 25  # 40 x 25 = 1,000 votes
        replies: list[list[dict]] = [[] for _ in phones]
        barrier = threading.Barrier(len(phones) + 1)

        def cast(n: int, phone: Screen) -> None:
            barrier.wait()
            for k in range(per_phone):
                item = room.item_ids[k % 10]
                replies[n].append(vote(phone, item, (k // 10) % 2, f"burst-{n:03d}-{k:03d}"))

        threads = [threading.Thread(target=cast, args=(n, p)) for n, p in enumerate(phones)]
        for t in threads:
            t.start()
        barrier.wait()
        started = time.monotonic()
        time.sleep(0.3)
        with closing(sqlite3.connect(server.db_path, timeout=5)) as other_process:  # another writer
            other_process.execute("BEGIN IMMEDIATE")  # holds the write lock for half a second
            time.sleep(0.5)
            other_process.execute("COMMIT")
        for t in threads:
            t.join(60)
        elapsed = time.monotonic() - started

        outcomes = Counter("ok" if r["ok"] else r["error"] for rs in replies for r in rs)
        assert outcomes == {"ok": 1000}, outcomes
        stored = stored_votes(server.db_path)
        assert len(stored) == 40 * 10  # each phone has a row per idea, nothing doubled
        totals = Counter()
        for (_participant, item), dots in stored.items():
            totals[item] += dots
        # k = 10..19 put 1 dot on every idea; k = 20..24 took it back from ideas 0-4.
        assert [totals[i] for i in room.item_ids] == [0] * 5 + [40] * 5
        assert elapsed < 30, elapsed
        assert room.console.call("sync", {})["view"]["progress"] == {"voters": 40, "dots": 200}
    finally:
        room.close()


# --- (e) a phone goes offline, reloads, and comes back -----------------------------------------

@pytest.mark.slow
@pytest.mark.browser
def test_an_offline_phones_queued_votes_survive_a_reload_and_arrive_once(tmp_path):
    with running_server(tmp_path) as base, sync_playwright() as pw:
        browser = launch_browser(pw)
        room = Room(base, "Offline and reload", ["Recruiters in rural districts", "Closed chat groups"])
        try:
            assert room.go("vote")["ok"]
            context = browser.new_context(**PHONE)
            context.set_default_timeout(15_000)
            phone = join_phone(context, base, room.code, "Youth")
            conn = phone.locator("[data-conn]").first
            expect(phone.locator(".dot-card")).to_have_count(2)
            sent = []  # vote frames the page sends: `42<ack id>["vote",{...}]`
            phone.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(frame)))

            context.set_offline(True)
            expect(conn).to_have_attribute("data-conn", "offline", timeout=60_000)
            phone.locator(".dot-card").nth(0).locator("button.plus").click()
            phone.locator(".dot-card").nth(0).locator("button.plus").click()
            phone.locator(".dot-card").nth(1).locator("button.plus").click()
            expect(conn).to_have_attribute("data-conn", "queued")
            outbox = f"JSON.parse(localStorage.getItem('charrette:outbox:{room.code}') || '[]').length"
            assert phone.evaluate(outbox) == 3

            # Reloading while offline only shows the browser's error page; back online, the
            # person opens the workshop again: the queued votes are still in localStorage.
            with pytest.raises(PlaywrightError):
                phone.reload()
            assert not [f for f in sent if re.match(r'^42\d*\["vote",', str(f))]  # nothing went out
            context.set_offline(False)
            phone.goto(f"{base}/j/{room.code}")
            expect(conn).to_have_attribute("data-conn", "saved", timeout=30_000)
            assert phone.evaluate(outbox) == 0
            expect(phone.locator(".dot-card .dot-count")).to_have_text(["2", "1"])
            votes = [f for f in sent if isinstance(f, str) and re.match(r'^42\d*\["vote",', f)]
            assert len(votes) == 3, votes  # each queued action sent once
            assert room.console.call("sync", {})["view"]["progress"] == {"voters": 1, "dots": 3}
            assert sorted(stored_votes(tmp_path / "charrette.db").values()) == [1, 2]
            context.close()
        finally:
            room.close()
            browser.close()
