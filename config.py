"""Configuration: every setting is read from an environment variable.

`SETTINGS` is the single list of what can be configured; the table in
docs/operations.md is checked against it by a test. Config classes only pick defaults per
environment.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    help: str

    def read(self, environ=os.environ):
        """Return the env var's value, coerced to the type of the default."""
        raw = environ.get(self.name)
        if raw is None or raw == "":
            return self.default
        if isinstance(self.default, bool):
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        if isinstance(self.default, int):
            return int(raw)
        if isinstance(self.default, float):
            return float(raw)
        return raw


SETTINGS = [
    Setting("CHARRETTE_ENV", "development",
            "`development` (default), `production` or `testing`."),
    Setting("SECRET_KEY", "",
            "Signs sessions and participant cookies. Required in production, and refused there when "
            "weak: shorter than 32 characters, few distinct characters, or a known placeholder "
            "(make one with `python3 -c 'import secrets; print(secrets.token_hex(32))'`); "
            "in development a random key is generated and kept in instance/."),
    Setting("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'charrette.db'}",
            "SQLAlchemy URL. Default: an SQLite file under instance/. PostgreSQL: "
            "`postgresql://user@host/db` (psycopg 3 is used; `postgres://` works too)."),
    Setting("DATABASE_POOL_SIZE", 20,
            "PostgreSQL connections each process keeps open, and opens no more: a burst waits for one."),
    Setting("REDIS_URL", "",
            "Redis URL, e.g. `redis://127.0.0.1:6379/0`. Set it to run several processes: "
            "Socket.IO then passes every broadcast through Redis so all processes share rooms."),
    Setting("REDIS_CHANNEL", "charrette",
            "Redis pub/sub channel of the broadcasts (distinct per deployment sharing one Redis)."),
    Setting("PROXY_COUNT", 0,
            "Reverse proxies in front of the app (deploy/haproxy.cfg: 1). Their X-Forwarded-For/-Proto/-Host "
            "are trusted, so rate limits count each phone, not the proxy; 0 ignores these headers."),
    Setting("HOST", "0.0.0.0", "Address to listen on (all interfaces, so phones on the LAN reach it)."),
    Setting("PORT", 5000, "Port to listen on."),
    Setting("PUBLIC_URL", "",
            "Base URL phones use to join (printed and in the QR code). Empty: http://<address>:<PORT> "
            "with this laptop's best LAN address, followed as the network changes and switchable on "
            "the console. Set: always this one (a proxy, several processes)."),
    Setting("DEMO", True, "Create a demo facilitator and workshop on first run (development only: "
            "ignored in production, where a demo account left over is locked). Its password is "
            "shown on /login, and the demo account signs in, only on the laptop itself (127.0.0.1 or ::1)."),
    Setting("DEMO_EMAIL", "demo@example.org", "Login of the demo facilitator."),
    Setting("DEMO_PASSWORD", "demo-facilitator", "Password of the demo facilitator."),
    Setting("ASYNC_MODE", "gevent", "Socket.IO async mode: `gevent` (default) or `threading`."),
    Setting("PUSH_INTERVAL", 0.1,
            "Seconds between coalesced number pushes (joins, votes) to projector and console, "
            "across all processes (0 = push at once, used by tests)."),
    Setting("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"),
            "Folder for concept and draft images (re-encoded copies only)."),
    Setting("REPORT_DIR", str(INSTANCE_DIR / "reports"),
            "Folder for rendered reports (PDF and HTML). With several processes, share it like UPLOAD_DIR."),
    Setting("REPORT_TIMEOUT", 120.0,
            "Seconds a report may take to render; its process is then stopped and the report marked failed."),
    Setting("REPORT_MEMORY_MB", 1536,
            "Address-space limit (MB) of the process that renders a report (0 = no limit)."),
    Setting("REPORT_SPARE", True,
            "Start a report renderer when the report page opens, so it renders at once when asked "
            "(about 150 MB while it waits, 15 minutes at most)."),
    Setting("SMTP_HOST", "",
            "SMTP server that sends reports to partners. Empty: sending by e-mail is switched off."),
    Setting("SMTP_PORT", 587, "SMTP port (587 for STARTTLS, 465 for SSL, 25 for neither)."),
    Setting("SMTP_SECURITY", "starttls",
            "`starttls` (upgrade the connection), `ssl` (TLS from the start) or `none` (local relays only)."),
    Setting("SMTP_USERNAME", "", "SMTP login (empty: send without logging in)."),
    Setting("SMTP_PASSWORD", "", "SMTP password."),
    Setting("SMTP_FROM", "", "Sender address of the report e-mails, e.g. `Charrette <reports@example.org>`."),
    Setting("SMTP_TIMEOUT", 20.0, "Seconds to wait for the SMTP server before giving up."),
    Setting("WORKER_JOBS", 2,
            "CPU-heavy jobs (decoding images, imports, exports) run at once in worker processes, "
            "outside the live server; the others wait their turn (0 = run them in the request)."),
    Setting("WORKER_QUEUE", 20, "Jobs that may wait for a worker; more are refused (try again) at once."),
    Setting("WORKER_TIMEOUT", 600.0, "Seconds a job may run in a worker (then it stops), and wait for one."),
    Setting("WORKER_MEMORY_MB", 2048, "Address-space limit (MB) of a worker process (0 = no limit)."),
    Setting("WORKER_IDLE", 600.0, "Seconds an unused worker process waits for a job before it exits."),
    Setting("REPORT_RENDERERS", 2,
            "Reports rendered at once (each renderer takes about 230 MB); the others wait their turn, "
            "their page showing how many are ahead."),
    Setting("IMPORT_MAX_MB", 50, "Largest workshop file (JSON export) that may be imported, in MB."),
    Setting("SIGNUP_OPEN", False,
            "Let anyone who reaches the app create a facilitator account. Off (default): the first "
            "facilitator signs up, further ones with an invitation link made on the Account page."),
    Setting("MAIL_SENDS_PER_ACCOUNT_DAY", 60,
            "Report e-mails (one per recipient) an account may send in a day (0 = none)."),
    Setting("MAIL_SENDS_PER_WORKSHOP_DAY", 30,
            "Report e-mails (one per recipient) one workshop's report may be sent to in a day (0 = none)."),
    Setting("HSTS_SECONDS", 31536000,
            "Production over HTTPS: the Strict-Transport-Security max-age sent (0 = no header)."),
    Setting("LOG_LEVEL", "INFO", "Python log level."),
    Setting("RATELIMIT_STORAGE_URI", "memory://",
            "Where rate-limit counters live: `memory://` (one process) or a `redis://` URL "
            "shared by every process."),
]


def database_uri(url: str) -> str:
    """Return the SQLAlchemy URL, with PostgreSQL URLs pointed at the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _env() -> dict:
    return {s.name: s.read() for s in SETTINGS}


class Config:
    """Defaults shared by every environment, overridden from the environment."""

    TESTING = False
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(days=30)  # a phone stays "the same participant"
    # The session cookie is signed and sent only when the session changed (a join, a sign-in), not
    # on every response: re-signing it for every page of a join storm was CPU for nothing.
    SESSION_REFRESH_EACH_REQUEST = False
    # A facilitator's sign-in ends after a long workshop day, or after the
    # remember-me duration when "Keep me signed in" was ticked.
    FACILITATOR_SESSION_LIFETIME = timedelta(hours=12)
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    REMEMBER_COOKIE_REFRESH_EACH_REQUEST = False  # its sign-in's end is fixed (workshop/auth.py)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    BABEL_DEFAULT_LOCALE = "en"
    MAX_CONTENT_LENGTH = 10 * 1024 * 1024  # an image upload (8 MB) with its form
    SEND_FILE_MAX_AGE_DEFAULT = 600  # phones re-check assets every 10 minutes at most
    # Rate limits, per address unless said otherwise; why these numbers: workshop/limits.py.
    RATE_LIMITS = {
        "code_guesses": "60 per minute",       # wrong join codes (failures only)
        "joins": "10000 per 5 minutes",        # join form, per address and code
        "login_failures": "10 per minute;50 per hour",
        "signups": "20 per hour",
        "ideas": "10 per minute",              # per participant, over Socket.IO
        "votes": "120 per minute",             # per participant, over Socket.IO
        "syncs": "60 per minute",              # whole views asked for, per phone or per screen
        "uploads": "30 per minute;300 per hour",  # images, per account or partner link
        "imports": "10 per hour",              # workshop files, per account
        "exports": "30 per hour",              # CSV and JSON downloads, per account
    }
    RATELIMIT_ENABLED = True  # set explicitly: Flask-Limiter keeps the last app's value otherwise
    MIGRATE_ON_START = True  # upgrade the database to the newest schema revision on start

    ENVIRONMENT = "development"

    def __init__(self, **overrides):
        for key, value in _env().items():
            setattr(self, key, value)
        for key, value in overrides.items():
            setattr(self, key, value)
        self.CHARRETTE_ENV = self.ENVIRONMENT
        if "SQLALCHEMY_DATABASE_URI" not in overrides:
            self.SQLALCHEMY_DATABASE_URI = database_uri(self.DATABASE_URL)
        if self.SQLALCHEMY_DATABASE_URI.startswith("postgresql"):
            self.SQLALCHEMY_ENGINE_OPTIONS = {
                # No pool_pre_ping: it was one more round trip for every socket event (a vote is 3).
                # A connection dropped by a PostgreSQL restart or failover fails once; SQLAlchemy
                # then empties the pool, and a phone's event is run again on a new connection
                # (sockets.handle; its client id makes that safe).
                # gevent: a connection is held only for one event's transaction, so a small pool
                # serves thousands of phones; N processes x pool must stay under max_connections.
                # No overflow: in a join storm the connections opened beyond the pool were closed
                # as they came back and opened again for the next phones (419 connections for
                # 2,000 joins, 12% of the join's CPU: docs/capacity.md, eighth round).
                "pool_size": self.DATABASE_POOL_SIZE,
                "max_overflow": 0,
                "pool_timeout": 10,
                "pool_recycle": 3600,
            }
        elif self.SQLALCHEMY_DATABASE_URI.startswith("sqlite:") and self.ASYNC_MODE == "gevent":
            # One connection per process, handed from greenlet to greenlet. SQLite has one
            # writer; with several connections a greenlet waiting for the write lock sleeps
            # in SQLite's busy handler, in C, which blocks every greenlet of the process,
            # the lock holder's included, until busy_timeout: measured, 250 phones exhausted
            # a pool of 40 that way. Waiting for the pool instead is cooperative.
            self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 60}


class DevelopmentConfig(Config):
    """Laptop default: SQLite, one process, a demo workshop."""

    ENVIRONMENT = "development"


class TestingConfig(Config):
    """Isolated from the environment's database; pushes at once."""

    ENVIRONMENT = "testing"

    def __init__(self, **overrides):
        defaults = {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": "sqlite://",
            "DEMO": False,
            "ASYNC_MODE": "threading",
            "PUSH_INTERVAL": 0.0,
            "WTF_CSRF_ENABLED": False,
            "MIGRATE_ON_START": False,
            "REPORT_SPARE": False,
            "WORKER_JOBS": 0,  # jobs in the request; tests/test_freeze.py asks for workers
        }
        defaults.update(overrides)
        super().__init__(**defaults)


class ProductionConfig(Config):
    """Secure cookies and an explicit secret key."""

    ENVIRONMENT = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True

    def __init__(self, **overrides):
        super().__init__(**overrides)
        if problem := weak_secret(self.SECRET_KEY):
            raise RuntimeError(f"SECRET_KEY {problem} (CHARRETTE_ENV=production). Make one with: "
                               "python3 -c 'import secrets; print(secrets.token_hex(32))'")
        self.DEMO = False  # no demo account where strangers can reach the sign-in page


# Placeholders from our own files and common examples: a cookie signed with one is forged at will.
KNOWN_SECRETS = ("change-me", "changeme", "secret", "test-secret", "development", "example", "password",
                 "your-secret-key", "replace-me")


def weak_secret(key: str) -> str | None:
    """Say why a production SECRET_KEY is unusable, or None when it will do."""
    if not key:
        return "must be set"
    lowered = key.lower()
    if any(lowered.startswith(known) or lowered == known for known in KNOWN_SECRETS):
        return "is a known placeholder"
    if len(key) < 32:
        return "is shorter than 32 characters"
    if len(set(key)) < 12:
        return "has too few distinct characters"
    return None


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def from_env(**overrides) -> Config:
    """Build the config object named by CHARRETTE_ENV."""
    name = overrides.pop("CHARRETTE_ENV", None) or os.environ.get("CHARRETTE_ENV") or "development"
    return CONFIGS[name](**overrides)
