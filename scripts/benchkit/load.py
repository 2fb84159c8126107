"""Generate the load: simulated phones and their fleet, the facilitator's sign-in, HTTP and socket helpers."""
from __future__ import annotations

import asyncio
import base64
import contextlib
import contextvars
import json
import logging
import re
import time
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass

GROUPS = ["Government", "Civil society", "UN / donor", "Creative partner", "Youth", "Other"]
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CODE_RE = re.compile(r"/w/([^/]+)/console")
VERSION_RE = re.compile(rb'data-version="(\d+)"')  # the phone page's workshop version (live.js)

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
        """Parse an event; in a phone's task, keep a big view's fields but not its HTML."""
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
        """Count a message by its first 80 characters."""
        self.counts[record.getMessage()[:80]] += 1

    def take(self) -> Counter:
        """Return the counts since the last call."""
        counts, self.counts = self.counts, Counter()
        return counts


CLIENT_LOG = ClientLog()
CLIENT_LOGGER = logging.getLogger("bench.clients")  # given to every client: counted, not printed
CLIENT_LOGGER.setLevel(logging.WARNING)
CLIENT_LOGGER.addHandler(CLIENT_LOG)
CLIENT_LOGGER.propagate = False


def new_http():
    """Open an HTTP session with its own cookie jar, as a browser of its own."""
    import aiohttp

    # unsafe=True: keep cookies set by an IP-address host (127.0.0.1).
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                 connector=aiohttp.TCPConnector(force_close=True, limit=0),
                                 timeout=aiohttp.ClientTimeout(total=60))


def new_socket(http, reconnect: bool = False):
    """Make a Socket.IO client on an HTTP session's cookies, set up as a browser's."""
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
    """GET a form page; return its CSRF token."""
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
    """One vote action of a phone, and what became of it."""

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
        """Note when this phone first sees each phase, and the size of its view."""
        now = time.perf_counter()
        phase = data.get("phase") if isinstance(data, dict) else None
        if phase and phase not in self.phase_seen:
            self.phase_seen[phase] = now
            self.fleet.saw_phase(phase)
            size = data.get("html_chars") or len(data.get("html") or "")
            self.fleet.view_chars[phase] = max(self.fleet.view_chars.get(phase, 0), size)

    def on_disconnect(self, *reason):
        """Note why the socket dropped, unless the run is closing it."""
        if self.connected and not self.fleet.closing:
            self.dropped = ", ".join(map(str, reason)) or "no reason"

    async def join(self, sem: asyncio.Semaphore, timeout: float):
        """Join within `timeout`, at most `sem` phones at a time; keep the time or the error."""
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
        """Join over HTTP, connect the socket with the session cookie and sync."""
        f = self.fleet
        self.http = new_http()
        self.base = f.bases[self.i % len(f.bases)]  # spread over the processes
        url = f"{self.base}/j/{f.code}"
        token = await csrf(self.http, url)
        async with self.http.post(url, data={"csrf_token": token, "group": self.group}) as resp:
            page = await resp.read()  # the phone page, or a redirect to it (followed, like a browser)
            if resp.status != 200 or not (resp.history or b'data-role="phone"' in page):
                raise RuntimeError(f"join POST: {resp.status}")
        self.token = session_token(self.http, self.base, f.code)
        SKIM.set(True)  # this task's socket tasks inherit it: skim this phone's views
        self.sio = new_socket(self.http)
        self.sio.on("view", self.on_view)
        self.sio.on("disconnect", self.on_disconnect)
        # As live.js: a page drawn from a workshop version connects with it and syncs only if told
        # "stale"; a page without one syncs first.
        drawn = VERSION_RE.search(page)
        auth = {"code": f.code, "role": "phone"}
        stale = asyncio.Event()
        if drawn:
            auth["version"] = int(drawn[1])
            self.sio.on("stale", stale.set)
        await self.sio.connect(self.base, auth=auth, transports=["websocket"], wait_timeout=f.timeout)
        self.connected = True
        if not drawn or stale.is_set():
            reply = await self.sio.call("sync", {}, timeout=f.timeout)
            if not reply or not reply.get("ok"):
                raise RuntimeError(f"sync: {reply}")

    async def add_idea(self, delay: float, timeout: float):
        """Wait `delay` seconds, then add an idea and time its ack."""
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
        """Disconnect the socket and close the HTTP session."""
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
        """Count one more phone that has seen `phase`; wake the wait once all expected have."""
        self.phase_counts[phase] += 1
        target = self.phase_targets.get(phase)
        if target is not None and self.phase_counts[phase] >= target:
            self.phase_events[phase].set()

    def expect_phase(self, phase: str, count: int):
        """Say how many phones should see `phase`."""
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
        """The phones whose socket connected."""
        return [p for p in self.phones if p.connected]


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

