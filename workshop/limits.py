"""Rate limits for HTTP routes (Flask-Limiter) and socket events, read from config.RATE_LIMITS.

Counters live in `RATELIMIT_STORAGE_URI` (in memory by default; Redis when
several processes serve one app). Why the numbers, with a whole room of phones
behind ONE public address (venue Wi-Fi with NAT) in mind:

- Wrong join codes: 60 a minute per address, counted by guard.py for every route
  that takes a code and for the sockets. Only failures count (a code not found,
  or not this facilitator's), and only failures are refused once the budget is
  spent, so 2,000 phones typing the right code from one address are never slowed,
  even after someone behind the same NAT spent the budget; guessing one of 887 million codes at 60 a minute
  takes years. The empty code page is never limited.
- Joining (the name/group form, which creates a participant): 10,000 per five
  minutes per address and code: a plenary of 4,000 phones behind one NAT can
  all join in the same minute, and change their group, while a script cannot
  flood one workshop with fake participants any faster than that. (It was
  2,500: the benchmark's 3,000 and 4,000 phones, from one address, were refused.)
- Facilitator sign-in: 10 failed attempts a minute and 50 an hour per
  address (successful sign-ins do not count); sign-up: 20 an hour per address
  (it also tells whether an e-mail has an account).
- Over Socket.IO, per participant (all of a phone's tabs together): 10 ideas
  a minute, 120 vote actions a minute (a person taps fast, a script floods).
- What costs a worker process seconds of CPU (offload.py), per account, or per partner link for
  a partner's uploads: 30 images a minute and 300 an hour (a facilitator preparing 20 concepts
  in a hurry is not slowed), 10 imports an hour, 30 exports an hour.
"""
from __future__ import annotations

import time
from functools import lru_cache, partial

from flask import current_app, request
from flask_babel import lazy_gettext as _l
from flask_limiter._compat import request_context
from flask_login import current_user
from limits import parse as parse_rate
from limits.storage import MemoryStorage

from .errors import Refused
from .extensions import limiter

TOO_FAST = _l("Too many in a short time. Wait a minute, then try again.")


class SweptMemory(MemoryStorage):
    """limits' in-process counters (`memory://`, the default), swept at most once a second, in line.

    Its sweep walks every counter, and a counter is kept per phone and limit. limits sweeps from a
    `threading.Timer` it starts again whenever the last one is not alive; under gevent that check
    failed so often that a sweep ran for nearly every counted event (3,000 sweeps in 4 s in a test of
    3,000 phones): a third of the server's CPU at 4,000 phones voting. Here the event that finds the
    last sweep a second old does it (7 ms for 36,000 counters), and no timer runs at all. Limits are
    unchanged: a counter past its expiry reads as zero whenever the sweep runs; the sweep only frees
    the memory. Declaring the `memory` scheme makes limits build this class for `memory://` URLs.
    """

    STORAGE_SCHEME = ["memory"]
    SWEEP_SECONDS = 1.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timer.cancel()  # the first sweep limits schedules: sweeps come from `incr` from now on
        self.next_sweep = time.monotonic() + self.SWEEP_SECONDS
        self.sweeps = 0

    def _MemoryStorage__schedule_expiry(self) -> None:  # limits 5.x: called by every counted event
        now = time.monotonic()
        if now >= self.next_sweep:
            self.next_sweep = now + self.SWEEP_SECONDS
            self.sweeps += 1
            self._MemoryStorage__expire_events()


def init_app(app) -> None:
    """Run Flask-Limiter's per-request hooks only where they have something to do.

    Every limit is declared on its route and checked by the route's decorator. With no application-wide
    or default limit, the check Flask-Limiter also runs before every request counts nothing, at a tenth
    of a phone's join: it is taken out. Its after-request hook (deductions such as a failed sign-in's,
    headers) and its teardown work on the request's limiter context, which only a decorator's check
    makes: on any other request they made one to find it empty (a twentieth of a join page's CPU), so
    they run only where it exists. tests/test_limits.py: each limited route still refuses past its limit.
    """
    hooks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit in hooks:  # not there with RATELIMIT_ENABLED off
        hooks.remove(limiter._check_request_limit)
    for hooks in (app.after_request_funcs.get(None, []), app.teardown_request_funcs.get(None, [])):
        for i, hook in enumerate(hooks):
            if isinstance(hook, partial):  # partial(Limiter.__inject_headers, limiter)
                owner = hook.args[0] if hook.args else None
            else:  # limiter.__release_context
                owner = getattr(hook, "__self__", None)
            if owner is limiter:
                hooks[i] = _where_limited(hook)


def _where_limited(hook):
    """Wrap a Flask-Limiter hook to run only in a request whose route checked a limit."""
    def run(response_or_error):
        if hasattr(request_context(), "_limiter_request_context"):  # made by the limit's check
            return hook(response_or_error)
        return response_or_error
    run.where_limited = hook
    return run


def rate(name: str):
    """Return the limit called `name` in config.RATE_LIMITS, read when a request comes."""
    return lambda: current_app.config["RATE_LIMITS"][name]


def remote_address() -> str:
    """Key requests by the address they come from."""
    return request.remote_addr or "unknown"


def address_and_code() -> str:
    """Key joins by address and workshop code: one busy room does not slow another."""
    return f"{remote_address()}/{(request.view_args or {}).get('code', '').upper()}"


def failed_login(response) -> bool:
    """Count a sign-in that did not succeed (the form shown again)."""
    return response.status_code != 302


parse = lru_cache(maxsize=64)(parse_rate)  # a rate's text, e.g. "60/minute", parsed once, not per vote


def allow(name: str, *keys: str) -> bool:
    """Count one action (a socket event, a join) against limit `name` for `keys`; False when over it."""
    if not limiter.enabled:
        return True
    return limiter.limiter.hit(parse(current_app.config["RATE_LIMITS"][name]), "socket", name, *keys)


def allowed_now(name: str, *keys: str) -> bool:
    """Tell whether limit `name` has room for `keys`, counting nothing."""
    if not limiter.enabled:
        return True
    return limiter.limiter.test(parse(current_app.config["RATE_LIMITS"][name]), "socket", name, *keys)


def _daily(setting: str):
    return parse(f"{int(current_app.config[setting])} per day")


def allowed_daily(setting: str, cost: int, *keys: str) -> bool:
    """Tell whether `cost` more fits the per-day allowance that config `setting` names (0: none)."""
    if cost > int(current_app.config[setting]):
        return False
    return not limiter.enabled or limiter.limiter.test(_daily(setting), "daily", setting, *keys, cost=cost)


def spend_daily(setting: str, cost: int, *keys: str) -> None:
    """Count `cost` against the per-day allowance (check allowed_daily first)."""
    if limiter.enabled:
        limiter.limiter.hit(_daily(setting), "daily", setting, *keys, cost=cost)


def spend(name: str, *keys: str) -> None:
    """Count one costly action (an upload, an import, an export) against limit `name`; refuse past it."""
    if not allow(name, *keys):
        raise Refused(TOO_FAST, 429)


def per_account() -> str:
    """Key a signed-in facilitator's costly actions by account, wherever they come from."""
    return f"account:{current_user.id}"
