"""psycopg's waits for PostgreSQL as plain gevent waits, in a server that gevent has monkey-patched.

Under gevent psycopg waits for its socket with `select.poll`, which gevent emulates: every wait
makes a poll object and an io watcher, and goes through gevent's hub even when the socket is
ready at once (a query's send nearly always is). Measured on a vote's two pipelined round trips
(2 cores, psycopg 3.3, gevent 26): 1.1 ms of the app process's CPU and 3.7 ms of wall time a
vote, against 0.5-0.6 ms and 1.7-2.1 ms with `wait` here; psycopg's C wait, which blocks the
whole process, takes 0.5 ms and 1.6 ms (not for this server: one greenlet may wait for a row
lock that another greenlet of the same process holds).

`wait` asks the socket first, without blocking, and waits on one gevent io watcher only when it
must; other greenlets run meanwhile. A wait with a deadline (psycopg's cancellation, a close
with a timeout) goes to psycopg's own wait, as before.
"""
from __future__ import annotations

import select

from gevent import monkey
from gevent.hub import get_hub
from psycopg import waiting
from psycopg.waiting import Ready, Wait

POLL = monkey.get_original("select", "poll")  # the real one: asks the kernel, never yields
ASK = {Wait.R: select.POLLIN, Wait.W: select.POLLOUT, Wait.RW: select.POLLIN | select.POLLOUT}
WATCH = {Wait.R: 1, Wait.W: 2, Wait.RW: 1 | 2}  # libev's READ and WRITE
BAD = select.POLLERR | select.POLLHUP | select.POLLNVAL


def install() -> bool:
    """Make psycopg wait with `wait` if gevent has patched `select` (else psycopg's own C wait stays,
    which is right for a process without greenlets). Return whether it did."""
    if not monkey.is_module_patched("select"):
        return False
    waiting.wait = wait
    return True


PSYCOPG_WAIT = waiting.wait  # psycopg's own, for the waits with a deadline


def wait(gen, fileno: int, interval: float | None = 0.0, timeout: float | None = None):
    """Drive a psycopg generator (`psycopg.waiting.wait`'s contract) until it returns; return its value.

    `interval` (psycopg wakes its wait that often to notice Ctrl-C) is not needed here: gevent's
    hub handles signals itself.
    """
    if timeout is not None:
        return PSYCOPG_WAIT(gen, fileno, interval=interval, timeout=timeout)
    try:
        waiting_for = next(gen)
        while True:
            ready = _ready(fileno, ASK[waiting_for])
            if not ready:
                hub = get_hub()
                watcher = hub.loop.io(fileno, WATCH[waiting_for])
                try:
                    hub.wait(watcher)
                finally:
                    watcher.close()
                ready = _ready(fileno, ASK[waiting_for])
            waiting_for = gen.send(ready)
    except StopIteration as done:
        return done.value


def _ready(fileno: int, events: int) -> int:
    """Ask the kernel, without waiting, what the socket is ready for: psycopg's Ready flags (0: nothing)."""
    poll = POLL()
    poll.register(fileno, events)
    found = poll.poll(0)
    if not found:
        return 0
    happened = found[0][1]
    ready = (Ready.R if happened & select.POLLIN else 0) | (Ready.W if happened & select.POLLOUT else 0)
    if not ready and happened & BAD:  # closed or broken: let libpq read, and raise its own error
        return Ready.R
    return ready
