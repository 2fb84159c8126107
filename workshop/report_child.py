"""What runs in a report renderer's own process: `python -m workshop.report_child <id | --spare>`.

report_job.py starts and watches this process from the live server; here the app is built
afresh, the report rendered (the PDF and the self-contained HTML) and its row marked done or
failed. A spare waits, warmed up, for a report id on stdin.
"""
from __future__ import annotations

import gc
import logging
import os
import resource
import secrets
import sys
import time
from pathlib import Path
from select import select as wait_readable

from flask import current_app
from flask_babel import lazy_gettext as _l

import config

from . import create_app
from . import report as documents
from .extensions import db
from .models import Report, utcnow
from .report_job import IDLE_EXIT, JOB, NICE, SPARE_IDLE, document, fail

log = logging.getLogger(__name__)


def run(report_id: int | str) -> Report:
    """Render one queued report (in the child): the PDF and the self-contained HTML.

    `report_id` is a job (report_job.DOCUMENTS): a workshop report's id, or e.g. "campaign:3".
    """
    row, render = document(report_id)
    row.status = "rendering"
    db.session.commit()
    started = time.perf_counter()
    try:
        html = render(row)
        pdf, pages = documents.render_pdf(html)
        stem = secrets.token_urlsafe(18)
        pdf_name, html_name = f"{stem}.pdf", f"{stem}.html"
        _write(documents.folder() / pdf_name, pdf)
        _write(documents.folder() / html_name, documents.inline_images(html).encode("utf-8"))
    except MemoryError:
        fail(row, str(_l("Stopped: rendering needed more than %(mb)d MB of memory.",
                          mb=current_app.config["REPORT_MEMORY_MB"])))
        return row
    except Exception as exc:  # the reason goes to the console; the live session is unaffected
        log.exception("report %s failed", report_id)
        fail(row, str(_l("Rendering failed: %(reason)s", reason=f"{type(exc).__name__}: {exc}")))
        return row
    row.status, row.pdf_file, row.html_file, row.pages = "done", pdf_name, html_name, pages
    row.finished_at = utcnow()
    # What the report page says is the wait the facilitator had: from the click (the row was queued
    # then) to the files ready, the renderer's start-up included, never just the rendering.
    waited = (row.finished_at - row.requested_at).total_seconds() if row.requested_at else 0
    row.seconds = round(max(waited, time.perf_counter() - started), 2)
    db.session.commit()
    return row


def _write(path: Path, data: bytes) -> None:
    """Write a file whole or not at all: a reader never sees half a PDF."""
    partial = path.with_suffix(path.suffix + ".part")
    partial.write_bytes(data)
    partial.replace(path)


def limit_memory(megabytes: int) -> None:
    """Cap this process's address space, so a runaway render fails alone."""
    if megabytes > 0:
        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def wait_for_report() -> str | None:
    """Say "ready" on stdout, then wait up to SPARE_IDLE seconds for a report id on stdin."""
    print("ready", flush=True)
    if not wait_readable([sys.stdin], [], [], SPARE_IDLE)[0]:
        return None
    line = sys.stdin.readline().strip()
    return line if JOB.match(line) else None


def main(argv: list[str]) -> int:
    """Render the report whose id is argv[0] (or, with "--spare", the one stdin names) in this child."""
    # Below the live server in the CPU queue: on a 2-core laptop, votes come first.
    os.nice(max(0, NICE - os.nice(0)))
    limit_memory(config.Setting("REPORT_MEMORY_MB", 0, "").read())
    app = create_app(MIGRATE_ON_START=False, CHILD_PROCESS=True)  # no startup lock: the parent may hold it
    with app.app_context():
        if argv[0] != "--spare":
            report_id = argv[0]
        else:
            documents.warm_up()
            db.session.remove()
            report_id = wait_for_report()
            if report_id is None:
                return IDLE_EXIT
        # This process renders one report and exits: the cyclic garbage collector would spend a
        # fifth of the render walking WeasyPrint's boxes to free a few MB (measured: 8 MB at 53 pages).
        gc.freeze()
        gc.disable()
        row = run(report_id)
        status = 0 if row.status == "done" else 1
        db.session.remove()
        db.engine.dispose()
        return status


if __name__ == "__main__":
    code = main(sys.argv[1:])
    # The files are written and the row committed: leave without freeing the render's objects
    # one by one at interpreter exit, which cost another 0.8 CPU seconds (28 pages).
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
