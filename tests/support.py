"""Helpers shared by the browser tests and the scripts: a real server in a subprocess."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}


@contextmanager
def fresh_postgres(admin_url: str, prefix: str = "charrette"):
    """Create a PostgreSQL database of its own beside `admin_url`'s; yield its URL; drop it afterwards."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(admin_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _with_database(url: str, name: str) -> str:
    """Return `url` naming database `name` instead (its query, such as a Unix socket's ?host=, kept)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppProcess:
    """`python wsgi.py` (gevent) in a subprocess on one port; its output goes to tmp_dir/NAME.log.

    Defaults: an SQLite file in tmp_dir and the demo workshop; `env` overrides them (e.g.
    DATABASE_URL and REDIS_URL for scale-out). The port stays the same across restarts.
    `root` runs another checkout's wsgi.py (in that directory); `script` another server that
    reads PORT (the benchmark's bare server).
    """

    def __init__(self, tmp_dir: Path, name: str = "server", port: int | None = None, *,
                 root: Path = ROOT, script: str | Path = "wsgi.py", **env):
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_dir / f"{name}.log"
        self.env = {**os.environ, "PORT": str(self.port), "HOST": "127.0.0.1", "PUBLIC_URL": self.base,
                    "DATABASE_URL": f"sqlite:///{tmp_dir / 'charrette.db'}", "SECRET_KEY": "e2e-secret",
                    "DEMO": "1", "CHARRETTE_ENV": "development",
                    "UPLOAD_DIR": str(tmp_dir / "uploads"), **env}
        self.root, self.script = Path(root), str(script)
        self.proc = None

    def start(self, timeout: float = 90) -> str:
        """Start the server and wait until it answers HTTP; return its base URL.

        `timeout` only catches a server that never comes up: a fresh PostgreSQL schema's
        migrations took over 30 s on a machine busy with other work (a fixture error once).
        """
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen([sys.executable, self.script], cwd=self.root, env=self.env,
                                         stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(self.base + "/", timeout=1).read()
                return self.base
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("server did not start:\n" + self.log_path.read_text()) from None
                time.sleep(0.2)

    def kill(self) -> None:
        """Stop the process at once (SIGKILL), as a crash or a pulled plug would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        """Stop the process politely (SIGTERM), then by force."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


@contextmanager
def running_server(tmp_dir: Path, name: str = "server", **env):
    """Run `python wsgi.py` (gevent, SQLite file unless env says otherwise); yield its base URL."""
    server = AppProcess(tmp_dir, name, **env)
    try:
        yield server.start()
    finally:
        server.stop()


@contextmanager
def server_and_app(tmp_dir: Path, name: str = "browser"):
    """Run a server (the demo workshop) and push an app context on its database, to set data up directly;
    yield (base URL, app, where screenshots go: $CHARRETTE_SHOTS or a folder of tmp_dir)."""
    import config
    from workshop import create_app
    from workshop.extensions import db
    shots = Path(os.environ.get("CHARRETTE_SHOTS") or tmp_dir / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    with running_server(tmp_dir) as base:
        app = create_app(config.TestingConfig(DATABASE_URL=f"sqlite:///{tmp_dir / 'charrette.db'}",
                                              UPLOAD_DIR=str(tmp_dir / "uploads")))
        ctx = app.app_context()
        ctx.push()
        try:
            yield base, app, shots
        finally:
            db.session.remove()
            ctx.pop()


def launch_browser(playwright):
    """Start Debian's Chromium headless (Playwright's own download is not used)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def sign_in(page, base: str, email="demo@example.org", password="demo-facilitator") -> None:
    """Sign a facilitator in on a page."""
    page.goto(base + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button:has-text('Sign in')")
    page.wait_for_url("**/workshops")


def join_phone(context, base: str, code: str, group: str, name: str | None = None):
    """Open a phone page, enter the code, pick a group; return the live page."""
    page = context.new_page()
    page.goto(base + "/")
    page.fill("#code", code)
    page.click("button:has-text('Join')")
    if name is not None:
        page.fill("input[name=name]", name)
    page.check(f"input[name=group][value='{group}']")
    page.click("button:has-text('Join')")
    page.wait_for_selector("[data-conn=connected], [data-conn=saved]")
    return page


def show_card(phone, card):
    """Bring a card of a phone's ballot into view and return it: with Next / Previous where the phone
    shows one concept or draft per screen ("Let phones browse"), else by scrolling. A view pushed
    meanwhile redraws the cards (and may show the first again): then it looks again."""
    from playwright.sync_api import Error as PlaywrightError
    for _ in range(20):
        try:
            if card.is_visible():
                card.scroll_into_view_if_needed(timeout=2000)
                return card
            target = card.evaluate(
                "c => [...document.querySelectorAll('[data-card]')].indexOf(c.closest('[data-card]'))")
            shown = phone.locator("[data-card]").evaluate_all("cs => cs.findIndex(c => !c.hidden)")
            phone.locator(f"button[data-pager='{'next' if shown < target else 'prev'}']").click(timeout=2000)
        except PlaywrightError:  # redrawn under us: find it again
            phone.wait_for_timeout(200)
    raise AssertionError("the card never came into view")


@contextmanager
def postgres_round_trips(engine):
    """Trace the PostgreSQL connections `engine` hands out from now on (libpq's protocol trace);
    yield `taken()`, which returns the client's messages that each ended a round trip since its
    last call: each simple Query (BEGIN, COMMIT, ...) and each Sync (one after a statement, one
    after a whole pipeline)."""
    import tempfile

    from psycopg import pq
    from sqlalchemy import event

    traced = []
    with tempfile.NamedTemporaryFile("w+", suffix=".trace") as log:
        def trace(dbapi_conn, *_args):
            if dbapi_conn.pgconn not in traced:
                dbapi_conn.pgconn.trace(log.fileno())
                dbapi_conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
                traced.append(dbapi_conn.pgconn)

        def taken() -> list[str]:
            log.flush()
            trips = []
            for line in Path(log.name).read_text().splitlines():
                parts = line.split("\t")
                if len(parts) > 2 and parts[0] == "F" and parts[2] in ("Query", "Sync"):
                    trips.append(parts[2] + (parts[3] if len(parts) > 3 else ""))
            log.truncate(0)
            log.seek(0)
            return trips

        event.listen(engine, "checkout", trace)
        try:
            yield taken
        finally:
            event.remove(engine, "checkout", trace)
            for pgconn in traced:
                pgconn.untrace()
