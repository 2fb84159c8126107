"""CPU per operation of the app's own work, in-process, without the network (a benchmark, not a test).

    python scripts/bench_ops.py              # 300 phones, 300 ideas
    python scripts/bench_ops.py --phones 2000

One process, a fresh SQLite file, Flask's test client and Flask-SocketIO's test client
(no transport): N phones join over HTTP (from the QR code's short URL to the phone page,
following redirects), connect a socket (as live.js: no sync, the page is drawn), add an idea
each; voting opens and each phone casts two dot votes. Then the coalesced pushes: the numbers
(projector and console), the console's live tally, and the whole console and projector views.
Printed: milliseconds of CPU (process time) per operation. What the transport adds on top is
in scripts/bench.py (`--bare`).
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--phones", type=int, default=300)
    ap.add_argument("--profile", metavar="OPERATION", choices=["join", "connect", "idea", "vote"],
                    help="also print cProfile's top functions of one operation (join, connect, idea, vote)")
    ap.add_argument("--pg", help="PostgreSQL to create a fresh database in, the scale-out mode's database "
                    "(e.g. postgresql://postgres@127.0.0.1:5432/test); without Redis, which Flask-SocketIO's "
                    "test client cannot use (Redis costs per push interval, not per operation)")
    args = ap.parse_args()
    n = args.phones
    if args.pg:
        from tests.support import fresh_postgres
        with fresh_postgres(args.pg, "charrette_ops") as url:
            run(n, url, args.profile)
    else:
        run(n, profile=args.profile)


def run(n: int, database: str | None = None, profile: str | None = None) -> None:
    """Measure each operation for n phones on a fresh database (SQLite file unless `database`)."""

    from flask import g

    from config import TestingConfig
    from workshop import create_app, live
    from workshop.auth import create_facilitator
    from workshop.extensions import db, socketio
    from workshop.flow import phases, workshops

    tmp = Path(tempfile.mkdtemp())
    app = create_app(TestingConfig(DATABASE_URL=database or f"sqlite:///{tmp / 'ops.db'}",
                                   UPLOAD_DIR=str(tmp / "up"), RATELIMIT_ENABLED=False, PUSH_INTERVAL=1000,
                                   LOG_LEVEL="WARNING"))
    app.app_context().push()
    facilitator = create_facilitator("ops@example.org", "Ops", "correct horse battery")
    workshop = workshops.create_workshop(facilitator, title="Operations", topic="CPU per operation")
    stage = workshop.current_stage
    phases.set_phase(workshop, stage.id, "collect")
    phones, sockets = [], []

    def forget_request_globals():  # one app context for every request: keep each phone's own
        g.pop("_login_user", None)
        g.pop("_flask_babel", None)
        g.pop("csrf_token", None)

    def timed(label: str, fn, times: int) -> None:
        profiler = cProfile.Profile(time.process_time) if profile and fn.__name__ == profile else None
        started = time.process_time()
        if profiler:
            profiler.enable()
        for i in range(times):
            fn(i)
        if profiler:
            profiler.disable()
        ms = 1000 * (time.process_time() - started) / times
        print(f"{label:34s} {ms:7.2f} ms CPU  ({times})", flush=True)
        if profiler:  # what one operation spends its time in (cProfile inflates the figure above)
            stats = pstats.Stats(profiler).strip_dirs()
            stats.dump_stats(Path(tempfile.gettempdir()) / f"bench_ops-{profile}.prof")
            stats.sort_stats("tottime").print_stats(30)
            stats.sort_stats("cumulative").print_stats(60)

    requests_per_join = []

    def join(i):
        """From the QR code's URL to the live phone page, following redirects as a browser does."""
        http = app.test_client()
        count = 0

        def fetch(method, url, **kw):
            nonlocal count
            while True:
                forget_request_globals()
                count += 1
                reply = getattr(http, method)(url, **kw)
                if reply.status_code not in (301, 302, 303):
                    assert reply.status_code == 200, reply.status_code
                    return reply
                method, url, kw = "get", reply.headers["Location"], {}

        fetch("get", f"/{workshop.code}")
        page = fetch("post", f"/j/{workshop.code}", data={"group": workshop.groups[i % len(workshop.groups)]})
        assert b'data-role="phone"' in page.data
        requests_per_join.append(count)
        phones.append((http, int(re.search(rb'data-version="(\d+)"', page.data)[1])))

    def connect(i):
        """As live.js: a page drawn at a version connects with it, and syncs only if told it is stale."""
        forget_request_globals()
        http, version = phones[i]
        sock = socketio.test_client(app, flask_test_client=http,
                                    auth={"code": workshop.code, "role": "phone", "version": version})
        assert sock.is_connected()
        if any(message["name"] == "stale" for message in sock.get_received()):
            assert sock.emit("sync", {}, callback=True)["ok"]
        sockets.append(sock)

    def idea(i):
        reply = sockets[i].emit("idea:add", {"cid": f"idea-{i:06d}", "title": f"Idea {i} about a trend"},
                                callback=True)
        assert reply["ok"], reply

    timed("join (QR URL to phone page)", join, n)
    print(f"{'  HTTP requests per join':34s} {sum(requests_per_join) / n:7.2f}", flush=True)
    timed("socket connect (no sync: page drawn)", connect, n)
    timed("idea", idea, n)
    db.session.expire_all()
    phases.set_phase(workshop, stage.id, "vote")
    items = [item.id for item in workshop.current_stage.items]

    def vote(i):
        reply = sockets[i % n].emit("vote", {"cid": f"vote-{i:06d}", "item_id": items[(i * 7) % len(items)],
                                             "dots": 1}, callback=True)
        assert reply["ok"], reply

    def fresh(fn):
        def run(_i):
            db.session.expire_all()  # as after a commit: every push loads what it shows
            fn()
        return run

    timed("vote", vote, 2 * n)
    timed("numbers push (both screens)", fresh(lambda: live.numbers(workshop)), 50)
    timed("console live tally", fresh(lambda: live.tally(workshop, "en")), 20)
    timed("whole console + projector views", fresh(lambda: (live.payload(workshop, "console", "en"),
                                                            live.payload(workshop, "projector"))), 5)


if __name__ == "__main__":
    main()
