"""Play the workshop against running servers: joins, ideas, votes, reveal, then check every dot."""
from __future__ import annotations

import asyncio
import bisect
import contextlib
import os
import random
import re
import sqlite3
import time
from collections import Counter, defaultdict
from pathlib import Path

from .load import CLIENT_LOG, Fleet, deflate_in_use, facilitator, new_http, new_socket
from .monitor import LoopLag, ServerMonitor, server_pid_for, start_profile, summarise_profile
from .report import Result
from .screens import RemoteScreen, Screen

BAR_RE = re.compile(r'<div class="bar-label">(.*?)</div>.*?<span class="score">(\d+)', re.S)
VOTES_SQL = ("SELECT p.token, v.item_id, v.value FROM votes v JOIN participants p"
             " ON p.id = v.participant_id WHERE v.stage_id = {}")


async def scenario(bases: list[str], n: int, args, kind: str, db: Path | str | None) -> Result:
    """Run the workshop: console and projector on the last server, phones spread over all of them."""
    return await Scenario(bases, n, args, kind, db).run()


CORES = os.sched_getaffinity(0)  # as the run started: `pin` narrows this process's own


def pin(server_pid: int) -> str:
    """Put the server (each of its threads) on the first core and this load generator on the second (its
    projector process, started later, inherits it); say what was done."""
    cores = sorted(CORES)
    if len(cores) < 2:
        return "not pinned: one core"
    for task in os.listdir(f"/proc/{server_pid}/task"):
        os.sched_setaffinity(int(task), {cores[0]})
    os.sched_setaffinity(0, set(cores[1:]))
    return f"pinned: server on core {cores[0]}, load generator on {', '.join(map(str, cores[1:]))}"


class Scenario:
    """One run of the workshop for N phones: a method per phase, what it measures in `res`."""

    def __init__(self, bases: list[str], n: int, args, kind: str, db: Path | str | None):
        import socketio  # noqa: F401 - fail early if the client is missing

        self.bases, self.args, self.kind, self.db = bases, args, kind, db
        self.T = args.timeout
        self.res = Result(n=n, kind=kind)
        self.rnd = random.Random(args.seed + n)
        self.run_id = f"{os.getpid()}{n}"
        self.base = bases[-1]
        self.pids = [server_pid_for(b) for b in bases]
        self.pid = self.pids[-1] if None not in self.pids else None
        if self.pid is None:
            self.res.notes.append("server pid not found: no CPU/RSS")
        elif len(self.pids) > 1:
            self.res.notes.append(f"{len(self.pids)} server processes: CPU s summed over them, peak RSS of "
                                  "the largest; console and projector on the last, phones spread over all")
        if self.pid and len(self.pids) == 1 and getattr(args, "pin", False) and not args.url:
            self.res.notes.append(pin(self.pid))
        self.live = []
        self.stage_id = None
        self.prof = None
        self.final_progress = {}

    async def run(self) -> Result:
        """Play every phase in order; on a failure keep what was measured and say why it stopped."""
        CLIENT_LOG.take()
        self.mon = ServerMonitor(self.pids if self.pid else []).start()
        self.lag = LoopLag()
        self.lag.start()
        self.fac_http, code = await facilitator(self.base, self.T)
        self.console = Screen("console", self.fac_http)
        projector = Screen if self.args.projector_in_process else RemoteScreen
        self.projector = projector("projector", self.fac_http)
        self.fleet = Fleet(self.bases, code, self.res.n, self.T, self.run_id)
        try:
            await self.open_screens()
            if self.res.kind == "bare":
                await self.sockets_alone()
            await self.join()
            if not self.args.join_only:
                await self.collect()
                await self.open_vote()
                await self.vote()
                await self.reveal()
                await self.check()
        except Exception as e:  # noqa: BLE001 - report what was measured so far, and why it stopped
            self.res.aborted = f"{type(e).__name__}: {e}"[:300]
            self.res.notes.append(f"ABORTED: {self.res.aborted}")
        finally:
            await self.close()
        self.summarise_server()
        return self.res

    def phase_done(self, name: str) -> None:
        """Keep the load generator's loop lag and full collections of the phase that ends."""
        self.res.loop_lag[name], self.res.client_gc[name] = self.lag.take(), self.lag.take_gc()

    async def open_screens(self) -> None:
        """Connect the console and the projector; learn the stage from the console's view."""
        await self.console.connect(self.base, self.fleet.code, self.T)
        await self.projector.connect(self.base, self.fleet.code, self.T)
        view = (await self.console.call("sync", {}, self.T))["view"]
        self.stage_id = view["stage_id"]

    async def sockets_alone(self) -> None:
        """Connect N sockets to the bare server and close them again: no HTTP join, nothing else.

        The issue's reference for the join storm ("the bare server's connect time for N sockets"); the
        bare server's whole join (the same HTTP steps as the app's, then the socket) follows as usual.
        """
        sem = asyncio.Semaphore(self.args.join_concurrency)
        https = [new_http() for _ in range(self.res.n)]
        sockets = []

        async def connect(http):
            async with sem:
                sockets.append(new_socket(http))
                await sockets[-1].connect(self.base, auth={"role": "probe"}, transports=["websocket"],
                                          wait_timeout=self.T)
        t0 = time.perf_counter()
        outcomes = await asyncio.gather(*(connect(http) for http in https), return_exceptions=True)
        self.res.sockets_alone_s = time.perf_counter() - t0
        self.res.sockets_alone_fail = sum(isinstance(outcome, BaseException) for outcome in outcomes)
        await asyncio.gather(*(sio.disconnect() for sio in sockets), return_exceptions=True)
        await asyncio.gather(*(http.close() for http in https), return_exceptions=True)

    async def join(self) -> None:
        """Join every phone (HTTP join, socket, first sync), --join-concurrency at a time."""
        res, fleet = self.res, self.fleet
        self.mon.mark("join")
        self.lag.take()
        sem = asyncio.Semaphore(self.args.join_concurrency)
        self.start_profile("join", self.args.profile_seconds)
        t0 = time.perf_counter()
        await asyncio.gather(*(p.join(sem, self.T) for p in fleet.phones))
        res.join_s = time.perf_counter() - t0
        self.end_profile()
        failed = [p for p in fleet.phones if p.join_s is None]
        res.join_fail = len(failed)
        res.join_errors = Counter(p.error[:80] for p in failed)
        res.join_lat = [p.join_s for p in fleet.phones if p.join_s is not None]
        res.deflate = next((deflate_in_use(p.sio) for p in fleet.phones if p.connected), None)
        self.phase_done("join")
        if not self.args.client_gc:
            self.lag.quiet_gc()
        self.live = fleet.live

    async def collect(self) -> None:
        """Open the collect phase; every phone (or --ideas of them) adds an idea, the console a few."""
        res, fleet, args, live = self.res, self.fleet, self.args, self.live
        self.mon.mark("collect")
        await self.console.call("stage:go", {"stage_id": self.stage_id, "phase": "collect"}, self.T)
        fleet.expect_phase("collect", len(live))
        if not await fleet.wait_phase("collect", self.T):
            res.notes.append(f"collect view reached {fleet.phase_counts['collect']}/{len(live)} phones")
        ideas_by = live[: args.ideas] if args.ideas is not None else live
        await asyncio.gather(*(p.add_idea(self.rnd.uniform(0, args.idea_window), self.T) for p in ideas_by))
        for k in range(args.console_items):
            reply = await self.console.call("item:add", {"title": f"Facilitator idea {k}", "detail": ""},
                                            self.T)
            fleet.titles[reply["item"]["title"]] = reply["item"]["id"]
        res.idea_lat, res.idea_fail = fleet.idea_lat, sum(fleet.idea_errors.values())
        if fleet.idea_errors:
            res.notes.append(f"idea errors: {dict(fleet.idea_errors)}")
        self.phase_done("collect")

    async def until_phones_see(self, phase: str, event: str, data: dict) -> list[float]:
        """Send a console event; return how long each phone that saw `phase` took to see it."""
        self.fleet.expect_phase(phase, len(self.live))
        t0 = time.perf_counter()
        await self.console.call(event, {"stage_id": self.stage_id, **data}, self.T)
        await self.fleet.wait_phase(phase, self.T)
        return [p.phase_seen[phase] - t0 for p in self.live if phase in p.phase_seen]

    async def open_vote(self) -> None:
        """Open voting and time until every phone has the ballot."""
        res, live = self.res, self.live
        self.mon.mark("open vote")
        got = await self.until_phones_see("vote", "stage:go", {"phase": "vote"})
        res.open_vote_all_s = max(got) if len(got) == len(live) else None
        res.open_vote_missing = len(live) - len(got)
        self.phase_done("open vote")

    async def vote(self) -> None:
        """Have every phone cast and move its dots over the window; time the acks and the projector."""
        args = self.args
        item_ids = sorted(set(self.fleet.titles.values()))
        if len(item_ids) < 3:
            raise RuntimeError("fewer than 3 ideas to vote on")
        self.mon.mark("vote")
        W = self.res.vote_window = args.vote_window
        self.start_profile("vote", min(args.profile_seconds, W + 5))
        start = time.perf_counter() + 0.2
        tasks = []
        for p in self.live:  # 2 on A, 1 on B, A down to 1, 1 on C, at random moments of the window
            a, b, c = self.rnd.sample(item_ids, 3)
            when = sorted(self.rnd.uniform(0, W) for _ in range(4))
            plan = [(start + when[0], a, 2), (start + when[1], b, 1), (start + when[2], a, 1),
                    (start + when[3], c, 1)]
            tasks.append(p.vote(plan, args.ack_timeout, args.retries))
        await asyncio.wait_for(asyncio.gather(*tasks), W + (args.retries + 1) * args.ack_timeout * 4 + self.T)
        await self.time_votes()
        self.phase_done("vote")
        self.end_profile()

    def start_profile(self, phase: str, seconds: float) -> None:
        """py-spy the server from now, if --profile asks for this phase."""
        if self.args.profile and self.pid and self.args.profile_phase == phase:
            path = f"{self.args.profile}-{self.kind}-{self.res.n}.txt"
            self.prof = (start_profile(self.pid, path, seconds), path)

    def end_profile(self) -> None:
        """Wait for the profile that runs, if any, and keep its summary."""
        if self.prof:
            with contextlib.suppress(Exception):
                self.prof[0].wait(timeout=self.args.profile_seconds + 30)
            self.res.profile = f"{self.prof[1]}\n" + summarise_profile(self.prof[1])
            self.prof = None

    async def time_votes(self) -> None:
        """Split each acknowledged vote's time at its commit, and find when the projector showed it."""
        res, projector = self.res, self.projector
        recs = [r for p in self.live for r in p.votes]
        res.votes_sent = len(recs)
        res.votes_failed = Counter(r.error or "?" for r in recs if not r.ok)
        res.uncertain_phones = sum(p.uncertain for p in self.live)
        oks = [r for r in recs if r.ok and r.at is not None]
        res.ack = [r.acked - r.sent for r in oks]
        epoch = time.time() - time.perf_counter()  # perf_counter -> epoch seconds, as `at` is
        res.to_commit = [r.at - (r.sent + epoch) for r in oks]
        res.commit_to_ack = [r.acked + epoch - r.at for r in oks]
        # Wait for a projector view rendered after the last commit (the coalesced refresh).
        last_at = max((r.at for r in oks), default=0)
        deadline = time.perf_counter() + self.T
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
        self.final_progress = next((v[3] for v in reversed(projector.views) if v[3]), {})

    async def reveal(self) -> None:
        """Reveal the results; time until every phone has them, and wait for both screens' bars."""
        res = self.res
        self.mon.mark("reveal")
        res.reveal = await self.until_phones_see("results", "results:reveal", {"revealed": "1"})
        res.reveal_missing = len(self.live) - len(res.reveal)
        deadline = time.perf_counter() + self.T
        # The console lists the leaders (every row up to browse.LISTED ideas); the projector fewer.
        for screen in (self.projector, self.console):
            while not screen.revealed and time.perf_counter() < deadline:
                screen.changed.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(screen.changed.wait(), 1)
        self.phase_done("reveal")
        self.mon.mark("check")

    async def check(self) -> None:
        """Count lost and duplicated dots: acknowledged vs stored votes, stored vs the revealed tally."""
        res = self.res
        expected, also_ok = acknowledged(self.live)
        stored = await self.stored_votes()
        truth = Counter()
        if stored is not None:
            res.lost, res.duplicated, res.pairs_mismatched = mismatches(stored, expected, also_ok)
            for (_tok, item_id), v in stored.items():
                truth[item_id] += v
            truth_name = "bare server store" if self.kind == "bare" else "database"
        else:
            for (_tok, item_id), v in expected.items():
                truth[item_id] += v
            truth_name = "acknowledged votes"
        res.unacked_phones = len(also_ok)
        titles = self.fleet.titles
        # The revealed tally as the console shows it. Past browse.LISTED ideas the console lists only the
        # leaders ("and N more"): each listed score must equal the stored dots, and no unlisted idea may
        # have more dots than the last one listed (it would be missing from the leaders).
        tally = {t: int(n) for t, n in BAR_RE.findall(self.console.last_html)}
        id_title = {i: t for t, i in titles.items()}
        if tally:
            capped = len(tally) < len(titles)
            floor = min(tally.values()) if capped else 0
            res.tally_lost = sum(max(v - tally[id_title[i]], 0) if id_title.get(i) in tally
                                 else (v if v > floor else 0) for i, v in truth.items())
            res.tally_dup = sum(max(n - truth[titles.get(t, -1)], 0) for t, n in tally.items())
            res.tally_vs = truth_name
            if capped:
                res.notes.append(f"the console lists the {len(tally)} leaders of {len(titles)} ideas: those "
                                 "checked, and that no other idea has more dots")
        else:
            res.notes.append("no revealed tally on the console")
        res.progress_check = (f"projector progress {self.final_progress} vs {truth_name} "
                              f"{{'voters': {len({t for (t, _i), v in (stored or expected).items() if v})}, "
                              f"'dots': {sum(truth.values())}}}")
        res.console_views, res.projector_views = len(self.console.views), len(self.projector.views)
        res.console_max_kb = max((v[4] for v in self.console.views), default=0) / 1024
        res.projector_max_kb = max((v[4] for v in self.projector.views), default=0) / 1024

    async def stored_votes(self) -> dict[tuple[str, int], int] | None:
        """Read the stored dots per (phone token, idea) from the bare server or the database, if any."""
        if self.kind == "bare":
            async with self.fac_http.get(f"{self.base}/bare/votes") as resp:
                return {(t, i): v for t, i, v in (await resp.json())["votes"]}
        if isinstance(self.db, str):  # PostgreSQL (scale-out)
            import psycopg

            with psycopg.connect(self.db) as con:
                return {(t, i): v for t, i, v in con.execute(VOTES_SQL.format("%s"), (self.stage_id,))}
        if self.db is not None:
            con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)
            try:
                return {(t, i): v for t, i, v in con.execute(VOTES_SQL.format("?"), (self.stage_id,))}
            finally:
                con.close()
        return None

    async def close(self) -> None:
        """Stop measuring, keep the client-side counts, close every phone and both screens."""
        res, fleet = self.res, self.fleet
        if self.prof:
            with contextlib.suppress(Exception):
                self.prof[0].terminate()
        self.mon.stop()
        self.lag.stop()
        res.client_log = CLIENT_LOG.take()
        res.phone_view_kb = {k: round(v / 1024) for k, v in fleet.view_chars.items()}
        res.dropped = sum(bool(p.dropped) for p in fleet.phones)
        res.drop_reasons = Counter(p.dropped for p in fleet.phones if p.dropped)
        fleet.closing = True
        await asyncio.wait_for(asyncio.gather(*(p.close() for p in fleet.phones), return_exceptions=True), 60)
        for scr in (self.console, self.projector):
            await scr.close()
            if scr.drops:
                res.notes.append(f"{scr.role} socket dropped {len(scr.drops)}x ({'; '.join(scr.drops[:3])})"
                                 " and reconnected")
        await self.fac_http.close()

    def summarise_server(self) -> None:
        """Sum up the phases: the server's CPU and peak RSS, and the load generator's busiest phase."""
        res, mon = self.res, self.mon
        res.phases = mon.phases()
        marks = {m[0]: m for m in mon.marks}
        res.server_cpu = marks["end"][2] - marks["join"][2] if self.pid else None
        res.peak_rss_mb = mon.peak_rss / 2**20 if self.pid else None
        res.server_busiest = mon.busiest() if self.pid else None
        res.client_busiest = max(((name, c / w) for name, w, _s, c in res.phases if w > 0.5),
                                 key=lambda x: x[1], default=("", 0))


def acknowledged(live) -> tuple[dict[tuple[str, int], int], dict[str, dict[int, int]]]:
    """Return each phone's dots per idea after its acknowledged votes, and the other allowed outcome.

    If a phone's last action was never acknowledged, its allocation with that action applied
    is also correct: those phones are in the second dict.
    """
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
    return expected, also_ok


def mismatches(stored, expected, also_ok) -> tuple[int, int, int]:
    """Compare stored and acknowledged allocations per phone: (dots lost, dots extra, pairs that differ)."""
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
    return lost, dup, bad
