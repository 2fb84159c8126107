"""Load-generate a live workshop and print a table of numbers (a benchmark, not a test).

    python scripts/bench.py                         # N = 250 1000 2000 phones, own server each
    python scripts/bench.py --phones 250 --bare     # also the same load on a bare Flask-SocketIO server
    python scripts/bench.py --url http://127.0.0.1:5000 --db instance/charrette.db --phones 100
    python scripts/bench.py --phones 1000 --profile /tmp/prof   # py-spy the server during the vote phase
    python scripts/bench.py --processes 2 --phones 2000 4000    # scale-out: 2 processes, PostgreSQL, Redis
    python scripts/bench.py --scale-out --phones 2000           # one process, PostgreSQL, Redis
    python scripts/bench.py --phones 1000 --compare ../before   # the same load on another checkout first
    python scripts/bench.py --phones 2000 --bare --compare ../before --join-only --repeat 3
                                                    # the join storm alone, the servers taken in turn

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
`--bare` runs scripts/bare_server.py: same routes, same events, in-memory state, an ack and a
coalesced push, no database, no templates. `--checkout DIR` runs the app from another checkout
of the repository (its own wsgi.py, in DIR); `--compare DIR` runs each N against DIR first,
then against this checkout, and adds app/before ratio rows. The parts: scripts/benchkit/.
"""
from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.benchkit.report import Result, as_json, print_join_report, print_report, row  # noqa: E402
from scripts.benchkit.scenario import scenario  # noqa: E402
from scripts.benchkit.servers import servers  # noqa: E402


def run_one(n: int, args, kind: str) -> Result:
    """Start fresh servers (unless --url) and run the scenario for N phones, bounded in time."""
    async def go(bases, db):
        """Run the scenario within --run-timeout."""
        return await asyncio.wait_for(scenario(bases, n, args, kind, db), args.run_timeout)

    if args.url:
        db = args.db if args.db and "://" in args.db else Path(args.db) if args.db else None
        return asyncio.run(go([u.rstrip("/") for u in args.url], db))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        try:
            with servers(kind, args, tmp) as (bases, db):
                return asyncio.run(go(bases, db))
        finally:
            if args.logs:
                Path(args.logs).mkdir(parents=True, exist_ok=True)
                for log in tmp.glob("*.log"):
                    (Path(args.logs) / f"{kind}-{n}-{log.name}").write_bytes(log.read_bytes())


def parse_args(argv=None):
    """Read the command line; refuse a --url off this machine or a --checkout without wsgi.py."""
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
    ap.add_argument("--scale-out", action="store_true",
                    help="the scale-out mode (PostgreSQL + Redis) even with one process: its CPU per join "
                    "and per vote against one process on SQLite (the same run without this flag)")
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
                    help="py-spy the server in one phase (--profile-phase) to PREFIX-KIND-N.txt")
    ap.add_argument("--profile-seconds", type=float, default=10.0)
    ap.add_argument("--profile-phase", choices=["join", "vote"], default="vote",
                    help="with --profile: the phase to record (the join storm, or the votes)")
    ap.add_argument("--pin", action="store_true",
                    help="one server process: put it on the first core and the load generator (with its "
                         "projector) on the others, as the issue's independent client ran; on 2 cores the "
                         "load generator then bounds the bare server's join")
    ap.add_argument("--server-env", metavar="KEY=VALUE", nargs="*", default=[],
                    help="extra environment for the app server, e.g. PUSH_INTERVAL=0.5")
    ap.add_argument("--logs", metavar="DIR", help="keep the servers' logs in DIR")
    ap.add_argument("--join-only", action="store_true",
                    help="stop each run after the join storm (with --bare, the bare server's sockets alone "
                         "first); print medians over --repeat")
    ap.add_argument("--repeat", type=int, default=1,
                    help="with --join-only: run every server this many times, taking them in turn "
                         "(before, app, bare, before, ...), so that the machine's drift falls on all alike")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", metavar="PATH", help="also write the raw results as JSON")
    ap.add_argument("--checkout", metavar="DIR",
                    help="run the app server from another checkout of the repository (its wsgi.py, in DIR)")
    ap.add_argument("--compare", metavar="DIR",
                    help="run each N against the checkout in DIR first ('before' rows), then against this "
                         "one (or --checkout), and print app/before ratio rows")
    args = ap.parse_args(argv)
    if args.url and any(urlsplit(u).hostname not in ("127.0.0.1", "localhost", "::1") for u in args.url):
        ap.error("--url must point at this machine")
    if args.repeat < 1 or (args.repeat > 1 and not args.join_only):
        ap.error("--repeat N (N >= 1) goes with --join-only")
    for option, where in (("--checkout", args.checkout), ("--compare", args.compare)):
        if where and args.url:
            ap.error(f"{option} starts its own server: not with --url")
        if where and not (Path(where) / "wsgi.py").is_file():
            ap.error(f"{option} {where}: no wsgi.py there")
    return args


def main(argv=None) -> int:
    """Run every N against each server asked for, then print the table and the details."""
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
    kinds = ["before"] * bool(args.compare) + ["app"] + ["bare"] * bool(args.bare and not args.url)
    results: list[dict[str, list[Result]]] = []
    for n in args.phones:
        runs: dict[str, list[Result]] = {kind: [] for kind in kinds}
        for _turn in range(args.repeat):
            for kind in kinds:
                print(f"[bench] N={n}: {kind} ...", file=sys.stderr, flush=True)
                t = time.perf_counter()
                runs[kind].append(run_one(n, args, kind))
                print(f"[bench] N={n}: {kind} done in {time.perf_counter() - t:.0f} s", file=sys.stderr,
                      flush=True)
                print(f"[bench] {row(runs[kind][-1])}", file=sys.stderr, flush=True)
        results.append(runs)
    if args.join_only:
        print_join_report(args, results)
        return 0
    results = [{kind: runs[kind][0] for kind in runs} for runs in results]
    print_report(args, results)
    if args.json:
        Path(args.json).write_text(as_json(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
