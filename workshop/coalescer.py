"""Coalesce pushes: workshops whose views changed are refreshed at most every interval.

What a workshop needs is a set: "numbers" (a join or a vote), "tally" (a vote:
the console's live tally, re-rendered at most every FULL_INTERVAL) and "full"
(a new idea or comment: whole views, at most every FULL_INTERVAL, and no sooner
than FULL_SPACING times what the last whole views took to render). With several
processes (Redis), a short-lived Redis key per workshop and kind of push lets one
process push per interval for all of them; a process that does not get the key
keeps the workshop dirty and tries again next interval, so no change is missed.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from .extensions import db, socketio
from .models import Workshop

log = logging.getLogger(__name__)

# A whole view (the console lists every idea: megabytes with a thousand of them) is
# re-rendered for a new idea at most this often; numbers go out every PUSH_INTERVAL.
FULL_INTERVAL = 1.0
# ... and, when rendering the whole views takes long (thousands of ideas), no sooner than this
# many times what the last one took: whole views never take more than a quarter of the process.
FULL_SPACING = 4.0


class Coalescer:
    """Collect workshops whose views changed; refresh them at most every interval.

    `send_views(workshop)` pushes projector's and console's whole views; `send_numbers(workshop,
    tally)` their live numbers (and the console's tally).
    """

    def __init__(self, app, send_views: Callable, send_numbers: Callable):
        self.app = app
        self.send_views, self.send_numbers = send_views, send_numbers
        self.dirty: dict[int, set[str]] = {}
        self.lock = threading.Lock()
        self.started = False
        self.due: dict[tuple[str, int], float] = {}  # without Redis: (what, workshop id) -> next turn
        self.cost: dict[int, float] = {}  # workshop id -> seconds its last whole-view push took
        self.redis = None
        self.noted: dict[tuple[str, str], float] = {}  # (Redis key, language) -> when to note it again
        self.prefix = f"{app.config['REDIS_CHANNEL']}:push"
        if app.config["REDIS_URL"]:
            import redis

            self.redis = redis.Redis.from_url(app.config["REDIS_URL"])

    def mark(self, workshop_id: int, needs: set[str]) -> None:
        """Note that a workshop needs `needs` pushed at the next turn."""
        with self.lock:
            self.dirty.setdefault(workshop_id, set()).update(needs)
            if not self.started:
                self.started = True
                socketio.start_background_task(self.run)

    def run(self) -> None:
        """Push what is dirty every PUSH_INTERVAL, for as long as the process runs."""
        while True:
            socketio.sleep(self.app.config["PUSH_INTERVAL"])
            with self.lock:
                batch, self.dirty = self.dirty, {}
            if batch:
                with self.app.app_context():
                    for workshop_id, needs in self.flush(batch).items():
                        self.mark(workshop_id, needs)

    def claim(self, what: str, workshop_id: int, seconds: float) -> bool:
        """Take this interval's turn to push `what` for a workshop (in one process of all)."""
        if self.redis is None:
            key, now = (what, workshop_id), time.monotonic()
            if now < self.due.get(key, 0.0):
                return False
            self.due[key] = now + seconds
            return True
        try:
            return bool(self.redis.set(f"{self.prefix}:{what}:{workshop_id}", 1, nx=True,
                                       px=max(int(seconds * 1000), 1)))
        except Exception:  # Redis down: pushing twice is better than not at all
            log.warning("push claim failed", exc_info=True)
            return True

    def hold(self, what: str, workshop_id: int, seconds: float) -> None:
        """Make the turn just taken last `seconds` from now (when it must be longer than claimed)."""
        if self.redis is None:
            self.due[(what, workshop_id)] = time.monotonic() + seconds
            return
        try:
            self.redis.pexpire(f"{self.prefix}:{what}:{workshop_id}", max(int(seconds * 1000), 1))
        except Exception:  # Redis down: the turn ends a little early, nothing is lost
            log.warning("push hold failed", exc_info=True)

    def flush(self, batch: dict[int, set[str]]) -> dict[int, set[str]]:
        """Push what each workshop needs and may have now; return what must wait for a later turn."""
        later: dict[int, set[str]] = {}
        interval = self.app.config["PUSH_INTERVAL"]
        slow = max(FULL_INTERVAL, interval)
        for workshop_id, needs in batch.items():
            try:
                workshop = db.session.get(Workshop, workshop_id)
                if workshop is None:
                    continue
                if "full" in needs:
                    spacing = max(slow, FULL_SPACING * self.cost.get(workshop_id, 0.0))
                    if self.claim("full", workshop_id, spacing):
                        started = time.perf_counter()
                        self.send_views(workshop)
                        self.cost[workshop_id] = cost = time.perf_counter() - started
                        if FULL_SPACING * cost > spacing:  # it took longer than the last one
                            self.hold("full", workshop_id, FULL_SPACING * cost - cost)
                        continue  # whole views carry the numbers and the tally too
                    later[workshop_id] = {"full"}
                if not needs & {"numbers", "tally"}:
                    continue
                if not self.claim("numbers", workshop_id, interval * 0.9):
                    later.setdefault(workshop_id, set()).update(needs - {"full"})
                    continue
                tally = "tally" in needs and self.claim("tally", workshop_id, slow)
                if tally or "numbers" in needs:
                    self.send_numbers(workshop, tally=tally)
                if "tally" in needs and not tally:
                    later.setdefault(workshop_id, set()).add("tally")
            except Exception:  # one broken workshop must not stop the others' updates
                log.exception("refreshing workshop %s failed", workshop_id)
                db.session.rollback()
        return later
