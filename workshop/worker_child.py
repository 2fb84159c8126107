"""What runs in a worker process: `python -m workshop.worker_child` (offload.py starts and feeds it).

It builds the app afresh (the same settings as the live server: offload.child_env), then answers
jobs one after another: a job (its name in offload.JOBS, plain arguments, the person's language)
comes on stdin, its answer goes back on stdout: ("ok", result, 0), ("refused", message, status)
or ("error", reason, 0). It leaves when stdin closes or after WORKER_IDLE seconds without a job.
"""
from __future__ import annotations

import logging
import os
import sys
from select import select as wait_readable

from flask_babel import force_locale

import config

from . import create_app, offload
from .errors import Refused
from .extensions import db
from .report_child import limit_memory

log = logging.getLogger(__name__)


def serve(app, jobs_in, answers_out, idle: float) -> int:
    """Answer jobs until stdin closes or none comes for `idle` seconds."""
    while True:
        if not wait_readable([jobs_in], [], [], idle)[0]:
            return 0
        message = offload._read(jobs_in)
        if message is None:
            return 0
        job, args, locale = message
        with app.test_request_context(), force_locale(locale):
            try:
                answer = ("ok", offload.function(job)(*args), 0)
            except Refused as refusal:
                answer = ("refused", refusal.message, refusal.status)
            except Exception as exc:  # the reason goes to the server's log; the worker stays
                log.exception("job %s failed", job)
                answer = ("error", f"{type(exc).__name__}: {exc}"[:300], 0)
            finally:
                db.session.remove()
        offload._write(answers_out, answer)


def main() -> int:
    """Lower this process's priority and memory, build the app, answer jobs."""
    os.nice(max(0, offload.NICE - os.nice(0)))
    limit_memory(config.Setting("WORKER_MEMORY_MB", 0, "").read())
    # The answers' pipe is stdout: anything else printed goes to stderr instead.
    answers_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    offload.IN_WORKER = True
    app = create_app(MIGRATE_ON_START=False, CHILD_PROCESS=True)  # no startup lock: the parent may hold it
    with app.app_context():
        return serve(app, sys.stdin.buffer, answers_out, config.Setting("WORKER_IDLE", 600.0, "").read())


if __name__ == "__main__":
    sys.exit(main())
