"""Benchmark the workshop report and print numbers (a benchmark, not a test).

    python scripts/bench_report.py                 # scales 1 and 3, then vote latency during a render
    python scripts/bench_report.py --scales 1 --phones 8 --seconds 8

1. Render: for each scale (1 = 100 participants, 33 ideas, 200+ comments, 4 concept images;
   scripts/report_workshop.py), build the workshop in a fresh SQLite file and run the real
   job twice: a new child (`python -m workshop.report_child <id>`) and a spare one started ahead
   (`--spare`, as the report page does), handed the id once it is ready. Printed: pages, the
   child's own render time (HTML + PDF + files), wall time (the new child's start included),
   the child's CPU seconds (user + system: what the render costs on an idle machine, whatever
   the load; for the spare, from the hand-over on, its start in brackets) and its peak RSS
   (os.wait4). Then the same in-process, split into collect + HTML, layout and PDF writing.
2. Live session: a real `python wsgi.py` (gevent, SQLite) with a finished scale-1 workshop
   and a live one in its voting phase; N phones (HTTP join + Socket.IO) move dots in a loop
   and time each vote's acknowledgement: with no render running, while the opened report page
   starts its spare renderer (--think seconds), then while the facilitator's "Make the report"
   renders the report. Printed: ack latency p50/p95/max for each window.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.benchkit.load import CSRF_RE  # noqa: E402


def build_db(tmp: Path, scale: int, live: bool = False, email: str = "bench@example.org"):
    """Create a finished workshop (and optionally a live one voting) in tmp/charrette.db; return the ids."""
    from config import DevelopmentConfig
    from scripts.report_workshop import build
    from tests.actions import add_item
    from workshop import create_app
    from workshop.auth import create_facilitator, find_facilitator
    from workshop.extensions import db
    from workshop.flow import phases, workshops
    from workshop.models import Report

    app = create_app(DevelopmentConfig(DATABASE_URL=f"sqlite:///{tmp / 'charrette.db'}", DEMO=False,
                                       UPLOAD_DIR=str(tmp / "uploads"), REPORT_DIR=str(tmp / "reports"),
                                       SECRET_KEY="bench-secret", LOG_LEVEL="WARNING"))
    with app.app_context():
        user = find_facilitator(email) or create_facilitator(email, "Bench Facilitator", "demo-facilitator")
        truth = build(user, scale=scale, title=f"Report benchmark x{scale}")
        out = {"app": app, "code": truth.workshop.code}
        if not live:  # the live run asks for its report through the page, like a facilitator
            row = Report(workshop=truth.workshop, status="queued")
            db.session.add(row)
            db.session.commit()
            out["report_id"] = row.id
        else:
            w = workshops.create_workshop(user, title="Live session", topic="Votes during a render")
            trend = w.stages[0]
            phases.set_phase(w, trend.id, "collect")
            people = [workshops.join(w, None, "", "Youth") for _ in range(3)]
            items = [add_item(w, people[i], {"cid": f"live-{i:04d}", "title": f"Live idea {i}"})
                     for i in range(3)]
            phases.set_phase(w, trend.id, "vote")
            out.update(live_code=w.code, item_ids=[i.id for i in items])
        db.session.remove()
    return out


def cpu_seconds(pid: int) -> float:
    """Return a live process's CPU time so far (user + system), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_child(app, report_id: int, spare: bool = False, kind: str = "") -> dict:
    """Run the report job as the app does; return its timings and peak memory.

    spare=False: a new child per report (`report_job <id>`), its start included.
    spare=True: a spare (`report_job --spare`) that has loaded everything and said "ready" is
    handed the id; only what it does from then on is counted (what "Make the report" waits for).
    kind: another document than a workshop's report (report_job.DOCUMENTS, e.g. "campaign").
    """
    from workshop import report_job
    from workshop.extensions import db

    env = report_job.child_env(app)
    job = f"{kind}:{report_id}" if kind else str(report_id)
    arg = "--spare" if spare else job
    proc = subprocess.Popen([sys.executable, "-m", "workshop.report_child", arg], cwd=ROOT, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    before = 0.0
    if spare:
        proc.stdout.readline()  # "ready": imports, fonts and templates are loaded
        before = cpu_seconds(proc.pid)
        proc.stdin.write(f"{job}\n".encode())
        proc.stdin.flush()
    started = time.perf_counter()
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    stderr = proc.stderr.read().decode(errors="replace")
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        pipe.close()
    with app.app_context():
        row = db.session.get(report_job.DOCUMENTS[kind][0], report_id)
        result = {"status": row.status, "pages": row.pages, "render_s": row.seconds, "wall_s": wall,
                  "cpu_s": usage.ru_utime + usage.ru_stime - before, "start_cpu_s": before,
                  "peak_rss_mb": usage.ru_maxrss / 1024, "error": row.error or stderr[-300:]}
        row.status = "queued"  # the next run renders it again
        db.session.commit()
        db.session.remove()
    return result


def in_process(app, code: str) -> dict:
    """Render in this process, timing each step: collect + HTML, layout, PDF writing."""
    from weasyprint import HTML

    from workshop import report
    from workshop.flow import access

    with app.app_context():
        workshop = access.get_workshop(code)
        t0 = time.perf_counter()
        html = report.render_html(workshop)
        t1 = time.perf_counter()
        document = HTML(string=html, base_url=report.ORIGIN + "/", url_fetcher=report.Fetcher()).render()
        t2 = time.perf_counter()
        document.write_pdf(pdf_variant="pdf/ua-1")
        t3 = time.perf_counter()
    return {"html_s": t1 - t0, "layout_s": t2 - t1, "pdf_s": t3 - t2, "pages": len(document.pages)}


# --- the live session while a report renders ------------------------------------------------

class Phone(threading.Thread):
    """A phone that joins over HTTP, connects Socket.IO with its cookie and moves a dot in a loop."""

    def __init__(self, base: str, code: str, item_id: int, n: int, stop: threading.Event, log: list):
        super().__init__(daemon=True)
        self.base, self.code, self.item_id, self.n, self.stop, self.log = base, code, item_id, n, stop, log

    def run(self):
        import requests
        import socketio

        http = requests.Session()
        page = http.get(f"{self.base}/j/{self.code}").text
        http.post(f"{self.base}/j/{self.code}",
                  data={"csrf_token": CSRF_RE.search(page)[1], "group": "Youth"})
        sio = socketio.Client(http_session=http)
        sio.connect(self.base, auth={"code": self.code, "role": "phone"}, transports=["websocket"])
        k = 0
        while not self.stop.is_set():
            k += 1
            t0 = time.perf_counter()
            reply = sio.call("vote", {"cid": f"b{self.n}-{k:06d}", "item_id": self.item_id, "dots": k % 2},
                             timeout=30)
            self.log.append((time.time(), time.perf_counter() - t0, bool(reply and reply.get("ok"))))
            time.sleep(0.55)  # under the 120 votes a minute a phone may cast
        sio.disconnect()


def live_latency(scale: int, phones: int, seconds: float, think: float) -> dict:
    """Vote ack latency on a real gevent server, without and then during a report render."""
    import requests

    from tests.support import AppProcess

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        data = build_db(tmp, scale, live=True, email="demo@example.org")
        server = AppProcess(tmp, REPORT_DIR=str(tmp / "reports"), LOG_LEVEL="WARNING")
        base = server.start(timeout=60)
        stop, log = threading.Event(), []
        try:
            fleet = [Phone(base, data["live_code"], data["item_ids"][n % 3], n, stop, log)
                     for n in range(phones)]
            for phone in fleet:
                phone.start()
            time.sleep(seconds)
            quiet_end = time.time()
            fac = requests.Session()
            page = fac.get(f"{base}/login").text
            fac.post(f"{base}/login", data={"csrf_token": CSRF_RE.search(page)[1],
                                            "email": "demo@example.org", "password": "demo-facilitator"})
            page_open = time.time()  # after the sign-in, whose scrypt hash holds the server ~0.4 s
            page = fac.get(f"{base}/w/{data['code']}/report").text  # starts the spare renderer
            time.sleep(think)  # the facilitator reads the page
            think_end = time.time()
            t0 = time.perf_counter()
            reply = fac.post(f"{base}/w/{data['code']}/report/generate",
                             data={"csrf_token": CSRF_RE.search(page)[1]}, allow_redirects=False)
            request_s = time.perf_counter() - t0
            if reply.status_code != 302:
                raise RuntimeError(f"generate: HTTP {reply.status_code}")
            render_start = time.time()
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                state = fac.get(f"{base}/w/{data['code']}/report/status").json()
                if state["status"] in ("done", "failed"):
                    break
                time.sleep(0.25)
            render_end = time.time()
            stop.set()
            for phone in fleet:
                phone.join(timeout=40)
        finally:
            stop.set()
            server.stop()
            log_tail = server.log_path.read_text()[-2000:]
    quiet = [lat for at, lat, _ok in log if at < quiet_end]
    warming = [lat for at, lat, _ok in log if page_open <= at < think_end]
    busy = [lat for at, lat, _ok in log if render_start <= at <= render_end]
    if state["status"] != "done":
        print(log_tail)
    return {"quiet": quiet, "warming": warming, "busy": busy, "failed": sum(not ok for _at, _lat, ok in log),
            "state": state,
            "request_s": request_s, "render_wall_s": render_end - render_start}


def ms(values: list[float], q: float) -> str:
    """Format the q-quantile of durations in milliseconds."""
    if not values:
        return "n/a"
    ordered = sorted(values)
    return f"{ordered[min(int(q * len(ordered)), len(ordered) - 1)] * 1000:.0f}"


def main(argv=None) -> int:
    """Measure, print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="*", default=[1, 3])
    parser.add_argument("--phones", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=10, help="quiet window before the render")
    parser.add_argument("--think", type=float, default=5,
                        help="seconds between opening the report page and asking for the report")
    parser.add_argument("--no-live", action="store_true")
    args = parser.parse_args(argv)
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("child: a new renderer per report (its start included); spare: one started ahead, as the report")
    print("page does (REPORT_SPARE), counted from the moment it is handed the report (its start in brackets)")
    print(f"{'scale':>5} {'child':>5} {'pages':>5} {'render s':>8} {'wall s':>7} {'CPU s':>6} {'(start)':>7} "
          f"{'peak RSS MB':>11}  {'in-process: html s':>18} {'layout s':>8} {'pdf s':>6}")
    for scale in args.scales:
        with tempfile.TemporaryDirectory() as tmp_name:
            data = build_db(Path(tmp_name), scale)
            runs = {"new": run_child(data["app"], data["report_id"]),
                    "spare": run_child(data["app"], data["report_id"], spare=True)}
            split = in_process(data["app"], data["code"])
        for name, child in runs.items():
            if child["status"] != "done":
                print(f"{scale:>5} {name:>5} failed: {child['error']}")
                continue
            start = f"({child['start_cpu_s']:.2f})" if name == "spare" else ""
            print(f"{scale:>5} {name:>5} {child['pages']:>5} {child['render_s']:>8.2f} "
                  f"{child['wall_s']:>7.2f} {child['cpu_s']:>6.2f} {start:>7} {child['peak_rss_mb']:>11.0f}  "
                  f"{split['html_s']:>18.2f} {split['layout_s']:>8.2f} {split['pdf_s']:>6.2f}")
    if not args.no_live:
        live = live_latency(1, args.phones, args.seconds, args.think)
        print(f"\nLive session ({args.phones} phones voting every ~0.6 s, gevent server, SQLite):")
        print(f"  report request answered in {live['request_s'] * 1000:.0f} ms; "
              f"render {live['state']['status']} after {live['render_wall_s']:.1f} s "
              f"({live['state'].get('pages')} pages)")
        titles = {"quiet": "without a render", "warming": "spare starting", "busy": "during the render"}
        for name, title in titles.items():
            values = live[name]
            mean = f"{statistics.mean(values) * 1000:.0f}" if values else "n/a"
            print(f"  vote ack latency {title:<18} "
                  f"n={len(values):<4} p50={ms(values, .5)} ms  p95={ms(values, .95)} ms  "
                  f"max={ms(values, 1)} ms  mean={mean} ms")
        print(f"  failed votes: {live['failed']}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
