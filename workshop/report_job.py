"""Render a report outside the live session: a child process with a time and a memory limit.

The child also lowers its CPU priority (nice 10), so on a 2-core laptop the live server's
votes are served first while a report renders.

The console's request creates a queued Report row and returns at once. `start` runs
`python -m workshop.report_child <id>` and watches it from a background task (a greenlet under
gevent, where waiting on a child process is cooperative): WeasyPrint's seconds of CPU work
happen in another process, so the Socket.IO loop never stalls. The child marks the row
rendering, writes the PDF and the self-contained HTML into REPORT_DIR and marks it done; a
child that runs past REPORT_TIMEOUT is killed, one that crashes or passes REPORT_MEMORY_MB is
marked failed with the reason, shown on the report page.

Starting a child costs as much CPU as a third of a 30-page render (importing the app and
WeasyPrint, opening fonts, compiling templates). So when the facilitator opens the report
page, `warm` starts a spare child (REPORT_SPARE) that does all that, then waits on its stdin
for a report id; "Make the report" hands the id to it and the render starts at once. A spare
serves one report, like any child, and exits by itself after SPARE_IDLE seconds unused.
"""
from __future__ import annotations

import logging
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select

from . import report as documents
from .errors import Refused
from .extensions import db, socketio
from .models import Report, Workshop, utcnow
from .offload import ROOT, child_env  # noqa: F401 -- the renderer's environment is a worker's

log = logging.getLogger(__name__)
NICE = 10  # the renderer's CPU priority below the live server's
SPARE_IDLE = 900  # seconds a spare renderer waits for a report before it exits and frees its memory
IDLE_EXIT = 75  # a spare's exit status when it left unused (EX_TEMPFAIL): its report goes to a new child
_spare: tuple[dict, subprocess.Popen] | None = None  # (the environment it was started with, the child)
_spare_lock = threading.Lock()
# What a renderer can make: a job names a document as "<kind>:<id>" ("campaign:3"); a bare id is
# a workshop's report. Each kind of document registers its row (a Report-like model: status,
# files, pages, seconds, error) and how its HTML is rendered (campaign_report.py adds the campaign's).
DOCUMENTS: dict[str, tuple[type, Callable]] = {"": (Report, lambda row: documents.render_html(row.workshop))}
_renderers: dict[int, threading.BoundedSemaphore] = {}  # REPORT_RENDERERS at once, per process
_waiting: list[str] = []  # the jobs waiting for a renderer, first come first
JOB = re.compile(r"^(?:[a-z_]{1,20}:)?[0-9]{1,18}$")


def register_document(kind: str, model: type, render: Callable) -> None:
    """Let the renderer make another kind of document: rows of `model`, HTML from `render(row)`."""
    DOCUMENTS[kind] = (model, render)


def job_of(row) -> str:
    """Return how a renderer is told which document to make ("12" for a workshop's report)."""
    kind = next(kind for kind, (model, _render) in DOCUMENTS.items() if type(row) is model)
    return f"{kind}:{row.id}" if kind else str(row.id)


def document(job: str) -> tuple[object, Callable]:
    """Return a job's row and the function that renders its HTML."""
    kind, _sep, number = str(job).rpartition(":")
    model, render = DOCUMENTS[kind]
    return db.session.get(model, int(number)), render


def request(workshop: Workshop) -> Report:
    """Queue a new report for the workshop, unless one is being made already."""
    return queue(Report, workshop=workshop)


def queue(model: type, **owner):
    """Queue a new document row of `model` for its owner (`workshop=...`, `campaign=...`): in the
    owner's paper size and language, unless one is being made already."""
    ((name, value),) = owner.items()
    timeout = timedelta(seconds=current_app.config["REPORT_TIMEOUT"] + 30)
    for busy in db.session.scalars(select(model).where(
            getattr(model, f"{name}_id") == value.id, model.status.in_(("queued", "rendering")))):
        if busy.requested_at > utcnow() - timeout or job_of(busy) in _waiting:
            raise Refused(_l("A report is being made already: wait for it to finish."), 409)
        # Its watcher is gone (the server restarted mid-render): say so rather than wait forever.
        fail(busy, str(_l("The server stopped while this report was being made.")))
    row = model(**owner, status="queued", page_size=value.page_size, language=value.language)
    db.session.add(row)
    db.session.commit()
    return row


def start(report: Report) -> None:
    """Render a queued report in a child process, watched by a background task."""
    socketio.start_background_task(watch, current_app._get_current_object(), job_of(report))


def spawn(env: dict, arg: str) -> subprocess.Popen:
    """Start a renderer child: `arg` is a report id, or "--spare" for one that waits for an id on stdin."""
    # Niced from its first instruction: importing the app and WeasyPrint (2 CPU seconds) runs
    # before main() could lower its priority, and it would compete with the live server's votes.
    nice = ["nice", "-n", str(NICE)] if shutil.which("nice") else []
    return subprocess.Popen([*nice, sys.executable, "-m", "workshop.report_child", arg], cwd=ROOT, env=env,
                            stdin=subprocess.PIPE if arg == "--spare" else subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def warm(app) -> None:
    """Start a spare renderer for this app's settings, unless one is waiting already (REPORT_SPARE)."""
    global _spare
    if not app.config["REPORT_SPARE"]:
        return
    env = child_env(app)
    with _spare_lock:
        if _spare is not None and _spare[0] == env and _spare[1].poll() is None:
            return
        old, _spare = _spare, (env, spawn(env, "--spare"))
    if old is not None:
        _discard(old[1])


def _take_spare(env: dict) -> subprocess.Popen | None:
    """Return the waiting spare renderer if it was started with these settings and is alive."""
    global _spare
    with _spare_lock:
        spare, _spare = _spare, None
    if spare is None:
        return None
    if spare[0] == env and spare[1].poll() is None:
        return spare[1]
    _discard(spare[1])
    return None


def _discard(proc: subprocess.Popen) -> None:
    """Stop a spare that will not be used (started with other settings, or already gone)."""
    if proc.poll() is None:
        proc.kill()
    proc.communicate()


def _start(env: dict, report_id: int | str) -> subprocess.Popen:
    """Hand the report (a job: DOCUMENTS) to the spare renderer if there is one, else start a new child."""
    proc = _take_spare(env)
    if proc is not None:
        try:
            proc.stdin.write(f"{report_id}\n".encode())
            proc.stdin.flush()
            return proc
        except OSError:  # it exited just now: start a fresh one
            _discard(proc)
    return spawn(env, str(report_id))


def ahead(row) -> int | None:
    """Return how many reports wait for a renderer before this one (None: this one is not waiting)."""
    job = job_of(row) if row is not None else None
    return _waiting.index(job) if job in _waiting else None


def waiting_text(row) -> str | None:
    """Say where a queued report stands, for its page (None: it is not waiting for a renderer)."""
    n = ahead(row)
    if n is None:
        return None
    if n == 0:
        return str(_l("Waiting for a free renderer: other reports are being made."))
    return ngettext("Waiting for a free renderer: %(num)d report is ahead of this one.",
                    "Waiting for a free renderer: %(num)d reports are ahead of this one.", n)


def status(row) -> dict:
    """Return a report's state for the page that polls it, with its place in the queue while it waits."""
    text = waiting_text(row)
    return {**documents.status(row), "waiting": text} if text else documents.status(row)


def watch(app, report_id: int | str) -> None:
    """Wait for one of REPORT_RENDERERS renderers (first come first), then render the report."""
    cap = max(1, app.config["REPORT_RENDERERS"])
    slots = _renderers.setdefault(cap, threading.BoundedSemaphore(cap))
    job = str(report_id)
    _waiting.append(job)
    try:
        slots.acquire()
    finally:
        _waiting.remove(job)
    try:
        _render(app, report_id)
    finally:
        slots.release()


def _render(app, report_id: int | str) -> None:
    """Run the child for one report; kill it after REPORT_TIMEOUT; record why it failed, if it did."""
    timeout = app.config["REPORT_TIMEOUT"]
    env = child_env(app)
    log.info("report %s: starting its renderer", report_id)
    proc = _start(env, report_id)
    log.info("report %s: renderer pid %s", report_id, proc.pid)
    try:
        _out, err = proc.communicate(timeout=timeout)
        if proc.returncode == IDLE_EXIT:  # the spare gave up waiting as the id arrived
            proc = spawn(env, str(report_id))
            _out, err = proc.communicate(timeout=timeout)
        reason = _last_line(err) or f"exit status {proc.returncode}"
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        reason = None
    log.info("report %s: renderer exited with %s", report_id, proc.returncode)
    with app.app_context():
        row, _render = document(report_id)
        if row is not None and row.status != "done":
            message = (str(_l("Stopped: rendering took longer than %(s)d seconds.", s=timeout))
                       if reason is None else str(_l("Rendering failed: %(reason)s", reason=reason)))
            fail(row, row.error or message)
        db.session.remove()


def _last_line(stderr: bytes) -> str:
    """Return the child's last words on stderr (a traceback's last line says why)."""
    lines = [line for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def fail(row, error: str) -> None:
    """Mark a report failed with the reason the console shows."""
    row.status, row.error, row.finished_at = "failed", error[:1000], utcnow()
    db.session.commit()
