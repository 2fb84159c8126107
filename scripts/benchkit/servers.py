"""Start the servers a run measures: the app (this checkout or another one) or the bare one."""
from __future__ import annotations

import contextlib
from pathlib import Path

from tests.support import ROOT, AppProcess, fresh_postgres, running_server

BARE_SERVER = ROOT / "scripts" / "bare_server.py"


@contextlib.contextmanager
def servers(kind: str, args, tmp: Path):
    """Start the servers of one run in tmp; yield (their base URLs, the database holding the votes).

    kind "bare": scripts/bare_server.py (no database: the votes are asked from it); "app": this
    checkout, or --checkout DIR; "before": --compare DIR. --processes > 1 (or --scale-out) starts that
    many app processes on PostgreSQL and Redis.
    """
    if kind == "bare":
        with running_server(tmp, "bare", script=BARE_SERVER) as base:
            yield [base], None
        return
    root = Path(args.compare if kind == "before" else args.checkout or ROOT)
    env = dict(kv.split("=", 1) for kv in args.server_env)
    if args.processes > 1 or args.scale_out:
        with scaled_out(tmp, args, env, root) as (bases, db_url):
            yield bases, db_url
    else:
        with running_server(tmp, root=root, **env) as base:
            yield [base], tmp / "charrette.db"


@contextlib.contextmanager
def scaled_out(tmp: Path, args, env: dict, root: Path = ROOT):
    """Start --processes app servers on a fresh PostgreSQL database and Redis channel; yield URLs."""
    with fresh_postgres(args.pg, "charrette_bench") as db_url:
        env = {"DATABASE_URL": db_url, "REDIS_URL": args.redis, "REDIS_CHANNEL": db_url.rsplit("/", 1)[1],
               **env}
        processes = [AppProcess(tmp, f"app{k}", root=root, **env) for k in range(args.processes)]
        try:
            for server in processes:  # one after another: the first creates the tables and the demo
                server.start()
            yield [server.base for server in processes], db_url
        finally:
            for server in processes:
                server.stop()
