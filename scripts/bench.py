"""Load-generate a live workshop and print a table of numbers (a benchmark, not a test).

    python scripts/bench.py                         # N = 250 1000 2000 phones, own server each
    python scripts/bench.py --phones 250 --bare     # also the same load on a bare Flask-SocketIO server
    python scripts/bench.py --url http://127.0.0.1:5000 --db instance/charrette.db --phones 100
    python scripts/bench.py --phones 1000 --profile /tmp/prof   # py-spy the server during the vote phase
    python scripts/bench.py --processes 2 --phones 2000 4000    # scale-out: 2 processes, PostgreSQL, Redis

For each N: a facilitator signs in over HTTP, creates a workshop and opens a console and a
projector socket (the projector in a process of its own, as it is its own device, so that
the phones' event loop never delays what it records); N simulated phones join over HTTP (GET
+ POST /j/CODE) and connect a Socket.IO WebSocket with their session cookie; each phone adds
an idea; the console opens voting; each phone casts and moves its dots (2 on A, 1 on B, then
A to 1 and 1 on C) spread over a window; the console reveals the results. Measured: join
time and failures, vote ack latency, vote -> projector latency (first projector `view` whose
`rendered_at` >= the ack's `at`), reveal -> every phone, lost/duplicated dots (acknowledged
votes vs the database and the revealed tally), server CPU seconds and peak RSS, and the load
generator's own CPU.

Everything runs on 127.0.0.1; every phase has a timeout and the run stops by itself.
`--serve-bare PORT` (internal) runs the bare comparison server: same routes, same events,
in-memory state, an ack and a coalesced push, no database, no templates.
"""
from __future__ import annotations

import sys

if __name__ == "__main__" and "--serve-bare" in sys.argv:
    from gevent import monkey  # the bare server is a gevent server like the app: patch first

    monkey.patch_all()

import argparse  # noqa: E402
import asyncio  # noqa: E402
import base64  # noqa: E402
import bisect  # noqa: E402
import contextlib  # noqa: E402
import contextvars  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import sqlite3  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
import zlib  # noqa: E402
from collections import Counter, defaultdict  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GROUPS = ["Government", "Civil society", "UN / donor", "Creative partner", "Youth", "Other"]
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CODE_RE = re.compile(r"/w/([^/]+)/console")
BAR_RE = re.compile(r'<div class="bar-label">(.*?)</div>.*?<span class="score">(\d+)', re.S)


# =====================================================================================
# The bare comparison server (runs in its own process: `bench.py --serve-bare PORT`)
# =====================================================================================

def serve_bare(port: int) -> None:
    """A minimal Flask-SocketIO gevent server speaking the app's protocol, state in memory.

    Same HTTP steps (login, new workshop, GET/POST /j/CODE with a session cookie), same
    socket auth and events, same coalesced projector/console push of the numbers, the same
    garbage-collector settings; no database, no templates, no validation beyond the shape,
    and no event that walks every vote. The floor the app is compared with.
    """
    import secrets

    from flask import Flask, redirect, request, session
    from flask_socketio import ConnectionRefusedError, SocketIO, join_room

    app = Flask("bare")
    app.secret_key = "bare-secret"
    sio = SocketIO(app, async_mode="gevent", ping_interval=20, ping_timeout=25,
                   max_http_buffer_size=64 * 1024, cors_allowed_origins=None)
    code, stage_id = "BARE22", 1
    st = {"phase": "pending", "revealed": False, "items": {}, "next_item": 1, "participants": {},
          "votes": {}, "dirty": False}
    # Kept as votes come in, so no event walks every vote: the floor, not a second app.
    by_token: dict[str, dict[int, int]] = defaultdict(dict)  # a phone's dots per idea
    totals: Counter = Counter()                                # dots per idea
    clients: dict[str, tuple[str, str | None]] = {}
    form = ('<form method="post"><input id="csrf_token" name="csrf_token" type="hidden" '
            'value="bare-csrf"></form>')

    def progress():
        return {"voters": sum(1 for dots in by_token.values() if any(dots.values())),
                "dots": sum(totals.values())}

    def view(audience):
        html = f'<div data-stage_id="{stage_id}" data-phase="{st["phase"]}" data-audience="{audience}">'
        if st["revealed"] and audience != "console" or (audience == "console" and st["phase"] != "pending"):
            html += "".join(f'<li><div class="bar-label">{st["items"][i]}</div>'
                            f'<span class="score">{n}</span></li>'
                            for i, n in totals.most_common())
        html += "</div>"
        return {"html": html, "participants": len(st["participants"]), "rendered_at": time.time(),
                "progress": progress() if st["phase"] in ("vote", "results") else {}, "timer": None,
                "open": True, "stage_id": stage_id, "phase": st["phase"]}

    def push(audiences=("projector", "console", "phone")):
        for audience in audiences:
            sio.emit("view", view(audience), to=audience)

    def numbers():  # what the app's coalesced push sends while votes come in: no HTML
        return {"numbers": True, "participants": len(st["participants"]), "rendered_at": time.time(),
                "progress": progress() if st["phase"] in ("vote", "results") else {},
                "stage_id": stage_id, "phase": st["phase"]}

    def coalescer():
        while True:
            sio.sleep(0.1)
            if st["dirty"]:
                st["dirty"] = False
                for audience in ("projector", "console"):
                    sio.emit("view", numbers(), to=audience)

    @app.route("/")
    def index():
        return "bare"

    @app.route("/login", methods=["GET", "POST"])
    def login():
        if request.method == "POST":
            session["facilitator"] = True
            return redirect("/workshops")
        return form

    @app.route("/workshops")
    def workshops():
        return "workshops"

    @app.route("/workshops/new", methods=["GET", "POST"])
    def new():
        if request.method == "POST":
            return redirect(f"/w/{code}/console")
        return form

    @app.route("/w/<c>/console")
    def console(c):
        return "console"

    @app.route("/j/<c>", methods=["GET", "POST"])
    def phone(c):
        if request.method == "POST":
            token = (session.get("joined") or {}).get(c) or secrets.token_urlsafe(24)
            st["participants"][token] = request.form.get("group", "")
            session.permanent = True
            session["joined"] = {c: token}
            st["dirty"] = True
            return redirect(f"/j/{c}")
        return form if c not in (session.get("joined") or {}) else "phone page"

    @app.route("/bare/votes")
    def votes():
        return {"votes": [[tok, item_id, v] for (tok, item_id), v in st["votes"].items()]}

    @sio.on("connect")
    def connect(auth):
        role = (auth or {}).get("role")
        token = (session.get("joined") or {}).get(code)
        if role == "phone" and token not in st["participants"]:
            raise ConnectionRefusedError("Join the workshop first.")
        if role in ("projector", "console") and not session.get("facilitator"):
            raise ConnectionRefusedError("Sign in.")
        clients[request.sid] = (role, token)
        join_room(role)

    @sio.on("disconnect")
    def disconnect(*_a):
        clients.pop(request.sid, None)

    def mine(token):
        dots = {i: v for i, v in by_token[token].items() if v > 0}
        return {"stage_id": stage_id, "dots": dots, "budget": 3, "left": 3 - sum(dots.values())}

    @sio.on("sync")
    def sync(_p=None):
        role, token = clients[request.sid]
        return {"ok": True, "view": view(role), "mine": mine(token) if token else {}}

    def add_item(p):
        item_id = st["next_item"]
        st["next_item"] += 1
        st["items"][item_id] = p.get("title", "")
        return {"ok": True, "item": {"id": item_id, "title": p.get("title", "")}}

    @sio.on("idea:add")
    def idea(p):
        st["dirty"] = True
        return add_item(p)

    @sio.on("item:add")
    def item(p):
        reply = add_item(p)
        push()
        return reply

    @sio.on("stage:go")
    def go(p):
        st["phase"], st["revealed"] = p["phase"], False
        push()
        return {"ok": True}

    @sio.on("results:reveal")
    def reveal(p):
        st["phase"], st["revealed"] = "results", bool(p.get("revealed"))
        push()
        return {"ok": True}

    @sio.on("vote")
    def vote(p):
        _role, token = clients[request.sid]
        if st["phase"] != "vote":
            return {"ok": False, "error": "Voting is closed."}
        item_id, dots = int(p["item_id"]), int(p["dots"])
        totals[item_id] += dots - by_token[token].get(item_id, 0)
        st["votes"][(token, item_id)] = by_token[token][item_id] = dots
        st["dirty"] = True
        return {"ok": True, "mine": mine(token), "at": time.time()}

    wsgi = app.wsgi_app

    def without_compression(environ, start_response):  # as the app: no permessage-deflate
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return wsgi(environ, start_response)

    app.wsgi_app = without_compression
    gc.collect()  # the app server's garbage-collector settings (workshop.quiet_garbage_collector)
    gc.freeze()
    gc.set_threshold(20_000, 10, 10)
    sio.start_background_task(coalescer)
    sio.run(app, host="127.0.0.1", port=port, log_output=False)


@contextlib.contextmanager
def running_bare(tmp_dir: Path):
    """Run the bare server in a subprocess on a free port; yield its base URL."""
    from tests.support import free_port

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(tmp_dir / "bare.log", "w")
    proc = subprocess.Popen([sys.executable, __file__, "--serve-bare", str(port)], cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/", timeout=1).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("bare server did not start:\n"
                                       + (tmp_dir / "bare.log").read_text()) from None
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


# =====================================================================================
# Measuring: percentiles, the server's CPU and memory, the client's own CPU
# =====================================================================================

def pct(values, p):
    """Nearest-rank percentile of a list (None when empty)."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


def ms3(values):
    """'p50/p95/p99' in milliseconds of a list of seconds."""
    if not values:
        return "n/a"
    return "/".join(f"{pct(values, p) * 1000:.0f}" for p in (50, 95, 99))


def server_pid_for(base: str) -> int | None:
    """Find the pid listening on the URL's port (this host only)."""
    import psutil

    port = urlsplit(base).port
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
            return conn.pid
    return None


class ServerMonitor:
    """Sample the server processes' CPU time (summed) and RSS (largest) in a thread; mark phases."""

    def __init__(self, pids: list[int], interval: float = 0.2):
        import psutil

        self.procs = [psutil.Process(pid) for pid in pids]
        self.proc = self.procs[0] if self.procs else None
        self.interval = interval
        self.peak_rss = 0
        self.marks: list[tuple[str, float, float, float]] = []  # (name, wall, server cpu, client cpu)
        self.cpu_samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def cpu(self) -> float:
        if self.proc is None:
            return float("nan")
        try:
            return sum(t.user + t.system for t in (p.cpu_times() for p in self.procs))
        except Exception:
            return float("nan")

    def _run(self):
        while not self._stop.is_set():
            if self.proc is not None:
                try:
                    self.peak_rss = max(self.peak_rss, *(p.memory_info().rss for p in self.procs))
                    self.cpu_samples.append((time.perf_counter(), self.cpu()))
                except Exception:
                    pass
            self._stop.wait(self.interval)

    def start(self):
        self.mark("start")
        self._thread.start()
        return self

    def stop(self):
        self.mark("end")
        self._stop.set()
        self._thread.join(timeout=2)

    def mark(self, name: str):
        t = os.times()
        self.marks.append((name, time.perf_counter(), self.cpu(), t.user + t.system))

    def phases(self):
        """Per phase: (name, wall s, server CPU s, client CPU s)."""
        out = []
        for (name, w0, s0, c0), (_n, w1, s1, c1) in zip(self.marks, self.marks[1:], strict=False):
            out.append((name, w1 - w0, s1 - s0, c1 - c0))
        return out

    def busiest(self, window: float = 2.0) -> float:
        """The server's highest CPU use over any `window` seconds (1.0 = one core)."""
        best, j = 0.0, 0
        s = self.cpu_samples
        for i in range(len(s)):
            while s[i][0] - s[j][0] > window:
                j += 1
            if s[i][0] - s[j][0] >= window * 0.5:
                best = max(best, (s[i][1] - s[j][1]) / (s[i][0] - s[j][0]))
        return best


class LoopLag:
    """Measure how late the client's event loop wakes up (a saturated client distorts latencies).

    Also the load generator's own full garbage collections: 2,000 simulated phones are
    millions of objects in this one process, and a full collection stops every phone and
    the projector at once (real phones are separate devices). `quiet_gc` freezes what the
    join storm made and collects the young generation less often, as the server does.
    """

    def __init__(self, tick: float = 0.05):
        self.tick = tick
        self.lags: list[float] = []
        self.task = None
        self.gc_pauses: list[float] = []
        self._gc_started = 0.0
        gc.callbacks.append(self._gc)

    def _gc(self, phase, info):
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc_pauses.append(time.perf_counter() - self._gc_started)

    @staticmethod
    def quiet_gc():
        gc.collect()
        gc.freeze()
        gc.set_threshold(20_000, 10, 10)

    def take_gc(self) -> list[float]:
        pauses, self.gc_pauses = self.gc_pauses, []
        return pauses

    async def _run(self):
        while True:
            t = time.perf_counter()
            await asyncio.sleep(self.tick)
            self.lags.append(time.perf_counter() - t - self.tick)

    def start(self):
        self.task = asyncio.get_running_loop().create_task(self._run())

    def take(self) -> list[float]:
        lags, self.lags = self.lags, []
        return lags

    def stop(self):
        if self.task:
            self.task.cancel()
        if self._gc in gc.callbacks:
            gc.callbacks.remove(self._gc)
        gc.unfreeze()


# =====================================================================================
# Clients
# =====================================================================================

SKIM = contextvars.ContextVar("skim", default=False)
VIEW_KEYS = ("open", "participants", "phase", "progress", "rendered_at", "stage_id", "timer", "remap")


class SkimJSON:
    """JSON for the Socket.IO clients; on phones, big `view` events skip parsing their HTML.

    The server still renders, compresses and sends every byte, and the client still
    receives and inflates it; only the load generator's json.loads of the HTML (which
    a real phone does on its own CPU) is skipped, so that 2,000 phones fit in one
    process. Works because "html" is the payload's first key (sorted or not) and an
    unescaped `","` only occurs between JSON values, never inside a string.
    """

    dumps = staticmethod(json.dumps)

    @staticmethod
    def loads(text, *args, **kwargs):
        if SKIM.get() and isinstance(text, str) and len(text) > 8192 and text.startswith('["view",{"html":"'):
            cuts = [i for i in (text.rfind(f'","{k}":') for k in VIEW_KEYS) if i > 0]
            if cuts:
                i = min(cuts)
                data = json.loads('["view",{' + text[i + 2:])
                data[1]["html"] = ""
                data[1]["html_chars"] = i - 17
                return data
        return json.loads(text, *args, **kwargs)


class ClientLog(logging.Handler):
    """Count what the Socket.IO/Engine.IO client libraries complain about, instead of printing it."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.counts: Counter = Counter()

    def emit(self, record):
        self.counts[record.getMessage()[:80]] += 1

    def take(self) -> Counter:
        counts, self.counts = self.counts, Counter()
        return counts


CLIENT_LOG = ClientLog()
CLIENT_LOGGER = logging.getLogger("bench.clients")  # given to every client: counted, not printed
CLIENT_LOGGER.setLevel(logging.WARNING)
CLIENT_LOGGER.addHandler(CLIENT_LOG)
CLIENT_LOGGER.propagate = False


def new_http():
    import aiohttp

    # unsafe=True: keep cookies set by an IP-address host (127.0.0.1).
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                 connector=aiohttp.TCPConnector(force_close=True, limit=0),
                                 timeout=aiohttp.ClientTimeout(total=60))


def new_socket(http, reconnect: bool = False):
    import socketio

    # max_msg_size 0: no client-side cap (a browser has none); views can be megabytes.
    # compress 15: offer permessage-deflate as every browser does (the server should decline it).
    return socketio.AsyncClient(reconnection=reconnect, reconnection_delay=0.5, reconnection_attempts=20,
                                handle_sigint=False, http_session=http, request_timeout=30, json=SkimJSON,
                                logger=CLIENT_LOGGER, engineio_logger=CLIENT_LOGGER,
                                websocket_extra_options={"max_msg_size": 0, "compress": 15})


def deflate_in_use(sio) -> bool | None:
    """Tell whether a connected client's WebSocket negotiated permessage-deflate."""
    ws = getattr(getattr(sio, "eio", None), "ws", None)
    return None if ws is None else bool(getattr(ws, "compress", 0))


def session_token(http, base: str, code: str) -> str | None:
    """Read this phone's participant token from its (signed, not encrypted) Flask session cookie."""
    from yarl import URL

    morsel = http.cookie_jar.filter_cookies(URL(base)).get("session")
    if morsel is None:
        return None
    value = morsel.value
    compressed = value.startswith(".")
    raw = value[1:] if compressed else value
    payload = raw.split(".")[0]
    data = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    if compressed:
        data = zlib.decompress(data)
    return (json.loads(data).get("joined") or {}).get(code)


async def csrf(http, url: str) -> str:
    async with http.get(url) as resp:
        text = await resp.text()
        if resp.status != 200:
            raise RuntimeError(f"GET {url}: {resp.status}")
    m = CSRF_RE.search(text)
    if not m:
        raise RuntimeError(f"GET {url}: no csrf_token")
    return m.group(1)


@dataclass
class VoteRec:
    phone: int
    item_id: int
    dots: int
    sent: float                 # client perf_counter when first sent
    acked: float | None = None  # client perf_counter of the ack
    at: float | None = None     # server commit time (epoch s) from the ack
    ok: bool = False
    error: str = ""
    tries: int = 0


class Phone:
    """One simulated phone: its own cookie jar, one WebSocket."""

    def __init__(self, i: int, fleet: Fleet):
        self.i = i
        self.fleet = fleet
        self.http = None
        self.sio = None
        self.token = None
        self.group = GROUPS[i % len(GROUPS)]
        self.connected = False
        self.dropped = ""
        self.join_s = None
        self.error = ""
        self.phase_seen: dict[str, float] = {}
        self.idea_id = None
        self.votes: list[VoteRec] = []
        self.uncertain = False

    def on_view(self, data):
        now = time.perf_counter()
        phase = data.get("phase") if isinstance(data, dict) else None
        if phase and phase not in self.phase_seen:
            self.phase_seen[phase] = now
            self.fleet.saw_phase(phase)
            size = data.get("html_chars") or len(data.get("html") or "")
            self.fleet.view_chars[phase] = max(self.fleet.view_chars.get(phase, 0), size)

    def on_disconnect(self, *reason):
        if self.connected and not self.fleet.closing:
            self.dropped = ", ".join(map(str, reason)) or "no reason"

    async def join(self, sem: asyncio.Semaphore, timeout: float):
        async with sem:
            t0 = time.perf_counter()
            try:
                await asyncio.wait_for(self._join(), timeout)
                self.join_s = time.perf_counter() - t0
            except Exception as e:  # noqa: BLE001 - every failure is a data point
                self.error = f"{type(e).__name__}: {e}"[:200]
                if self.sio is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(self.sio.disconnect(), 5)

    async def _join(self):
        f = self.fleet
        self.http = new_http()
        self.base = f.bases[self.i % len(f.bases)]  # spread over the processes
        url = f"{self.base}/j/{f.code}"
        token = await csrf(self.http, url)
        async with self.http.post(url, data={"csrf_token": token, "group": self.group}) as resp:
            await resp.read()  # follows the redirect to the phone page, like a browser
            if resp.status != 200 or not resp.history:
                raise RuntimeError(f"join POST: {resp.status}")
        self.token = session_token(self.http, self.base, f.code)
        SKIM.set(True)  # this task's socket tasks inherit it: skim this phone's views
        self.sio = new_socket(self.http)
        self.sio.on("view", self.on_view)
        self.sio.on("disconnect", self.on_disconnect)
        await self.sio.connect(self.base, auth={"code": f.code, "role": "phone"},
                               transports=["websocket"], wait_timeout=f.timeout)
        self.connected = True
        reply = await self.sio.call("sync", {}, timeout=f.timeout)  # what the real phone does first
        if not reply or not reply.get("ok"):
            raise RuntimeError(f"sync: {reply}")

    async def add_idea(self, delay: float, timeout: float):
        await asyncio.sleep(delay)
        t0 = time.perf_counter()
        try:
            reply = await self.sio.call("idea:add", {"cid": f"idea-{self.fleet.run_id}-{self.i:05d}",
                                                     "title": f"Idea {self.i:05d} of phone {self.i}"},
                                        timeout=timeout)
        except Exception as e:  # noqa: BLE001
            self.fleet.idea_errors[type(e).__name__] += 1
            return
        self.fleet.idea_lat.append(time.perf_counter() - t0)
        if reply and reply.get("ok"):
            self.idea_id = reply["item"]["id"]
            self.fleet.titles[reply["item"]["title"]] = self.idea_id
        else:
            self.fleet.idea_errors[str((reply or {}).get("error"))[:80]] += 1

    async def vote(self, plan, ack_timeout: float, retries: int):
        """Send the actions one after another (each waits for its ack, like the outbox)."""
        for when, item_id, dots in plan:
            delay = when - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            rec = VoteRec(self.i, item_id, dots, time.perf_counter())
            self.votes.append(rec)
            cid = f"v{self.fleet.run_id}-{self.i:05d}-{len(self.votes)}"
            while rec.tries <= retries:
                rec.tries += 1
                try:
                    reply = await self.sio.call("vote", {"cid": cid, "item_id": item_id, "dots": dots},
                                                timeout=ack_timeout)
                except Exception as e:  # noqa: BLE001 - no ack in time: retry with the same cid
                    rec.error = type(e).__name__
                    continue
                rec.acked = time.perf_counter()
                rec.ok = bool(reply and reply.get("ok"))
                rec.at = (reply or {}).get("at")
                rec.error = "" if rec.ok else str((reply or {}).get("error"))[:80]
                break
            if rec.acked is None:  # never acknowledged: its fate is unknown; stop like a stuck outbox
                self.uncertain = True
                return

    async def close(self):
        with contextlib.suppress(Exception):
            if self.sio is not None and self.sio.connected:
                await asyncio.wait_for(self.sio.disconnect(), 5)
        with contextlib.suppress(Exception):
            if self.http is not None:
                await self.http.close()


class Fleet:
    """The phones, plus counters the phase waits use."""

    def __init__(self, bases: list[str], code: str, n: int, timeout: float, run_id: str):
        self.bases, self.code, self.timeout, self.run_id = bases, code, timeout, run_id
        self.phones = [Phone(i, self) for i in range(n)]
        self.closing = False
        self.phase_counts: Counter = Counter()
        self.phase_events: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self.phase_targets: dict[str, int] = {}
        self.idea_lat: list[float] = []
        self.idea_errors: Counter = Counter()
        self.titles: dict[str, int] = {}
        self.view_chars: dict[str, int] = {}

    def saw_phase(self, phase: str):
        self.phase_counts[phase] += 1
        target = self.phase_targets.get(phase)
        if target is not None and self.phase_counts[phase] >= target:
            self.phase_events[phase].set()

    def expect_phase(self, phase: str, count: int):
        self.phase_targets[phase] = count
        if self.phase_counts[phase] >= count:
            self.phase_events[phase].set()

    async def wait_phase(self, phase: str, timeout: float) -> bool:
        """Wait until every connected phone has seen `phase` (phones that dropped are not waited for)."""
        deadline = time.perf_counter() + timeout
        live = self.live
        while time.perf_counter() < deadline:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.phase_events[phase].wait(), 0.5)
            if all(phase in p.phase_seen or p.dropped for p in live):
                return True
        return False

    @property
    def live(self):
        return [p for p in self.phones if p.connected]


class Screen:
    """The facilitator's console or projector socket; keeps the views' timings, not their HTML."""

    def __init__(self, role: str, http):
        self.role = role
        self.sio = new_socket(http, reconnect=True)  # the real console and projector reconnect
        self.sio.on("view", self.on_view)
        self.sio.on("disconnect", self.on_disconnect)
        self.drops: list[str] = []
        self.closing = False
        # (recv, rendered_at, phase, progress, HTML chars)
        self.views: list[tuple[float, float, str, dict, int]] = []
        self.last_html = ""
        self.changed = asyncio.Event()

    def on_view(self, data):
        now = time.perf_counter()
        self.views.append((now, data.get("rendered_at") or 0.0, data.get("phase"), data.get("progress") or {},
                           len(data.get("html") or "") + sum(map(len, (data.get("parts") or {}).values()))))
        if "html" in data:  # a numbers-only push keeps the view on screen
            self.last_html = data["html"]
        self.changed.set()

    def on_disconnect(self, *reason):
        if not self.closing:
            self.drops.append(", ".join(map(str, reason)) or "no reason")

    async def connect(self, base, code, timeout):
        await self.sio.connect(base, auth={"code": code, "role": self.role}, transports=["websocket"],
                               wait_timeout=timeout)

    async def call(self, event, data, timeout):
        deadline = time.perf_counter() + timeout
        while not self.sio.connected and time.perf_counter() < deadline:  # reconnecting
            await asyncio.sleep(0.1)
        reply = await self.sio.call(event, data, timeout=timeout)
        if not reply or not reply.get("ok"):
            raise RuntimeError(f"{self.role} {event}: {reply}")
        return reply

    @property
    def revealed(self) -> bool:
        """Whether the view on screen draws the results' bars."""
        return 'class="bar-label"' in self.last_html

    async def close(self):
        self.closing = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.sio.disconnect(), 5)


def screen_child(conn, role: str, base: str, code: str, cookies: dict, timeout: float) -> None:
    """A screen in a process of its own (a projector is its own device): it sends the parent
    each view's timings as it arrives, and its drops when told to close."""
    from yarl import URL

    async def main():
        http = new_http()
        http.cookie_jar.update_cookies(cookies, URL(base))
        screen = Screen(role, http)
        on_view = screen.on_view

        def record(data):
            on_view(data)
            conn.send(("view", screen.views[-1], screen.revealed))
        screen.sio.on("view", record)
        await screen.connect(base, code, timeout)
        conn.send(("connected",))
        told = asyncio.Event()
        asyncio.get_running_loop().add_reader(conn.fileno(), told.set)
        await told.wait()
        await screen.close()
        await http.close()
        conn.send(("closed", screen.drops))

    try:
        asyncio.run(main())
    except Exception as e:  # noqa: BLE001 - the parent reports it
        conn.send(("error", f"{type(e).__name__}: {e}"))


class RemoteScreen:
    """The parent's side of a `screen_child`: the same timings as a Screen, kept in the parent."""

    def __init__(self, role: str, http):
        self.role, self.http = role, http
        self.views: list[tuple[float, float, str, dict, int]] = []
        self.revealed = False
        self.drops: list[str] = []
        self.changed = asyncio.Event()
        self.proc = self.conn = None
        self.ready: asyncio.Future | None = None

    def _receive(self):
        while True:
            try:
                if not self.conn.poll():
                    return
                msg = self.conn.recv()
            except (EOFError, OSError):  # the child is gone
                asyncio.get_running_loop().remove_reader(self.conn.fileno())
                if not self.ready.done():
                    self.ready.set_exception(RuntimeError(f"{self.role}: its process exited"))
                return
            if msg[0] == "view":
                self.views.append(msg[1])
                self.revealed = msg[2]
                self.changed.set()
            elif not self.ready.done():
                if msg[0] == "connected":
                    self.ready.set_result(None)
                else:
                    self.ready.set_exception(RuntimeError(f"{self.role}: {msg[1]}"))
            elif msg[0] == "closed":
                self.drops = msg[1]

    async def connect(self, base, code, timeout):
        import multiprocessing

        from yarl import URL

        cookies = {k: m.value for k, m in self.http.cookie_jar.filter_cookies(URL(base)).items()}
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=screen_child, args=(child, self.role, base, code, cookies, timeout),
                                daemon=True)
        self.proc.start()
        child.close()
        loop = asyncio.get_running_loop()
        self.ready = loop.create_future()
        loop.add_reader(self.conn.fileno(), self._receive)
        await asyncio.wait_for(self.ready, timeout + 30)

    async def close(self):
        if self.proc is None:
            return
        with contextlib.suppress(Exception):
            self.conn.send("close")
            await asyncio.get_running_loop().run_in_executor(None, self.proc.join, 10)
            self._receive()
        with contextlib.suppress(Exception):
            asyncio.get_running_loop().remove_reader(self.conn.fileno())
        if self.proc.is_alive():
            self.proc.terminate()
        self.proc = None


# =====================================================================================
# One run: N phones against one server
# =====================================================================================

@dataclass
class Result:
    n: int
    kind: str
    join_s: float | None = None
    join_fail: int = 0
    join_errors: Counter = field(default_factory=Counter)
    join_lat: list = field(default_factory=list)
    idea_lat: list = field(default_factory=list)
    idea_fail: int = 0
    open_vote_all_s: float | None = None
    open_vote_missing: int = 0
    votes_sent: int = 0
    votes_failed: Counter = field(default_factory=Counter)
    vote_window: float = 0.0
    ack: list = field(default_factory=list)
    to_projector: list = field(default_factory=list)
    # the same split at the vote's commit (the ack's `at`, the server's clock = this host's):
    to_commit: list = field(default_factory=list)        # phone sends -> server committed
    commit_to_ack: list = field(default_factory=list)    # committed -> phone has the ack
    commit_to_screen: list = field(default_factory=list)  # committed -> projector has it
    never_on_projector: int = 0
    reveal: list = field(default_factory=list)
    reveal_missing: int = 0
    lost: int | None = None
    duplicated: int | None = None
    pairs_mismatched: int | None = None
    tally_lost: int | None = None
    tally_dup: int | None = None
    progress_check: str = ""
    uncertain_phones: int = 0
    unacked_phones: int = 0
    tally_vs: str = ""
    client_log: Counter = field(default_factory=Counter)
    phone_view_kb: dict = field(default_factory=dict)
    dropped: int = 0
    drop_reasons: Counter = field(default_factory=Counter)
    server_cpu: float | None = None
    peak_rss_mb: float | None = None
    server_busiest: float | None = None
    phases: list = field(default_factory=list)
    client_busiest: tuple = ("", 0.0)
    loop_lag: dict = field(default_factory=dict)
    client_gc: dict = field(default_factory=dict)  # phase -> the load generator's full-GC pauses (s)
    console_views: int = 0
    console_max_kb: float = 0.0
    projector_views: int = 0
    projector_max_kb: float = 0.0
    profile: str = ""
    deflate: bool | None = None
    aborted: str = ""
    notes: list = field(default_factory=list)


async def facilitator(base: str, timeout: float):
    """Sign in as the demo facilitator and create a workshop; return (http session, code)."""
    http = new_http()
    token = await csrf(http, f"{base}/login")
    async with http.post(f"{base}/login", data={"csrf_token": token, "email": "demo@example.org",
                                               "password": "demo-facilitator"},
                         allow_redirects=False) as resp:
        if resp.status != 302 or "/login" in resp.headers.get("Location", "/login"):
            raise RuntimeError(f"login failed: {resp.status}")
    token = await csrf(http, f"{base}/workshops/new")
    async with http.post(f"{base}/workshops/new", allow_redirects=False, data={
            "csrf_token": token, "title": "Benchmark workshop", "topic": "Load",
            "description": "Simulated phones", "groups": "\n".join(GROUPS)}) as resp:
        m = CODE_RE.search(resp.headers.get("Location", ""))
        if resp.status != 302 or not m:
            raise RuntimeError(f"creating the workshop failed: {resp.status}")
    return http, m.group(1)


def start_profile(pid: int, out: str, duration: float):
    """Record the server with py-spy (collapsed stacks) in the background."""
    return subprocess.Popen(["py-spy", "record", "--pid", str(pid), "--duration", str(int(duration)),
                             "--rate", "100", "--format", "raw", "--output", out, "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summarise_profile(path: str, top: int = 12) -> str:
    """Top functions of a collapsed-stack profile: share of samples in which they appear."""
    total, incl, self_ = 0, Counter(), Counter()
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return "(no profile)"
    for line in lines:
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        n = int(n)
        total += n
        frames = stack.split(";")
        for fr in set(frames):
            incl[fr] += n
        self_[frames[-1]] += n
    if not total:
        return "(empty profile)"
    out = [f"  {total} samples; inclusive (app/library frames):"]
    shown = 0
    for fr, n in incl.most_common():
        if any(s in fr for s in ("workshop/", "jinja2", "sqlalchemy", "socketio", "engineio", "json",
                                 "simple_websocket", "wtforms", "flask_")) and n / total < 0.99:
            out.append(f"    {100 * n / total:5.1f}%  {fr}")
            shown += 1
            if shown >= top:
                break
    out.append("  self time:")
    for fr, n in self_.most_common(top):
        out.append(f"    {100 * n / total:5.1f}%  {fr}")
    return "\n".join(out)


async def scenario(bases: list[str], n: int, args, kind: str, db: Path | str | None) -> Result:
    """Run the workshop: console and projector on the last server, phones spread over all of them."""
    import socketio  # noqa: F401 - fail early if the client is missing

    res = Result(n=n, kind=kind)
    rnd = random.Random(args.seed + n)
    run_id = f"{os.getpid()}{n}"
    base = bases[-1]
    pids = [server_pid_for(b) for b in bases]
    pid = pids[-1] if None not in pids else None
    if pid is None:
        res.notes.append("server pid not found: no CPU/RSS")
    elif len(pids) > 1:
        res.notes.append(f"{len(pids)} server processes: CPU s summed over them, peak RSS of the largest; "
                         "console and projector on the last, phones spread over all")
    CLIENT_LOG.take()
    mon = ServerMonitor(pids if pid else []).start()
    lag = LoopLag()
    lag.start()
    T = args.timeout
    fac_http, code = await facilitator(base, T)
    console = Screen("console", fac_http)
    projector = (Screen if args.projector_in_process else RemoteScreen)("projector", fac_http)
    fleet = Fleet(bases, code, n, T, run_id)
    prof = None
    try:
        await console.connect(base, code, T)
        await projector.connect(base, code, T)
        view = (await console.call("sync", {}, T))["view"]
        stage_id = view["stage_id"]

        # --- join storm ---------------------------------------------------------------
        mon.mark("join")
        lag.take()
        sem = asyncio.Semaphore(args.join_concurrency)
        t0 = time.perf_counter()
        await asyncio.gather(*(p.join(sem, T) for p in fleet.phones))
        res.join_s = time.perf_counter() - t0
        failed = [p for p in fleet.phones if p.join_s is None]
        res.join_fail = len(failed)
        res.join_errors = Counter(p.error[:80] for p in failed)
        res.join_lat = [p.join_s for p in fleet.phones if p.join_s is not None]
        res.deflate = next((deflate_in_use(p.sio) for p in fleet.phones if p.connected), None)
        res.loop_lag["join"], res.client_gc["join"] = lag.take(), lag.take_gc()
        if not args.client_gc:
            lag.quiet_gc()
        live = fleet.live

        # --- collect ------------------------------------------------------------------
        mon.mark("collect")
        await console.call("stage:go", {"stage_id": stage_id, "phase": "collect"}, T)
        fleet.expect_phase("collect", len(live))
        if not await fleet.wait_phase("collect", T):
            res.notes.append(f"collect view reached {fleet.phase_counts['collect']}/{len(live)} phones")
        ideas_by = live[: args.ideas] if args.ideas is not None else live
        await asyncio.gather(*(p.add_idea(rnd.uniform(0, args.idea_window), T) for p in ideas_by))
        for k in range(args.console_items):
            reply = await console.call("item:add", {"title": f"Facilitator idea {k}", "detail": ""}, T)
            fleet.titles[reply["item"]["title"]] = reply["item"]["id"]
        res.idea_lat, res.idea_fail = fleet.idea_lat, sum(fleet.idea_errors.values())
        if fleet.idea_errors:
            res.notes.append(f"idea errors: {dict(fleet.idea_errors)}")
        res.loop_lag["collect"], res.client_gc["collect"] = lag.take(), lag.take_gc()

        # --- open voting: every phone gets the ballot ---------------------------------
        mon.mark("open vote")
        fleet.expect_phase("vote", len(live))
        t0 = time.perf_counter()
        await console.call("stage:go", {"stage_id": stage_id, "phase": "vote"}, T)
        await fleet.wait_phase("vote", T)
        got = [p.phase_seen["vote"] - t0 for p in live if "vote" in p.phase_seen]
        res.open_vote_all_s = max(got) if len(got) == len(live) else None
        res.open_vote_missing = len(live) - len(got)
        res.loop_lag["open vote"], res.client_gc["open vote"] = lag.take(), lag.take_gc()

        # --- vote ----------------------------------------------------------------------
        item_ids = sorted(set(fleet.titles.values()))
        if len(item_ids) < 3:
            raise RuntimeError("fewer than 3 ideas to vote on")
        mon.mark("vote")
        W = res.vote_window = args.vote_window
        if args.profile and pid:
            prof_path = f"{args.profile}-{kind}-{n}.txt"
            prof = (start_profile(pid, prof_path, min(args.profile_seconds, W + 5)), prof_path)
        start = time.perf_counter() + 0.2
        tasks = []
        for p in live:
            a, b, c = rnd.sample(item_ids, 3)
            when = sorted(rnd.uniform(0, W) for _ in range(4))
            plan = [(start + when[0], a, 2), (start + when[1], b, 1), (start + when[2], a, 1),
                    (start + when[3], c, 1)]
            tasks.append(p.vote(plan, args.ack_timeout, args.retries))
        await asyncio.wait_for(asyncio.gather(*tasks), W + (args.retries + 1) * args.ack_timeout * 4 + T)
        recs = [r for p in live for r in p.votes]
        res.votes_sent = len(recs)
        res.votes_failed = Counter(r.error or "?" for r in recs if not r.ok)
        res.uncertain_phones = sum(p.uncertain for p in live)
        oks = [r for r in recs if r.ok and r.at is not None]
        res.ack = [r.acked - r.sent for r in oks]
        epoch = time.time() - time.perf_counter()  # perf_counter -> epoch seconds, as `at` is
        res.to_commit = [r.at - (r.sent + epoch) for r in oks]
        res.commit_to_ack = [r.acked + epoch - r.at for r in oks]
        # Wait for a projector view rendered after the last commit (the coalesced refresh).
        last_at = max((r.at for r in oks), default=0)
        deadline = time.perf_counter() + T
        while not any(v[1] >= last_at for v in projector.views) and time.perf_counter() < deadline:
            projector.changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(projector.changed.wait(), 1)
        pviews = [v for v in projector.views if v[1]]
        rendered, recv, run_max = [], [], 0.0
        for v in pviews:  # arrival order; rendered_at should only grow
            run_max = max(run_max, v[1])
            rendered.append(run_max)
            recv.append(v[0])
        for r in oks:
            k = bisect.bisect_left(rendered, r.at)
            if k < len(rendered):
                res.to_projector.append(recv[k] - r.sent)
                res.commit_to_screen.append(recv[k] + epoch - r.at)
            else:
                res.never_on_projector += 1
        final_progress = next((v[3] for v in reversed(projector.views) if v[3]), {})
        res.loop_lag["vote"], res.client_gc["vote"] = lag.take(), lag.take_gc()
        if prof:
            with contextlib.suppress(Exception):
                prof[0].wait(timeout=args.profile_seconds + 30)
            res.profile = f"{prof[1]}\n" + summarise_profile(prof[1])
            prof = None

        # --- reveal ----------------------------------------------------------------------
        mon.mark("reveal")
        fleet.expect_phase("results", len(live))
        t0 = time.perf_counter()
        await console.call("results:reveal", {"stage_id": stage_id, "revealed": "1"}, T)
        await fleet.wait_phase("results", T)
        res.reveal = [p.phase_seen["results"] - t0 for p in live if "results" in p.phase_seen]
        res.reveal_missing = len(live) - len(res.reveal)
        deadline = time.perf_counter() + T
        for screen in (projector, console):  # the console lists every row; the projector the leaders
            while not screen.revealed and time.perf_counter() < deadline:
                screen.changed.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(screen.changed.wait(), 1)
        res.loop_lag["reveal"], res.client_gc["reveal"] = lag.take(), lag.take_gc()
        mon.mark("check")

        # --- lost / duplicated ------------------------------------------------------------
        # Per phone: its allocation after the acknowledged actions; if its last action was
        # never acknowledged, the allocation with that action applied is also correct.
        expected: dict[tuple[str, int], int] = {}
        also_ok: dict[str, dict[int, int]] = {}
        for p in live:
            mine = {}
            for r in p.votes:
                if r.ok:
                    mine[r.item_id] = r.dots
                elif r.acked is None:
                    also_ok[p.token] = {**mine, r.item_id: r.dots}
            for item_id, dots in mine.items():
                expected[(p.token, item_id)] = dots
        stored = None
        if kind == "bare":
            async with fac_http.get(f"{base}/bare/votes") as resp:
                stored = {(t, i): v for t, i, v in (await resp.json())["votes"]}
        elif isinstance(db, str):  # PostgreSQL (scale-out)
            import psycopg

            with psycopg.connect(db) as con:
                stored = {(t, i): v for t, i, v in con.execute(
                    "SELECT p.token, v.item_id, v.value FROM votes v JOIN participants p"
                    " ON p.id = v.participant_id WHERE v.stage_id = %s", (stage_id,))}
        elif db is not None:
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
            try:
                stored = {(t, i): v for t, i, v in con.execute(
                    "SELECT p.token, v.item_id, v.value FROM votes v JOIN participants p"
                    " ON p.id = v.participant_id WHERE v.stage_id = ?", (stage_id,))}
            finally:
                con.close()
        if stored is not None:
            per_phone: dict[str, dict[int, int]] = defaultdict(dict)
            for (tok, item_id), v in stored.items():
                if v:
                    per_phone[tok][item_id] = v
            acked: dict[str, dict[int, int]] = defaultdict(dict)
            for (tok, item_id), v in expected.items():
                if v:
                    acked[tok][item_id] = v
            lost = dup = bad = 0
            for tok in set(acked) | set(per_phone):
                have, want = per_phone.get(tok, {}), acked.get(tok, {})
                if have == want or (tok in also_ok and have == {k: v for k, v in also_ok[tok].items() if v}):
                    continue
                for item_id in set(have) | set(want):
                    e, s_ = want.get(item_id, 0), have.get(item_id, 0)
                    lost += max(e - s_, 0)
                    dup += max(s_ - e, 0)
                    bad += e != s_
            res.lost, res.duplicated, res.pairs_mismatched = lost, dup, bad
            truth = Counter()
            for (_tok, item_id), v in stored.items():
                truth[item_id] += v
            truth_name = "database" if kind == "app" else "bare server store"
        else:
            truth = Counter()
            for (_tok, item_id), v in expected.items():
                truth[item_id] += v
            truth_name = "acknowledged votes"
        res.unacked_phones = len(also_ok)
        tally = {t: int(n) for t, n in BAR_RE.findall(console.last_html)}
        id_title = {i: t for t, i in fleet.titles.items()}
        if tally:
            res.tally_lost = sum(max(v - tally.get(id_title.get(i, "?"), 0), 0) for i, v in truth.items())
            res.tally_dup = sum(max(n - truth[fleet.titles.get(t, -1)], 0) for t, n in tally.items())
            res.tally_vs = truth_name
        else:
            res.notes.append("no revealed tally on the console")
        res.progress_check = (f"projector progress {final_progress} vs {truth_name} "
                              f"{{'voters': {len({t for (t, _i), v in (stored or expected).items() if v})}, "
                              f"'dots': {sum(truth.values())}}}")
        res.console_views, res.projector_views = len(console.views), len(projector.views)
        res.console_max_kb = max((v[4] for v in console.views), default=0) / 1024
        res.projector_max_kb = max((v[4] for v in projector.views), default=0) / 1024
    except Exception as e:  # noqa: BLE001 - report what was measured so far, and why it stopped
        res.aborted = f"{type(e).__name__}: {e}"[:300]
        res.notes.append(f"ABORTED: {res.aborted}")
    finally:
        if prof:
            with contextlib.suppress(Exception):
                prof[0].terminate()
        mon.stop()
        lag.stop()
        res.client_log = CLIENT_LOG.take()
        res.phone_view_kb = {k: round(v / 1024) for k, v in fleet.view_chars.items()}
        res.dropped = sum(bool(p.dropped) for p in fleet.phones)
        res.drop_reasons = Counter(p.dropped for p in fleet.phones if p.dropped)
        fleet.closing = True
        await asyncio.wait_for(asyncio.gather(*(p.close() for p in fleet.phones), return_exceptions=True), 60)
        for scr in (console, projector):
            await scr.close()
            if scr.drops:
                res.notes.append(f"{scr.role} socket dropped {len(scr.drops)}x ({'; '.join(scr.drops[:3])})"
                                 " and reconnected")
        await fac_http.close()
    res.phases = mon.phases()
    marks = {m[0]: m for m in mon.marks}
    res.server_cpu = marks["end"][2] - marks["join"][2] if pid else None
    res.peak_rss_mb = mon.peak_rss / 2**20 if pid else None
    res.server_busiest = mon.busiest() if pid else None
    busiest = max(((name, c / w) for name, w, _s, c in res.phases if w > 0.5),
                  key=lambda x: x[1], default=("", 0))
    res.client_busiest = busiest
    return res


def run_one(n: int, args, kind: str) -> Result:
    """Start a fresh server (unless --url) and run the scenario for N phones, bounded in time."""
    async def go(bases, db):
        return await asyncio.wait_for(scenario(bases, n, args, kind, db), args.run_timeout)

    if args.url:
        db = args.db if args.db and "://" in args.db else Path(args.db) if args.db else None
        return asyncio.run(go([u.rstrip("/") for u in args.url], db))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        try:
            if kind == "bare":
                with running_bare(tmp) as base:
                    return asyncio.run(go([base], None))
            from tests.support import running_server

            env = dict(kv.split("=", 1) for kv in args.server_env)
            if args.processes > 1:
                with scaled_out(tmp, args, env) as (bases, db_url):
                    return asyncio.run(go(bases, db_url))
            with running_server(tmp, **env) as base:
                return asyncio.run(go([base], tmp / "charrette.db"))
        finally:
            if args.logs:
                Path(args.logs).mkdir(parents=True, exist_ok=True)
                for log in tmp.glob("*.log"):
                    (Path(args.logs) / f"{kind}-{n}-{log.name}").write_bytes(log.read_bytes())


@contextlib.contextmanager
def scaled_out(tmp: Path, args, env: dict):
    """Start --processes app servers on a fresh PostgreSQL database and Redis channel; yield URLs."""
    import uuid

    import psycopg

    from tests.support import AppProcess

    name = f"charrette_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.pg, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    db_url = args.pg.rsplit("/", 1)[0] + "/" + name
    env = {"DATABASE_URL": db_url, "REDIS_URL": args.redis, "REDIS_CHANNEL": name, **env}
    servers = [AppProcess(tmp, f"app{k}", **env) for k in range(args.processes)]
    try:
        for server in servers:  # one after another: the first creates the tables and the demo
            server.start()
        yield [server.base for server in servers], db_url
    finally:
        for server in servers:
            server.stop()
        with psycopg.connect(args.pg, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# =====================================================================================
# Output
# =====================================================================================

def fmt(v, spec=".1f", none="n/a"):
    return none if v is None else format(v, spec)


def row(r: Result) -> str:
    rev = f"{pct(r.reveal, 99) * 1000:.0f}" if r.reveal else "n/a"
    if r.reveal_missing:
        rev += f" ({r.reveal_missing} never)"
    ack, proj = ms3(r.ack), ms3(r.to_projector)
    if r.votes_sent and len(r.ack) < r.votes_sent:
        ack += f" ({r.votes_sent - len(r.ack)} of {r.votes_sent} unacked/refused)"
    if r.aborted:
        rev += " ABORTED"
    cells = [f"{r.n}" + (" (bare)" if r.kind == "bare" else ""), fmt(r.join_s), str(r.join_fail),
             ack, proj, rev, fmt(r.lost, "d"), fmt(r.duplicated, "d"),
             fmt(r.server_cpu), fmt(r.peak_rss_mb, ".0f")]
    return "| " + " | ".join(cells) + " |"


HEADER = ("| N | join time (s) | join failures | ack p50/p95/p99 (ms) | vote->projector p50/p95/p99 (ms) "
          "| reveal->all phones p99 (ms) | lost | duplicated | server CPU s | peak RSS MB |\n"
          "|---|---|---|---|---|---|---|---|---|---|")


def ratio_row(app: Result, bare: Result) -> str:
    def r(a, b):
        return "n/a" if a in (None, 0) or b in (None, 0) else f"{a / b:.1f}x"

    def r3(a, b):
        if not a or not b:
            return "n/a"
        return "/".join(r(pct(a, p), pct(b, p)) for p in (50, 95, 99))

    cells = [f"{app.n} app/bare", r(app.join_s, bare.join_s), "", r3(app.ack, bare.ack),
             r3(app.to_projector, bare.to_projector), r(pct(app.reveal, 99), pct(bare.reveal, 99)), "", "",
             r(app.server_cpu, bare.server_cpu), r(app.peak_rss_mb, bare.peak_rss_mb)]
    return "| " + " | ".join(cells) + " |"


def details(r: Result) -> str:
    lines = [f"### N={r.n} ({r.kind})"]
    lines.append(f"- join: per phone p50/p95/p99 {ms3(r.join_lat)} ms"
                 + (f"; errors {dict(r.join_errors)}" if r.join_errors else ""))
    lines.append(f"- ideas: ack p50/p95/p99 {ms3(r.idea_lat)} ms, failures {r.idea_fail}")
    lines.append(f"- permessage-deflate offered by the phones (as browsers do), negotiated: {r.deflate}")
    lines.append(f"- open voting -> every phone has the ballot: {fmt(r.open_vote_all_s, '.2f')} s"
                 + (f" ({r.open_vote_missing} phones never got it)" if r.open_vote_missing else ""))
    lines.append(f"- votes: {r.votes_sent} actions over a {r.vote_window:g} s window "
                 f"(offered {r.votes_sent / r.vote_window if r.vote_window else 0:.0f}/s), "
                 f"failed {dict(r.votes_failed) or 0}, "
                 f"phones with an unacknowledged vote {r.uncertain_phones}, "
                 f"acked votes never seen on the projector {r.never_on_projector}")
    if r.ack:
        lines.append(f"- ack max {max(r.ack) * 1000:.0f} ms; vote->projector max "
                     f"{max(r.to_projector) * 1000 if r.to_projector else float('nan'):.0f} ms; "
                     f"reveal->all phones max {max(r.reveal) * 1000 if r.reveal else float('nan'):.0f} ms")
        lines.append(f"- where a vote's time goes, p50/p95/p99 ms: phone sends -> committed "
                     f"{ms3(r.to_commit)}; committed -> ack at the phone {ms3(r.commit_to_ack)}; "
                     f"committed -> on the projector {ms3(r.commit_to_screen)} (coalesced every "
                     f"PUSH_INTERVAL)")
    lines.append(f"- check: {r.pairs_mismatched} mismatched phone+idea pairs (acknowledged votes vs the "
                 f"database; {r.unacked_phones} phones whose last vote had no ack may show it or not); "
                 f"revealed tally vs "
                 f"{r.tally_vs or 'n/a'}: lost {fmt(r.tally_lost, 'd')}, extra {fmt(r.tally_dup, 'd')} dots; "
                 f"{r.progress_check}")
    if r.phone_view_kb:
        lines.append(f"- largest phone view per phase (KB of HTML): {r.phone_view_kb}")
    if r.client_log:
        lines.append(f"- client library warnings: {dict(r.client_log.most_common(5))}")
    lines.append(f"- phone sockets dropped during the run: {r.dropped}"
                 + (f" {dict(r.drop_reasons)}" if r.drop_reasons else "")
                 + f"; views received: console {r.console_views} "
                 f"(largest {r.console_max_kb:.0f} KB), projector {r.projector_views} "
                 f"(largest {r.projector_max_kb:.0f} KB)")
    ph = "; ".join(f"{name} {w:.1f}s wall, server {s:.1f} / client {c:.1f} CPU s"
                   for name, w, s, c in r.phases if name != "start")
    lines.append(f"- phases: {ph}")
    lag = "; ".join(f"{k} p99 {pct(v, 99) * 1000:.0f} ms / max {max(v) * 1000:.0f} ms"
                    for k, v in r.loop_lag.items() if v)
    pauses = "; ".join(f"{k} {len(v)} ({max(v) * 1000:.0f} ms longest)" for k, v in r.client_gc.items() if v)
    lines.append(f"- load generator's full garbage collections: {pauses or 'none'}")
    lines.append(f"- server busiest 2 s: {fmt(r.server_busiest, '.0%')} of a core; load generator busiest "
                 f"phase: {r.client_busiest[0]} at {r.client_busiest[1]:.0%} of a core; "
                 f"its event-loop lag: {lag}")
    if r.client_busiest[1] > 0.9:
        lines.append("- NOTE: the load generator saturated a core in that phase; its latencies include "
                     "client-side queueing (see the loop lag)")
    for note in r.notes:
        lines.append(f"- note: {note}")
    if r.profile:
        lines.append("- py-spy profile of the server during the vote phase: " + r.profile)
    return "\n".join(lines)


# =====================================================================================

def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--phones", type=int, nargs="+", default=[250, 1000, 2000], help="N values")
    ap.add_argument("--bare", action="store_true",
                    help="also run each N against a bare Flask-SocketIO server")
    ap.add_argument("--url", nargs="+", help="use running servers instead of starting them (127.0.0.1 "
                    "only); several: phones spread over all, console and projector on the last")
    ap.add_argument("--db", help="with --url: its SQLite file or PostgreSQL URL (lost/duplicated check)")
    ap.add_argument("--processes", type=int, default=1,
                    help="scale-out: start this many app processes sharing PostgreSQL and Redis")
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test",
                    help="with --processes: PostgreSQL to create a fresh database in")
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="with --processes: Redis URL")
    ap.add_argument("--ideas", type=int, default=None,
                    help="how many phones add an idea (default: every phone)")
    ap.add_argument("--console-items", type=int, default=2, help="ideas the facilitator adds (item:add)")
    ap.add_argument("--idea-window", type=float, default=5.0, help="seconds over which the ideas arrive")
    ap.add_argument("--vote-window", type=float, default=5.0, help="seconds over which the votes arrive")
    ap.add_argument("--join-concurrency", type=int, default=100, help="phones joining at the same time")
    ap.add_argument("--ack-timeout", type=float, default=10.0, help="vote ack timeout (as on the phone)")
    ap.add_argument("--retries", type=int, default=1, help="resends of an unacknowledged vote (same cid)")
    ap.add_argument("--timeout", type=float, default=120.0, help="timeout of each step/phase wait")
    ap.add_argument("--run-timeout", type=float, default=900.0, help="hard limit of one N")
    ap.add_argument("--client-gc", action="store_true",
                    help="leave the load generator's garbage collector as Python sets it (its full "
                         "collections then stall every simulated phone at once)")
    ap.add_argument("--projector-in-process", action="store_true",
                    help="run the projector's socket in the load generator's event loop, with the 2,000 "
                         "phones (before 2026-12-03), not in a process of its own")
    ap.add_argument("--profile", metavar="PREFIX",
                    help="py-spy record the server during the vote phase to PREFIX-KIND-N.txt (collapsed)")
    ap.add_argument("--profile-seconds", type=float, default=10.0)
    ap.add_argument("--server-env", metavar="KEY=VALUE", nargs="*", default=[],
                    help="extra environment for the app server, e.g. PUSH_INTERVAL=0.5")
    ap.add_argument("--logs", metavar="DIR", help="keep the servers' logs in DIR")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", metavar="PATH", help="also write the raw results as JSON")
    args = ap.parse_args(argv)
    if args.url and any(urlsplit(u).hostname not in ("127.0.0.1", "localhost", "::1") for u in args.url):
        ap.error("--url must point at this machine")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    import signal

    signal.signal(signal.SIGTERM, lambda *_a: sys.exit(143))  # stop the servers we started, then exit
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(soft, min(hard, 65536)) if hard != resource.RLIM_INFINITY else 65536
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))  # the server child inherits it too
    need = 3 * max(args.phones) + 200
    if want < need:
        print(f"warning: open-file limit {want} < {need} needed for {max(args.phones)} phones",
              file=sys.stderr)
    results: list[tuple[Result, Result | None]] = []
    for n in args.phones:
        print(f"[bench] N={n}: app ...", file=sys.stderr, flush=True)
        t = time.perf_counter()
        app = run_one(n, args, "app")
        print(f"[bench] N={n}: app done in {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
        bare = None
        if args.bare and not args.url:
            t = time.perf_counter()
            bare = run_one(n, args, "bare")
            print(f"[bench] N={n}: bare done in {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
        results.append((app, bare))
        for r in (app, bare) if bare else (app,):
            print(f"[bench] {row(r)}", file=sys.stderr, flush=True)

    where = (f"{args.processes} app processes on PostgreSQL + Redis, phones spread over them, console and "
             "projector on the last; " if args.processes > 1 else "")
    print(f"\nLoad: {where}{' '.join(map(str, args.phones))} phones; "
          f"joins {args.join_concurrency} at a time; "
          f"ideas over {args.idea_window:g} s; 4 vote actions per phone over {args.vote_window:g} s; "
          f"one load-generator process (asyncio, python-socketio AsyncClient over WebSocket; phones skip "
          f"json-parsing the HTML of big views, which the server still renders, compresses and sends).\n")
    print(HEADER)
    for app, _bare in results:
        print(row(app))
    if any(b for _a, b in results):
        for _app, bare in results:
            if bare:
                print(row(bare))
        for app, bare in results:
            if bare:
                print(ratio_row(app, bare))
    print("\nlost/duplicated: dots (acknowledged last value per phone and idea vs the database). "
          "Join: HTTP join + socket connected + first sync ack, all N phones.")
    print()
    for app, bare in results:
        print(details(app))
        if bare:
            print(details(bare))
    if args.json:
        Path(args.json).write_text(json.dumps([[vars(a), vars(b) if b else None] for a, b in results],
                                              default=str, indent=1))
    return 0


if __name__ == "__main__":
    if "--serve-bare" in sys.argv:
        serve_bare(int(sys.argv[sys.argv.index("--serve-bare") + 1]))
    else:
        sys.exit(main())
