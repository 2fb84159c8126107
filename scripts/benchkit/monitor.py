"""Measure the machine during a run: the server's CPU and memory, py-spy profiles, the client's loop lag."""
from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit


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
        """Return the servers' CPU seconds so far (NaN when unknown)."""
        if self.proc is None:
            return float("nan")
        try:
            return sum(t.user + t.system for t in (p.cpu_times() for p in self.procs))
        except Exception:
            return float("nan")

    def _run(self):
        """Sample until stopped."""
        while not self._stop.is_set():
            if self.proc is not None:
                try:
                    self.peak_rss = max(self.peak_rss, *(p.memory_info().rss for p in self.procs))
                    self.cpu_samples.append((time.perf_counter(), self.cpu()))
                except Exception:
                    pass
            self._stop.wait(self.interval)

    def start(self):
        """Mark the start and begin sampling."""
        self.mark("start")
        self._thread.start()
        return self

    def stop(self):
        """Mark the end and stop sampling."""
        self.mark("end")
        self._stop.set()
        self._thread.join(timeout=2)

    def mark(self, name: str):
        """Start a phase: note the wall clock, the servers' CPU and this process's CPU."""
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
        """Time each full collection."""
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc_pauses.append(time.perf_counter() - self._gc_started)

    @staticmethod
    def quiet_gc():
        """Freeze what exists and collect the young generation less often."""
        gc.collect()
        gc.freeze()
        gc.set_threshold(20_000, 10, 10)

    def take_gc(self) -> list[float]:
        """Return the full-collection pauses since the last call."""
        pauses, self.gc_pauses = self.gc_pauses, []
        return pauses

    async def _run(self):
        """Sleep a tick at a time and record how late each wake-up is."""
        while True:
            t = time.perf_counter()
            await asyncio.sleep(self.tick)
            self.lags.append(time.perf_counter() - t - self.tick)

    def start(self):
        """Start ticking on the running loop."""
        self.task = asyncio.get_running_loop().create_task(self._run())

    def take(self) -> list[float]:
        """Return the lags since the last call."""
        lags, self.lags = self.lags, []
        return lags

    def stop(self):
        """Stop ticking and timing collections; unfreeze."""
        if self.task:
            self.task.cancel()
        if self._gc in gc.callbacks:
            gc.callbacks.remove(self._gc)
        gc.unfreeze()


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
