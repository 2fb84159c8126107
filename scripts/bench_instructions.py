"""Instructions per request of a phone's join, counted by callgrind: the same count run after run,
whatever else the machine does (a benchmark, not a test).

    python scripts/bench_instructions.py                    # this checkout, 100 phones
    python scripts/bench_instructions.py --checkout ../old  # another checkout, to compare
    python scripts/bench_instructions.py --pg postgresql://postgres@127.0.0.1:5432/test  # scale-out

Needs valgrind. Timings on a shared 2-core machine moved by 30% between runs of the same code
(scripts/bench.py); instructions do not. Each stage runs in a process of its own under
`valgrind --tool=callgrind`: a fresh app (SQLite file, CSRF and rate limits on) with 20 phones
joined first (every template compiled, every cache filled), then N more phones' join page (GET of
the QR code's URL), join (POST) and socket connect, each stage doing what the one before did and
its own step; then voting opens (20 ideas, given by the first phones) and each of the N phones
casts a vote. The difference between two stages, over N, is the app's own work for one request:
Flask, the extensions and the app, without a server or a network (which scripts/bench.py
measures, beside the bare server). The connect and the vote are made with Flask-SocketIO's test
client, whose own work is counted too. With `--pg` each stage gets a fresh PostgreSQL database
(the scale-out mode's; without Redis, whose cost is per push, not per request): the app process's
instructions are counted, PostgreSQL's own work (other processes) is not.
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import gzip
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("setup", "get", "post", "connect", "open", "vote")
LABELS = {"get": "join page (GET)", "post": "join (POST)", "connect": "socket connect",
          "open": "open voting", "vote": "vote"}
WARM = 20  # phones joined before counting
HEADERS = {"Accept-Encoding": "gzip, deflate", "Accept-Language": "en-GB,en;q=0.9",
           "User-Agent": "Mozilla/5.0 (Linux; Android 14) Chrome/120 Mobile"}
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--phones", type=int, default=100)
    ap.add_argument("--checkout", default=str(ROOT), help="the checkout whose app is counted")
    ap.add_argument("--pg", help="PostgreSQL to create each stage's fresh database in, e.g. "
                    "postgresql://postgres@127.0.0.1:5432/test (default: a SQLite file)")
    ap.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)  # a counted child process
    ap.add_argument("--database", help=argparse.SUPPRESS)  # the child's database URL
    args = ap.parse_args()
    if args.stage:
        sys.path.insert(0, args.checkout)
        run_stage(args.stage, args.phones, args.database)
        return
    sys.path.insert(0, str(ROOT))
    from tests.support import fresh_postgres

    with contextlib.ExitStack() as stack:
        databases = {stage: stack.enter_context(fresh_postgres(args.pg, f"charrette_count_{stage}"))
                     if args.pg else None for stage in STAGES}
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        children = {stage: subprocess.Popen(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/{stage}.out", sys.executable,
             __file__, "--stage", stage, "--phones", str(args.phones), "--checkout", args.checkout,
             *(["--database", databases[stage]] if databases[stage] else [])],
            stdout=subprocess.DEVNULL, stderr=open(f"{tmp}/{stage}.log", "w"),
            env={**os.environ, "PYTHONHASHSEED": "0"}) for stage in STAGES}  # the same dict layouts
        counts = {}
        for stage, child in children.items():
            if child.wait() != 0:
                sys.exit(f"stage {stage} failed:\n" + Path(f"{tmp}/{stage}.log").read_text()[-3000:])
            summary = re.search(r"^summary: (\d+)", Path(f"{tmp}/{stage}.out").read_text(), re.M)
            counts[stage] = int(summary[1])
    print(f"{args.checkout}: instructions per request, {args.phones} phones, "
          f"{'PostgreSQL' if args.pg else 'SQLite'}")
    for before, stage in zip(STAGES, STAGES[1:], strict=False):
        print(f"  {LABELS[stage]:20s} {(counts[stage] - counts[before]) / args.phones / 1e6:6.2f} M")


def run_stage(stage: str, n: int, database: str | None = None) -> None:
    """Join WARM phones (each gives an idea), then do the stages up to `stage` for n more (counted)."""
    from werkzeug.test import EnvironBuilder

    from config import TestingConfig
    from workshop import create_app
    from workshop.auth import create_facilitator
    from workshop.extensions import db, socketio
    from workshop.flow import phases, workshops
    from workshop.models import Workshop

    tmp = Path(tempfile.mkdtemp())
    app = create_app(TestingConfig(DATABASE_URL=database or f"sqlite:///{tmp / 'count.db'}",
                                   UPLOAD_DIR=str(tmp / "up"),
                                   RATELIMIT_ENABLED=True, WTF_CSRF_ENABLED=True, PUSH_INTERVAL=1000,
                                   LOG_LEVEL="WARNING"))
    with app.app_context():
        facilitator = create_facilitator("count@example.org", "Count", "correct horse battery")
        workshop = workshops.create_workshop(facilitator, title="Counted", topic="Instructions")
        phases.set_phase(workshop, workshop.current_stage.id, "collect")
        code, groups, workshop_id = workshop.code, list(workshop.groups), workshop.id
        db.session.remove()

    def call(environ):
        """Run one request through the app; return its headers and body."""
        answer = {}

        def start_response(status, headers, _exc=None):
            answer.update(status=status, headers=headers)
        body = b"".join(app(environ, start_response))
        assert answer["status"].startswith("200"), answer["status"]
        return answer["headers"], body

    def cookies(headers) -> list[str]:
        return [value.split(";", 1)[0] for key, value in headers if key == "Set-Cookie"]

    def address(i: int) -> dict:
        return {"REMOTE_ADDR": f"10.{i // 60000}.{i // 250 % 240}.{i % 250}"}

    def join_post(i: int, headers, body):
        html = (gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body).decode()
        data = {"group": groups[i % len(groups)], "csrf_token": TOKEN.search(html)[1]}
        return EnvironBuilder(path=f"/j/{code}", method="POST", data=data, environ_base=address(i),
                              headers={**HEADERS, "Cookie": "; ".join(cookies(headers))}).get_environ()

    total = WARM + n
    gets = [EnvironBuilder(path=f"/{code}", headers=HEADERS, environ_base=address(i)).get_environ()
            for i in range(total)]
    gc.collect()
    gc.disable()  # a collection lands where it lands: not in one stage's count and not another's
    sockets = []

    def drawn_version() -> int:
        """The version the phones' pages are drawn at (joins do not change it; ideas may)."""
        with app.app_context():
            version = db.session.get(Workshop, workshop_id).version
            db.session.remove()
        return version
    drawn = [drawn_version()]

    def connect(phone_cookies: list[str]) -> None:
        http = app.test_client()
        for cookie in phone_cookies:
            name, _, value = cookie.partition("=")
            http.set_cookie(name, value)
        sockets.append(socketio.test_client(app, flask_test_client=http,
                                            auth={"code": code, "role": "phone", "version": drawn[0]}))
        assert sockets[-1].is_connected()

    pages = [call(gets[i]) for i in range(WARM)]
    for i in range(WARM):
        connect(cookies(call(join_post(i, *pages[i]))[0]))
        assert sockets[-1].emit("idea:add", {"cid": f"idea-{i:06d}", "title": f"Idea {i} about a trend"},
                                callback=True)["ok"]
    drawn[0] = drawn_version()
    if stage == "setup":
        return
    pages += [call(gets[i]) for i in range(WARM, total)]
    if stage == "get":
        return
    joined = [cookies(call(join_post(i, *pages[i]))[0]) for i in range(WARM, total)]
    if stage == "post":
        return
    for phone_cookies in joined:
        connect(phone_cookies)
    if stage == "connect":
        return
    with app.app_context():
        workshop = db.session.get(Workshop, workshop_id)
        phases.set_phase(workshop, workshop.current_stage.id, "vote")
        items = [item.id for item in workshop.current_stage.items]
        db.session.remove()
    if stage == "open":
        return
    for i, sock in enumerate(sockets[WARM:]):
        reply = sock.emit("vote", {"cid": f"vote-{i:06d}", "item_id": items[i % len(items)], "dots": 1},
                          callback=True)
        assert reply["ok"], reply


if __name__ == "__main__":
    main()
