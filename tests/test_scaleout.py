"""Scale-out mode: two real app processes sharing PostgreSQL and Redis.

Process A serves the phones, process B the facilitator's console and projector. A vote
acknowledged on A must reach the projector on B (through Redis), coalesced, and survive
a crash and restart of A: stored once, counted once.

Needs PostgreSQL (`SCALEOUT_DATABASE_URL`, default postgresql://postgres@127.0.0.1:5432/test)
and Redis (`SCALEOUT_REDIS_URL`, default redis://127.0.0.1:6379/0), as on the CI machine.
Without them the test fails, it does not skip. Each run uses a database and a Redis channel
of its own, dropped afterwards.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
import redis
import requests
import socketio

from tests.support import ROOT, AppProcess, free_port

pytestmark = pytest.mark.slow

REDIS_URL = os.environ.get("SCALEOUT_REDIS_URL", "redis://127.0.0.1:6379/0")
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CONSOLE_RE = re.compile(r"/w/([A-Z0-9]+)/console")
PHONES = 12
WAIT = 10  # seconds: generous for CI; the measured latency is asserted separately


@pytest.fixture
def database(postgres_url):
    """A fresh PostgreSQL database for this run (tests/conftest.py)."""
    return postgres_url


@contextlib.contextmanager
def two_processes(tmp_path, database, push_interval: float):
    """Run processes A and B on two ports, sharing the database and a Redis channel of this run."""
    redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5).ping()  # fail here, clearly, without Redis
    env = {"DATABASE_URL": database, "REDIS_URL": REDIS_URL,
           "REDIS_CHANNEL": f"charrette-test-{uuid.uuid4().hex[:10]}", "PUSH_INTERVAL": str(push_interval)}
    a, b = AppProcess(tmp_path, "a", **env), AppProcess(tmp_path, "b", **env)
    try:
        a.start()
        b.start()
        yield a, b, database
    finally:
        a.stop()
        b.stop()


@pytest.fixture
def cluster(tmp_path, database):
    """Processes A and B, pushing coalesced updates every 0.1 s (the default)."""
    with two_processes(tmp_path, database, 0.1) as processes:
        yield processes


@pytest.fixture
def slow_push_cluster(tmp_path, database):
    """Processes A and B pushing every 0.5 s: long enough that both always have news each turn."""
    with two_processes(tmp_path, database, 0.5) as processes:
        yield processes


def form_post(http: requests.Session, url: str, **fields) -> requests.Response:
    """GET a form page for its CSRF token, then POST the form."""
    page = http.get(url, timeout=WAIT)
    page.raise_for_status()
    token = CSRF_RE.search(page.text).group(1)
    return http.post(url, data={"csrf_token": token, **fields}, timeout=WAIT)


class Screen:
    """A Socket.IO client with an HTTP session's cookies; keeps every `view` it gets."""

    def __init__(self, base: str, http: requests.Session, code: str, role: str):
        self.base, self.http, self.code, self.role = base, http, code, role
        self.transports = ["websocket"]
        self.views: list[tuple[float, dict]] = []
        self.changed = threading.Condition()
        self.sio = None

    def connect(self) -> Screen:
        self.sio = socketio.Client(http_session=self.http, reconnection=False)
        self.sio.on("view", self._on_view)
        self.sio.connect(self.base, auth={"code": self.code, "role": self.role},
                         transports=self.transports, wait_timeout=WAIT)
        return self

    def _on_view(self, data):
        with self.changed:
            self.views.append((time.monotonic(), data))
            self.changed.notify_all()

    def call(self, event: str, data=None) -> dict:
        reply = self.sio.call(event, data or {}, timeout=WAIT)
        assert reply and reply.get("ok"), f"{self.role} {event}: {reply}"
        return reply

    def wait_view(self, test, since: float = 0.0, timeout: float = WAIT) -> tuple[float, dict]:
        """Wait for a view received after `since` (monotonic) that passes `test`; return it."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for at, view in self.views:
                    if at >= since and test(view):
                        return at, view
                left = deadline - time.monotonic()
                if left <= 0:
                    last = self.views[-1][1] if self.views else None
                    raise AssertionError(f"{self.role}: no such view within {timeout}s; last: "
                                         f"{ {k: v for k, v in (last or {}).items() if k != 'html'} }")
                self.changed.wait(left)

    def close(self):
        if self.sio is not None:
            self.sio.disconnect()


class Phone(Screen):
    """A phone: joins over HTTP (its own cookies), then keeps one WebSocket."""

    def __init__(self, base: str, code: str, group: str):
        super().__init__(base, requests.Session(), code, "phone")
        response = form_post(self.http, f"{base}/j/{code}", group=group)
        assert response.ok and 'data-role="phone"' in response.text, f"join failed: {response.status_code}"
        self.last: tuple[str, int, int] | None = None  # (cid, item_id, dots) of the last acked vote
        self.mine: dict[str, int] = {}  # allocation the last ack reported

    def vote(self, cid: str, item_id: int, dots: int) -> None:
        reply = self.call("vote", {"cid": cid, "item_id": item_id, "dots": dots})
        self.last, self.mine = (cid, item_id, dots), reply["mine"]["dots"]


def close_all(screens) -> None:
    """Disconnect sockets side by side (each client's close handshake takes a few seconds)."""
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda screen: screen.close(), screens))


def stored_votes(database: str, stage_id: int) -> list[tuple[str, int, int]]:
    """Every non-zero vote of the stage in PostgreSQL: (participant token, item id, dots)."""
    with psycopg.connect(database) as con:
        return con.execute("SELECT p.token, v.item_id, v.value FROM votes v JOIN participants p"
                           " ON p.id = v.participant_id WHERE v.stage_id = %s AND v.value > 0",
                           (stage_id,)).fetchall()


def test_two_processes_share_one_workshop_and_survive_a_restart(cluster):
    a, b, database = cluster
    facilitator = requests.Session()
    response = form_post(facilitator, f"{b.base}/login", email="demo@example.org",
                         password="demo-facilitator")
    code = CONSOLE_RE.search(response.text).group(1)  # the demo workshop, seeded once for both
    console = Screen(b.base, facilitator, code, "console").connect()
    projector = Screen(b.base, facilitator, code, "projector").connect()
    phones = [Phone(a.base, code, group) for group in
              (["Government", "Civil society", "Youth", "Other"] * PHONES)[:PHONES]]
    try:
        for phone in phones:
            phone.connect()
        stage_id = console.call("sync")["view"]["stage_id"]
        with psycopg.connect(database) as con:
            item_ids = [i for (i,) in con.execute(
                "SELECT id FROM items WHERE stage_id = %s ORDER BY id", (stage_id,))]
        assert len(item_ids) >= 3

        # The console on B opens voting: every phone on A gets the ballot through Redis.
        opened = time.monotonic()
        console.call("stage:go", {"stage_id": stage_id, "phase": "vote"})
        for phone in phones:
            phone.wait_view(lambda v: v.get("phase") == "vote", since=opened)

        # One vote on A appears on B's projector, within the live budget.
        sent = time.monotonic()
        phones[0].vote("vote-0000-1", item_ids[0], 2)
        seen, _view = projector.wait_view(lambda v: (v.get("progress") or {}).get("dots") == 2, since=sent)
        assert seen - sent < 1.0, f"vote on A reached the projector on B after {seen - sent:.3f}s"

        # A burst of votes: all counted on B, in far fewer pushes than votes (coalesced).
        burst = time.monotonic()
        for n, phone in enumerate(phones):
            phone.vote(f"vote-{n:04d}-1", item_ids[n % 3], 2)
            phone.vote(f"vote-{n:04d}-2", item_ids[(n + 1) % 3], 1)
        acked = sum(sum(p.mine.values()) for p in phones)
        assert acked == 3 * PHONES
        projector.wait_view(lambda v: (v.get("progress") or {}).get("dots") == acked, since=burst)
        pushes = sum(1 for at, _v in projector.views if at >= burst)
        assert pushes < 2 * PHONES, f"{pushes} projector pushes for {2 * PHONES} votes: not coalesced"

        # Crash A (SIGKILL) and start it again on the same port; B and its projector stay up.
        a.kill()
        close_all(phones)
        a.start()
        per_item = Counter()
        for phone in phones:
            for item_id, dots in phone.mine.items():
                per_item[int(item_id)] += dots
        stored = Counter()
        for _token, item_id, dots in stored_votes(database, stage_id):
            stored[item_id] += dots
        assert stored == per_item, "an acknowledged vote was lost or doubled by the crash"

        # Phones reconnect to the new A: each sees exactly what it had, and replays its last
        # action with the same client id (as the outbox does): stored once, counted once.
        for phone in phones:
            phone.connect()
            mine = phone.call("sync")["mine"]
            assert {int(k): v for k, v in mine["dots"].items()} == {int(k): v for k, v in phone.mine.items()}
            cid, item_id, dots = phone.last
            phone.vote(cid, item_id, dots)
        assert sum(dots for _t, _i, dots in stored_votes(database, stage_id)) == acked

        # The restarted A publishes to Redis again: a new vote reaches the projector on B.
        sent = time.monotonic()
        phones[0].vote("vote-0000-3", item_ids[0], 1)  # moves a dot: 2 -> 1 on that idea
        projector.wait_view(lambda v: (v.get("progress") or {}).get("dots") == acked - 1, since=sent)

        # Reveal on B: what the projector shows matches the database, vote for vote.
        revealed = time.monotonic()
        console.call("results:reveal", {"stage_id": stage_id, "revealed": "1"})
        _at, view = projector.wait_view(lambda v: v.get("phase") == "results", since=revealed)
        rows = stored_votes(database, stage_id)
        assert sum(dots for _t, _i, dots in rows) == acked - 1
        assert len({token for token, _i, _d in rows}) == PHONES
        assert view["progress"] == {"voters": PHONES, "dots": acked - 1}
    finally:
        close_all([*phones, console, projector])


HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
SHIPPED_PROXY = ROOT / "deploy" / "haproxy.cfg"


def test_the_shipped_haproxy_config_is_valid():
    assert Path(HAPROXY).exists(), "haproxy is missing: run .ci/install-test-deps"
    check = subprocess.run([HAPROXY, "-c", "-f", str(SHIPPED_PROXY)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.fixture
def proxy(cluster, tmp_path):
    """Run deploy/haproxy.cfg in front of A and B (only its addresses changed); yield its URL."""
    a, b, _database = cluster
    port = free_port()
    config = SHIPPED_PROXY.read_text()
    config = re.sub(r"(?m)^(\s*)bind \S+", rf"\1bind 127.0.0.1:{port}", config)
    config = config.replace("127.0.0.1:5001", f"127.0.0.1:{a.port}").replace("127.0.0.1:5002",
                                                                            f"127.0.0.1:{b.port}")
    (tmp_path / "haproxy.cfg").write_text(config)
    log = open(tmp_path / "haproxy.log", "w")
    proc = subprocess.Popen([HAPROXY, "-db", "-f", str(tmp_path / "haproxy.cfg")], stdout=log,
                            stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + WAIT
        while True:  # up, and both servers passed a health check (2 x 2 s)
            try:
                routes = {requests.get(base + "/", timeout=1).cookies.get("charrette_route")
                          for _ in range(4)}
                if routes == {"app1", "app2"}:
                    break
            except OSError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "haproxy.log").read_text()
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def test_phones_behind_the_proxy_stick_to_a_process_by_cookie(cluster, proxy):
    """Through deploy/haproxy.cfg: phones on both processes, long-polling ones included, all counted."""
    facilitator = requests.Session()
    response = form_post(facilitator, f"{proxy}/login", email="demo@example.org",
                         password="demo-facilitator")
    code = CONSOLE_RE.search(response.text).group(1)
    console = Screen(proxy, facilitator, code, "console").connect()
    projector = Screen(proxy, facilitator, code, "projector").connect()
    phones = [Phone(proxy, code, "Youth") for _ in range(6)]
    try:
        # Every phone has a route cookie from its first page; round robin spread them over both.
        assert Counter(p.http.cookies.get("charrette_route") for p in phones) == {"app1": 3, "app2": 3}
        for n, phone in enumerate(phones):
            # Half on the long-polling fallback: many requests per socket, all to the process
            # that holds it, or the socket would be refused as unknown ("Invalid session").
            phone.transports = ["polling"] if n % 2 else ["websocket"]
            phone.connect()
        stage_id = console.call("sync")["view"]["stage_id"]
        opened = time.monotonic()
        console.call("stage:go", {"stage_id": stage_id, "phase": "vote"})
        for phone in phones:
            phone.wait_view(lambda v: v.get("phase") == "vote", since=opened)
        with psycopg.connect(cluster[2]) as con:
            (item_id,) = con.execute("SELECT min(id) FROM items WHERE stage_id = %s", (stage_id,)).fetchone()
        voted = time.monotonic()
        for n, phone in enumerate(phones):
            phone.vote(f"vote-{n:04d}-1", item_id, 1)
            for _ in range(3):  # a few more round trips on the same (polling) socket
                assert phone.call("sync")["mine"]["dots"] == {str(item_id): 1}
        projector.wait_view(lambda v: (v.get("progress") or {}).get("dots") == len(phones), since=voted)
    finally:
        close_all([*phones, console, projector])


def test_coalesced_pushes_are_coalesced_across_processes(slow_push_cluster):
    """Votes on both processes at once: the projector gets one push per interval, not one per process."""
    a, b, database = slow_push_cluster
    facilitator = requests.Session()
    response = form_post(facilitator, f"{b.base}/login", email="demo@example.org",
                         password="demo-facilitator")
    code = CONSOLE_RE.search(response.text).group(1)
    console = Screen(b.base, facilitator, code, "console").connect()
    projector = Screen(b.base, facilitator, code, "projector").connect()
    phones = [Phone(base, code, "Youth") for base in (a.base, b.base) * 8]
    try:
        for phone in phones:
            phone.connect()
        stage_id = console.call("sync")["view"]["stage_id"]
        console.call("stage:go", {"stage_id": stage_id, "phase": "vote"})
        with psycopg.connect(database) as con:
            item_ids = [i for (i,) in con.execute(
                "SELECT id FROM items WHERE stage_id = %s ORDER BY id", (stage_id,))]

        def keep_voting(n: int, phone: Phone, until: float) -> None:
            k = 0
            while time.monotonic() < until and k < 50:  # under the 120-a-minute limit
                k += 1
                phone.vote(f"burst-{n:04d}-{k:04d}", item_ids[n % 3], k % 3 + 1)  # one idea: in budget
                time.sleep(0.05)

        start = time.monotonic()
        window = 5.0
        with ThreadPoolExecutor(max_workers=len(phones)) as pool:
            list(pool.map(lambda args: keep_voting(*args, start + window), enumerate(phones)))
        end = time.monotonic()
        # Every acknowledged vote is on the projector in the end ...
        final = sum(sum(p.mine.values()) for p in phones)
        projector.wait_view(lambda v: (v.get("progress") or {}).get("dots") == final, since=start)
        # ... and while both processes took votes, pushes came at most once per interval
        # (0.5 s) between them: each process pushing its own would be about twice that.
        pushes = [v for at, v in projector.views if start <= at <= end and v.get("numbers")]
        allowed = (end - start) / 0.5 + 2
        assert 3 <= len(pushes) <= allowed, f"{len(pushes)} numbers pushes in {end - start:.1f}s"
        # Whichever process pushed, two pushes were never closer than one turn (server clock).
        stamps = sorted(v["rendered_at"] for v in pushes)
        gaps = [later - earlier for earlier, later in zip(stamps, stamps[1:], strict=False)]
        assert min(gaps) >= 0.4, f"two pushes {min(gaps):.3f}s apart: not coalesced across processes"
        assert all("html" not in v and "parts" not in v for v in pushes)  # numbers, never results
    finally:
        close_all([*phones, console, projector])
