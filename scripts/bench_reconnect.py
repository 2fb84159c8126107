"""The reconnect storm: N phones mid-vote, the server restarted, every phone back (a benchmark, not a test).

    python scripts/bench_reconnect.py --phones 500
    python scripts/bench_reconnect.py --phones 2000 --jitter 0     # every phone retries at the same moment
    python scripts/bench_reconnect.py --phones 1000 --checkout ../before

One app process (SQLite file, gevent), as scripts/bench.py starts it. The facilitator signs in,
creates a workshop, 12 phones add ideas and the console opens the vote. N phones join over HTTP
and connect a WebSocket; each casts a first dot (acknowledged). Then, while the phones go on
voting (each a list of absolute dot actions sent through an outbox, one after another, as
static/js/live.js does: an action stays queued until it is acknowledged, and is sent again with
the same client id after a reconnect), the server is killed (SIGKILL, a pulled plug) and started
again. Every phone then casts one more dot while it is offline (it goes into its outbox), and
reconnects with the back-off of the real phone (RECONNECT: live.js's Socket.IO options,
Engine.IO's Backoff formula): a random 0-2 s, doubling to 5 s. Once connected it syncs (the
whole view) and then flushes its outbox.

Printed: time from the kill to the server answering again; from then to every phone back
and synced (p50/p95/max per phone, and all); connection attempts, and the most in any 100 ms,
since the kill and after the server answered again (the spread the jitter gives; an attempt
made while the new process starts may wait in its listening socket's backlog); acknowledged
actions lost (a phone's dots in the database are not what its acknowledged actions set),
duplicated (a dot counted twice: the database's total against the phones' own); outage taps
delivered; server CPU of the restarted process.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import math
import random
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.benchkit.load import facilitator, new_http, new_socket  # noqa: E402
from scripts.benchkit.screens import Screen  # noqa: E402
from tests.support import AppProcess  # noqa: E402

# static/js/live.js: io({reconnectionDelay: 1000, randomizationFactor: 1, reconnectionDelayMax: 5000})
RECONNECT = {"delay": 1.0, "factor": 2, "jitter": 1.0, "max": 5.0}


def backoff(attempt: int, rnd: random.Random, jitter: float) -> float:
    """Seconds before reconnection attempt `attempt` (0, 1, ...): Engine.IO client's Backoff.duration."""
    ms = RECONNECT["delay"] * 1000 * RECONNECT["factor"] ** attempt
    if jitter:
        rand = rnd.random()
        deviation = math.floor(rand * jitter * ms)
        ms = ms - deviation if (math.floor(rand * 10) & 1) == 0 else ms + deviation
    return min(ms, RECONNECT["max"] * 1000) / 1000


class Phone:
    """A phone with an outbox: absolute dot actions, each resent with its client id until acknowledged."""

    def __init__(self, i: int, run):
        self.i, self.run = i, run
        self.http = self.sio = None
        self.outbox: list[tuple[str, int, int]] = []  # (cid, item_id, dots)
        self.acked: dict[str, tuple[int, int]] = {}   # cid -> (item_id, dots), acknowledged ok
        self.expected: dict[int, int] = {}            # item -> dots, after every action of its plan
        self.connected = asyncio.Event()
        self.synced_at: float | None = None
        self.attempts: list[float] = []
        self.wake = asyncio.Event()
        self.n = 0

    async def join(self):
        """Join over HTTP (QR URL, POST), then connect and sync."""
        from scripts.benchkit.load import VERSION_RE, csrf

        base, code = self.run.base, self.run.code
        self.http = new_http()
        token = await csrf(self.http, f"{base}/j/{code}")
        async with self.http.post(f"{base}/j/{code}", data={"csrf_token": token, "group": "Youth"}) as resp:
            page = await resp.read()
            if resp.status != 200 or b'data-role="phone"' not in page:
                raise RuntimeError(f"join: {resp.status}")
        drawn = VERSION_RE.search(page)
        await self.connect(int(drawn[1]) if drawn else None)

    async def connect(self, version: int | None = None):
        """Open the socket with the session cookie, sync as live.js does, then flush the outbox.

        The first connection of a page drawn at `version` syncs only if the server says "stale";
        a reconnection always syncs.
        """
        self.sio = new_socket(self.http)  # no reconnection of its own: `reconnect` below is live.js's
        self.sio.on("disconnect", self.on_disconnect)
        stale = asyncio.Event()
        self.sio.on("stale", stale.set)
        auth = {"code": self.run.code, "role": "phone"}
        if version is not None:
            auth["version"] = version
        await self.sio.connect(self.run.base, auth=auth, transports=["websocket"], wait_timeout=30)
        if version is None or stale.is_set():
            reply = await self.sio.call("sync", {}, timeout=60)
            if not reply or not reply.get("ok"):
                raise RuntimeError(f"sync: {reply}")
        self.connected.set()
        self.wake.set()

    def on_disconnect(self, *_reason):
        if self.connected.is_set() and not self.run.closing:
            self.connected.clear()
            self.synced_at = None
            asyncio.get_running_loop().create_task(self.reconnect())

    async def reconnect(self):
        """Retry with live.js's back-off until connected and synced."""
        attempt = 0
        while not self.run.closing:
            await asyncio.sleep(backoff(attempt, self.run.rnd, self.run.args.jitter))
            attempt += 1
            self.attempts.append(time.perf_counter())
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.sio.disconnect(), 2)
            try:
                await self.connect()
            except Exception:  # noqa: BLE001 - the server is not back yet: try again later
                continue
            self.synced_at = time.perf_counter()
            return

    def cast(self, item_id: int, dots: int):
        """Queue an absolute action (a tap), as the outbox does; the sender delivers it."""
        self.n += 1
        self.outbox.append((f"r{self.run.run_id}-{self.i:05d}-{self.n:03d}", item_id, dots))
        self.expected[item_id] = dots
        self.wake.set()

    async def sender(self):
        """Send the outbox's head when connected; keep it until acknowledged (10 s, as live.js)."""
        while not self.run.closing:
            if not self.outbox or not self.connected.is_set():
                self.wake.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), 1)
                continue
            cid, item_id, dots = self.outbox[0]
            try:
                reply = await self.sio.call("vote", {"cid": cid, "item_id": item_id, "dots": dots},
                                            timeout=10)
            except Exception:  # noqa: BLE001 - no ack: kept, sent again after the reconnect
                await asyncio.sleep(0.2)
                continue
            self.outbox.pop(0)
            if reply and reply.get("ok"):
                self.acked[cid] = (item_id, dots)
            else:
                self.run.refused[str((reply or {}).get("error"))[:60]] += 1


class Run:
    def __init__(self, args):
        self.args = args
        self.rnd = random.Random(args.seed)
        self.run_id = str(int(time.time()) % 100000)
        self.closing = False
        self.refused: Counter = Counter()

    async def main(self, server: AppProcess, db: Path):
        args, n = self.args, self.args.phones
        self.base = server.base
        fac_http, self.code = await facilitator(self.base, 60)
        console = Screen("console", fac_http)
        await console.connect(self.base, self.code, 60)
        phones = [Phone(i, self) for i in range(n)]
        sem = asyncio.Semaphore(args.concurrency)

        async def join(p):
            async with sem:
                await p.join()

        t0 = time.perf_counter()
        stage = (await console.call("sync", {}, 60))["view"]["stage_id"]
        await console.call("stage:go", {"stage_id": stage, "phase": "collect"}, 60)
        await asyncio.gather(*(join(p) for p in phones))
        print(f"{n} phones joined in {time.perf_counter() - t0:.1f} s", flush=True)
        gc.collect()
        gc.freeze()  # as bench.py: the load generator's own full collections would pause every phone
        items = []
        for k in range(12):
            reply = await phones[k].sio.call("idea:add", {"cid": f"idea-{self.run_id}-{k:04d}",
                                                          "title": f"Reconnect idea {k}"}, timeout=60)
            items.append(reply["item"]["id"])
        await console.call("stage:go", {"stage_id": stage, "phase": "vote"}, 60)
        await console.close()
        senders = [asyncio.create_task(p.sender()) for p in phones]
        for p in phones:  # a first dot each, acknowledged before the outage
            p.cast(items[p.i % 12], 1)
        await self.until(lambda: all(not p.outbox for p in phones), 120, "first votes")
        # Mid-vote: phones keep tapping over the next seconds (some in flight when the plug is pulled).
        for p in phones:
            asyncio.get_running_loop().call_later(self.rnd.uniform(0, args.vote_window), p.cast,
                                                  items[(p.i + 1) % 12], 1)
        await asyncio.sleep(args.vote_window / 2)
        acked_before = sum(len(p.acked) for p in phones)
        killed = time.perf_counter()
        server.kill()
        await asyncio.sleep(0.5)
        for p in phones:  # a tap while offline: into the outbox
            p.cast(items[(p.i + 2) % 12], 1)
        await asyncio.get_running_loop().run_in_executor(None, server.start, 120)
        up = time.perf_counter()
        pid = server.proc.pid
        cpu0 = _cpu(pid)
        print(f"server killed with {acked_before} actions acknowledged; answering again after "
              f"{up - killed:.1f} s", flush=True)
        await self.until(lambda: all(p.connected.is_set() for p in phones), args.timeout, "reconnects")
        back = time.perf_counter()
        await self.until(lambda: all(not p.outbox for p in phones), args.timeout, "outboxes")
        delivered = time.perf_counter()
        cpu = _cpu(pid) - cpu0 if pid else float("nan")
        self.closing = True
        for task in senders:
            task.cancel()
        await asyncio.gather(*(self.close(p) for p in phones), return_exceptions=True)
        self.report(phones, db, killed, up, back, delivered, cpu)

    async def until(self, done, timeout: float, what: str):
        deadline = time.perf_counter() + timeout
        while not done():
            if time.perf_counter() > deadline:
                raise SystemExit(f"timed out waiting for {what}")
            await asyncio.sleep(0.05)

    @staticmethod
    async def close(p):
        with contextlib.suppress(Exception):
            await asyncio.wait_for(p.sio.disconnect(), 5)
        with contextlib.suppress(Exception):
            await p.sio.eio.http.close()
        with contextlib.suppress(Exception):
            await p.http.close()

    def report(self, phones, db: Path, killed, up, back, delivered, cpu):
        n = len(phones)
        per_phone = sorted((p.synced_at or back) - up for p in phones)
        attempts = sorted(t for p in phones for t in p.attempts)  # all since the kill
        windows = Counter(int((t - killed) * 10) for t in attempts)
        after = [t for t in attempts if t >= up]
        after_windows = Counter(int((t - up) * 10) for t in after)
        stored = _stored(db)
        lost = sum(1 for p in phones if stored.get(p.i, {}) != {k: v for k, v in p.expected.items() if v})
        total_db = sum(sum(v.values()) for v in stored.values())
        total_phones = sum(sum(p.expected.values()) for p in phones)
        print(f"\nreconnect storm, {n} phones, back-off jitter {self.args.jitter} (live.js: 1.0)")
        print(f"  server down (kill -> answering again)      {up - killed:6.1f} s")
        print(f"  restart -> every phone back and synced     {back - up:6.1f} s   (per phone p50 "
              f"{_pct(per_phone, 50):.1f} / p95 {_pct(per_phone, 95):.1f} / max {per_phone[-1]:.1f} s)")
        print(f"  restart -> every outbox delivered          {delivered - up:6.1f} s")
        print(f"  connection attempts since the kill         {len(attempts)} "
              f"(most in one 100 ms: {max(windows.values()) if windows else 0}); after the restart "
              f"{len(after)} (most in one 100 ms: {max(after_windows.values()) if after_windows else 0})")
        print(f"  actions acknowledged                       {sum(len(p.acked) for p in phones)} "
              f"of {sum(p.n for p in phones)} (refused: {dict(self.refused) or 0})")
        print(f"  phones whose stored dots differ (lost)     {lost}")
        print(f"  dots stored / dots the phones set (dupes)  {total_db} / {total_phones}")
        print(f"  outage taps delivered                      {sum(1 for p in phones if not p.outbox)} of {n}")
        print(f"  server CPU after the restart               {cpu:6.1f} s", flush=True)


def _stored(db: Path) -> dict[int, dict[int, int]]:
    """Each phone's dots in the database, by the phone's number (its cids say which phone)."""
    out: dict[int, dict[int, int]] = {}
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT client_id, item_id, value, participant_id FROM votes").fetchall()
        by_participant: dict[int, int] = {}
        for cid, _item, _value, pid in rows:
            if cid and cid.startswith("r"):
                by_participant[pid] = int(cid.split("-")[1])
        for _cid, item, value, pid in rows:
            if pid in by_participant and value:
                out.setdefault(by_participant[pid], {})[item] = value
    return out


def _cpu(pid) -> float:
    try:
        import psutil
        t = psutil.Process(pid).cpu_times()
        return t.user + t.system
    except Exception:  # noqa: BLE001
        return float("nan")


def _pct(values, p):
    return values[min(len(values) - 1, int(len(values) * p / 100))] if values else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--phones", type=int, default=500)
    ap.add_argument("--jitter", type=float, default=RECONNECT["jitter"],
                    help="randomizationFactor of the back-off (live.js: 1; 0: every phone at once)")
    ap.add_argument("--vote-window", type=float, default=6.0,
                    help="seconds over which the mid-vote taps come (the kill is half way)")
    ap.add_argument("--concurrency", type=int, default=200, help="phones joining at a time")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument("--checkout", help="run the app of another checkout (its wsgi.py)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        server = AppProcess(tmp, "app", root=Path(args.checkout or ROOT))
        server.start(120)
        try:
            asyncio.run(Run(args).main(server, tmp / "charrette.db"))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
