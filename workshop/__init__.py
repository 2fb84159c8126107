"""Charrette: live, participatory campaign workshops. `create_app` builds the app."""
from __future__ import annotations

import gc
import logging
import os
import secrets
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, current_app, render_template, request
from flask_babel import get_locale
from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader
from sqlalchemy import event, text
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

import config as config_module

from . import batch, limits
from .checks import MAX_INT
from .compression import gzip_response
from .errors import Refused
from .extensions import babel, csrf, db, limiter, login_manager, migrate, socketio
from .sessions import CheckedOnceSessions

ROOT = Path(__file__).resolve().parent.parent

# script-src 'self' only: no inline scripts anywhere, so injected markup cannot run.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
       "object-src 'none'")


def create_app(config: config_module.Config | None = None, **overrides) -> Flask:
    """Build the app: config, extensions, blueprints, socket handlers, CLI."""
    app = Flask(__name__, template_folder=str(ROOT / "templates"),
                static_folder=str(ROOT / "static"), instance_path=str(ROOT / "instance"))
    app.config.from_object(config or config_module.from_env(**overrides))
    app.url_map.converters["int"] = BoundedInt  # before any route is added
    app.session_interface = CheckedOnceSessions()
    logging.basicConfig(level=app.config["LOG_LEVEL"],
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    Path(app.instance_path).mkdir(mode=0o700, parents=True, exist_ok=True)  # the default SQLite file
    _private_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(app)

    db.init_app(app)
    from . import schema
    migrate.init_app(app, db, directory=str(schema.MIGRATIONS))
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    csrf.init_app(app)
    limiter.init_app(app)
    limits.init_app(app)  # Flask-Limiter's hooks only on the routes that declare a limit
    from . import i18n
    babel.init_app(app, locale_selector=i18n.select_locale)
    app.jinja_env.globals["get_locale"] = get_locale
    i18n.init_app(app)
    socketio.init_app(app, async_mode=app.config["ASYNC_MODE"],
                      ping_interval=20, ping_timeout=25, max_http_buffer_size=64 * 1024,
                      # A socket's events run in its own reader, one after another: every handler
                      # takes milliseconds, and a task spawned per event was one more trip through
                      # the run queue for each tap, with thousands of phones in it.
                      async_handlers=False,
                      # Our own pages only: another site cannot open a socket as our user.
                      cors_allowed_origins=_socket_origins(app.config["PUBLIC_URL"]),
                      # Several processes: every broadcast goes through Redis to every process's rooms.
                      message_queue=app.config["REDIS_URL"] or None, channel=app.config["REDIS_CHANNEL"])
    if proxies := app.config["PROXY_COUNT"]:
        # Outside the Socket.IO middleware, so socket connections see the phone's address too.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    app.wsgi_app = _without_websocket_compression(app.wsgi_app)  # outside Socket.IO's own WSGI layer

    # A stage kind's screens live in its own folder (workshop/stages/<kind>/), named "stages/<kind>/...".
    app.jinja_loader = ChoiceLoader([app.jinja_loader, PrefixLoader(
        {"stages": FileSystemLoader(str(Path(__file__).resolve().parent / "stages"))})])

    from . import (
        address,
        auth,
        campaign_reports,
        campaigns,
        cli,
        data,
        facilitate,
        kap,
        participate,
        partners,
        present,
        reports,
        sockets,
    )

    for blueprint in (auth.bp, facilitate.bp, reports.bp, data.bp, present.bp, participate.bp, partners.bp,
                      address.bp, campaigns.bp, kap.bp, campaign_reports.bp):
        app.register_blueprint(blueprint)
    sockets.init_app(app)
    cli.init_app(app)

    app.after_request(_security_headers)
    app.after_request(gzip_response)
    app.register_error_handler(Refused, _refused)
    app.register_error_handler(404, _not_found)
    app.register_error_handler(429, _too_many)

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _tune_sqlite(db.engine)
        batch.init_engine(db.engine)
        if db.engine.dialect.name == "postgresql":
            from . import green_wait
            green_wait.install()  # psycopg waits on gevent's io watchers: half the CPU per round trip
        if app.config.get("CHILD_PROCESS"):  # a worker or a renderer: its parent set the database up
            return app
        with startup_lock():  # several processes starting at once on one database
            if app.config["MIGRATE_ON_START"] or db.engine.dialect.name != "sqlite":
                schema.upgrade()
            else:  # tests: a fresh database per test, built at once (test_schema checks both agree).
                # Only on SQLite: on PostgreSQL create_all adds the workshops -> stages foreign key with an
                # ALTER, and SQLAlchemy then leaves it out of every later CREATE TABLE of the same model
                # in the process, SQLite's included (a test's database without it).
                db.create_all()
            if app.config["CHARRETTE_ENV"] == "production":
                from .demo import lock_leftover_demo
                lock_leftover_demo()
    return app


class BoundedInt(IntegerConverter):
    """`<int:...>` in URLs, up to checks.MAX_INT: a longer number is no row of ours (404), and
    would overflow the database's integers (a 500 and a traceback per request)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_INT)
        super().__init__(map, *args, **kwargs)


def _socket_origins(public_url: str):
    """Accept a socket only from this app's pages: its own origin, or PUBLIC_URL's.

    The same rule as Engine.IO's default (scheme and Host, or the proxy's
    X-Forwarded-Proto/Host), plus the configured public address, which a
    reverse proxy may not forward as the Host.
    """
    public = urlsplit(public_url)
    configured = {f"{public.scheme}://{public.netloc}"} if public.scheme and public.netloc else set()

    def allowed(origin: str | None, environ: dict) -> bool:
        host = environ.get("HTTP_HOST", "")
        scheme = environ.get("wsgi.url_scheme", "http")
        own = {f"{scheme}://{host}"}
        if "HTTP_X_FORWARDED_PROTO" in environ or "HTTP_X_FORWARDED_HOST" in environ:
            fwd_scheme = environ.get("HTTP_X_FORWARDED_PROTO", scheme).split(",")[0].strip()
            fwd_host = environ.get("HTTP_X_FORWARDED_HOST", host).split(",")[0].strip()
            own.add(f"{fwd_scheme}://{fwd_host}")
        return origin in own | configured

    return allowed


@contextmanager
def startup_lock():
    """Let processes that start together set up a PostgreSQL database one at a time."""
    if db.engine.dialect.name != "postgresql":
        yield
        return
    with db.engine.connect() as conn:  # a session-level advisory lock, on a connection of its own
        conn.execute(text("SELECT pg_advisory_lock(727001)"))
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(727001)"))
            conn.commit()


def _private_sqlite_file(uri: str) -> None:
    """Create a new SQLite database file readable by its owner only (SQLite gives -wal and -shm the same)."""
    from sqlalchemy.engine import make_url
    url = make_url(uri)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:" \
            or url.database.startswith("file:"):
        return
    path = Path(url.database)
    if not path.exists() and path.parent.is_dir():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _instance_secret(app: Flask) -> str:
    """Return a per-install random secret kept in instance/ (development only)."""
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return path.read_text().strip()


def _without_websocket_compression(wsgi_app):
    """Decline permessage-deflate on WebSockets: browsers offer it, simple-websocket accepts it.

    Measured on 2,000 clients it roughly doubles the server's CPU and memory per
    connection; our messages are small numbers or HTML the server sends once per
    change, so compressing each one for each phone costs more than it saves on a LAN.
    The handshake simply goes on without the extension the client offered.
    """
    def app(environ, start_response):
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return wsgi_app(environ, start_response)

    return app


def _tune_sqlite(engine) -> None:
    """WAL and a busy timeout: many phones write at once, readers never block."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=5000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    engine.dispose()  # connections made before the listener get the pragmas too


def _security_headers(response):
    """Add the headers every response carries.

    Pages are never stored by a browser or a proxy (`no-store`): behind sign-in they show a
    facilitator's workshops, and a phone's pages show what that person gave; only files
    that say otherwise themselves (static assets, images, QR codes) are cached. In
    production over HTTPS (directly, or X-Forwarded-Proto from the proxy) HSTS is sent.
    Only the console's phone preview may be framed, and only by the app's own pages.
    """
    headers = response.headers
    # The names it has, looked up once: werkzeug answers a missing one (`get`, `in`, `setdefault`)
    # by raising an HTTP exception inside, a twentieth of a join page's CPU for five headers.
    present = {name.lower() for name in headers.keys()}
    framed = "x-frame-options" in present and headers["X-Frame-Options"] == "SAMEORIGIN"  # phone preview
    csp = CSP.replace("frame-ancestors 'none'", "frame-ancestors 'self'") if framed else CSP
    headers["X-Content-Type-Options"] = "nosniff"
    for name, value in (("Content-Security-Policy", csp),
                        ("Referrer-Policy", "same-origin"),  # token pages say no-referrer
                        ("X-Frame-Options", "DENY"),  # only the console's phone preview: SAMEORIGIN
                        ("Cache-Control", "private, no-store" if request.endpoint != "static" else None)):
        if value is not None and name.lower() not in present:
            headers[name] = value
    cfg = current_app.config
    if cfg["CHARRETTE_ENV"] == "production" and request.is_secure and cfg["HSTS_SECONDS"]:
        response.headers["Strict-Transport-Security"] = f"max-age={cfg['HSTS_SECONDS']}"
    return response


def _refused(error: Refused):
    """Show a refusal as a page with the reason."""
    return render_template("error.html", message=error.message), error.status


def _not_found(_error):
    from flask_babel import gettext as _
    return render_template("error.html", message=_("This page does not exist.")), 404


def _too_many(_error):
    """Say that a rate limit was hit, and offer to try the same page again."""
    from .limits import TOO_FAST
    return render_template("error.html", message=TOO_FAST, retry=request.path), 429


def quiet_garbage_collector() -> None:
    """Keep Python's full garbage collections short and rare while thousands of phones are connected.

    Measured with 2,000 phones: 27 full collections of ~0.35 s each, every one a pause
    for every phone (13 s of the server's 112 s CPU in all generations; now 5 collections,
    0.7 s, and 5.3 s in all). What exists at startup (modules, templates,
    mappings: ~180,000 objects) lives until the process ends: frozen, no collection scans
    it again. The youngest generation is collected after 20,000 allocations, not 700, and the
    oldest (the full collection) after 100 collections of the middle one, not 10: with 4,000
    phones connected a full collection walks their ~2 million objects and paused every phone for
    0.5 s in the middle of voting (vote->projector p99 371 ms, the bare server 150); with 100, the
    4,000-phone benchmark ran without one (p99 162 ms) and peaked at the same memory (494 MB).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 10, 100)
    gc.callbacks.append(_time_full_collections)


GC_PAUSE_LOGGED = 0.05  # seconds: a full collection this long is logged (every screen waited for it)
_gc_started = 0.0


def _time_full_collections(phase: str, info: dict) -> None:
    """Log the full garbage collections long enough for a room to notice."""
    global _gc_started
    if info.get("generation") != 2:
        return
    if phase == "start":
        _gc_started = time.perf_counter()
        return
    took = time.perf_counter() - _gc_started
    if took >= GC_PAUSE_LOGGED:
        logging.getLogger(__name__).warning("a full garbage collection paused the server for %.0f ms "
                                            "(%d objects collected)", took * 1000, info.get("collected", 0))
