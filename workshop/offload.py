"""CPU-heavy work outside the live process: worker processes, a cap on jobs at once, a queue.

The live server is one gevent process: while one request decodes a 40-megapixel image, parses
a 50 MB import or writes a 160,000-vote export, no phone's vote is answered. So that work is a
*job*, `run("image", data)`, done by a worker process (`python -m workshop.worker_child`, as the
report renderer is one: niced, with a memory limit and a timeout) while the request's greenlet
waits on a pipe, which under gevent is cooperative.

- At most WORKER_JOBS jobs run at once (across the process); the others wait their turn, at most
  WORKER_QUEUE of them: beyond that a job is refused at once ("busy, try again"), not stacked up.
- A worker serves one job after another and leaves after WORKER_IDLE seconds unused; one that
  runs past WORKER_TIMEOUT is killed and its job fails (the request says so).
- With SQLite under gevent the process has one database connection: `run` gives it back
  (commits the session, which must hold nothing unfinished) before it waits, as the e-mail
  send does, so the room's votes go on while the job runs. A job that needs the database
  opens its own connection in the worker (WAL: readers never wait for writers).
- A job names a function of JOBS ("module:function"); its arguments and result are plain data.
  A refusal in the worker comes back as the same `Refused`, in the person's language.
- An in-memory database cannot be shared with another process, and WORKER_JOBS = 0 asks for no
  workers: then jobs run in the request, as before (the tests' in-memory app does).
"""
from __future__ import annotations

import importlib
import logging
import os

# B403: pickle only carries jobs and answers between this server and the worker children it
# started itself, over their private pipes (see _read); nothing from outside is ever unpickled.
import pickle  # nosec B403
import shutil
import struct
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

import config

from .errors import Refused
from .extensions import db

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)
NICE = 10  # below the live server in the CPU queue, like the report renderer
# What a worker may be asked to run (a job's name is never a module path from outside).
JOBS = {
    "image": "workshop.images:store",
    "import": "workshop.datajobs:import_file",
    "export_csv": "workshop.datajobs:export_csv",
    "export_json": "workshop.datajobs:export_json",
}
IN_WORKER = False  # set in the worker process: a job there runs its inner jobs itself
_HEADER = struct.Struct("!Q")
_lock = threading.Lock()
_slots: dict[int, threading.BoundedSemaphore] = {}
_idle: list[tuple[dict, subprocess.Popen]] = []
_state = {"waiting": 0, "running": 0}
BUSY = _l("The server is busy with other files right now. Try again in a minute.")
FAILED = _l("Working on this file took too long or failed. Try a smaller file.")


def child_env(app) -> dict:
    """Return a child's environment (a worker's, a renderer's): this app's settings, so it opens the
    same database and folders."""
    env = {**os.environ}
    for setting in config.SETTINGS:
        value = app.config.get(setting.name, setting.default)
        env[setting.name] = ("1" if value else "0") if isinstance(value, bool) else str(value)
    env.update(CHARRETTE_ENV="development", DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
               SECRET_KEY=app.config["SECRET_KEY"], ASYNC_MODE="threading", REDIS_URL="", DEMO="0",
               LOG_LEVEL="ERROR")
    return env


def inline(app) -> bool:
    """Tell whether jobs run in the request: no workers asked for, or a database only this process sees."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    return IN_WORKER or app.config["WORKER_JOBS"] <= 0 or uri in ("sqlite://", "sqlite:///:memory:") \
        or ":memory:" in uri or "mode=memory" in uri


def function(job: str):
    """Return the function a job names in JOBS."""
    module, _sep, name = JOBS[job].partition(":")
    return getattr(importlib.import_module(module), name)


def run(job: str, *args):
    """Run a job of JOBS in a worker process and return its result; wait cooperatively, in turn.

    Raises Refused when the job refuses (the worker's message), when too many wait already
    (503), or when the worker failed or ran past WORKER_TIMEOUT (500).
    """
    app = current_app._get_current_object()
    if inline(app):
        return function(job)(*args)
    db.session.commit()  # give the connection back before waiting: nothing may be pending here
    with _turn(app):
        return _on_worker(app, job, args)


def load() -> dict:
    """Return how many jobs run and wait now (in this process)."""
    return dict(_state)


@contextmanager
def _turn(app):
    """Wait for one of WORKER_JOBS slots (at most WORKER_QUEUE waiting), then hold it."""
    cap = max(1, app.config["WORKER_JOBS"])
    with _lock:
        slots = _slots.setdefault(cap, threading.BoundedSemaphore(cap))
        got = slots.acquire(blocking=False)
        if not got:
            if _state["waiting"] >= app.config["WORKER_QUEUE"]:
                raise Refused(BUSY, 503)
            _state["waiting"] += 1
    if not got:
        try:
            got = slots.acquire(timeout=app.config["WORKER_TIMEOUT"])
        finally:
            with _lock:
                _state["waiting"] -= 1
        if not got:
            raise Refused(BUSY, 503)
    _state["running"] += 1
    try:
        yield
    finally:
        _state["running"] -= 1
        slots.release()


def _on_worker(app, job: str, args: tuple):
    """Hand one job to an idle worker (or a new one) and wait for its answer."""
    env = child_env(app)
    proc = _take(env)
    locale = str(get_locale() or app.config.get("BABEL_DEFAULT_LOCALE", "en"))
    timer = threading.Timer(app.config["WORKER_TIMEOUT"], proc.kill)
    timer.daemon = True
    timer.start()
    try:
        _write(proc.stdin, (job, args, locale))
        answer = _read(proc.stdout)
    except (OSError, EOFError, struct.error, pickle.UnpicklingError):
        answer = None
    finally:
        timer.cancel()
    if answer is None:
        _stop(proc)
        log.error("job %s: its worker stopped (exit status %s)", job, proc.returncode)
        raise Refused(FAILED, 500)
    _give_back(app, env, proc)
    kind, value, status = answer
    if kind == "refused":
        raise Refused(value, status)
    if kind == "error":
        log.error("job %s failed in its worker: %s", job, value)
        raise Refused(FAILED, 500)
    return value


def _take(env: dict) -> subprocess.Popen:
    """Return an idle worker started with these settings, or start one."""
    with _lock:
        for n, (started_with, proc) in enumerate(_idle):
            if started_with == env and proc.poll() is None:
                del _idle[n]
                return proc
    nice = ["nice", "-n", str(NICE)] if shutil.which("nice") else []
    # Its errors go to the server's own log (stderr), never into the pipe of answers.
    return subprocess.Popen([*nice, sys.executable, "-m", "workshop.worker_child"], cwd=ROOT, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)


def _give_back(app, env: dict, proc: subprocess.Popen) -> None:
    """Keep a worker for the next job; at most WORKER_JOBS wait idle, the oldest others stop."""
    with _lock:
        _idle.append((env, proc))
        extra = _idle[:-max(1, app.config["WORKER_JOBS"])]
        del _idle[:len(extra)]
    for _env, old in extra:
        _stop(old)


def stop_idle() -> None:
    """Stop the workers waiting for a job (they would leave by themselves after WORKER_IDLE)."""
    with _lock:
        idle = list(_idle)
        _idle.clear()
    for _env, proc in idle:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    """Stop a worker and reap it."""
    if proc.poll() is None:
        proc.kill()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:  # pragma: no cover - a killed process is reaped at once
        pass


def _write(stream, message) -> None:
    """Send one message (pickled, its length first)."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _read(stream):
    """Read one message, or None at the end of the stream."""
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        return None
    # B301: the bytes come from a pipe between this server and the worker child it started itself
    # (or, in the child, from that server): no one else can write to it.
    return pickle.loads(data)  # nosec B301
