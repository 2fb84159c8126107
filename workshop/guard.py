"""The one way into a route that takes a workshop code: sign-in, ownership, and wrong codes counted.

Every view of a URL with `<code>` is decorated with `workshop_route`; a test walks
the URL map to hold every such route to it. Only failures count against an
address's budget of wrong codes (config.RATE_LIMITS["code_guesses"]), and only
failures are refused once it is spent: one person behind the venue's NAT who
spends it cannot lock the room out, since a right code (a new phone, the console,
the projector, the report) still opens its page. A wrong code over budget is
answered 429, never 404/403, so the refusal is the same whether the code was
unknown or someone else's.
"""
from __future__ import annotations

from functools import wraps

from flask import abort, request
from flask_login import current_user

from . import limits
from .errors import Refused
from .extensions import login_manager
from .flow import access


def workshop_route(facilitator: bool = False, open_only: bool = False, head_on: tuple[str, ...] = ()):
    """Load the URL's workshop for the view, or refuse; the view gets `workshop` instead of `code`.

    `facilitator`: only its signed-in owner gets it (others are sent to sign in, or refused);
    `open_only`: a closed workshop is refused (phones). Wrong codes count against the address.
    `head_on`: for requests of these methods, the view gets the workshop's few plain columns
    (access.WORKSHOP_HEAD) and loads the rest only if it needs them (access.load).
    """
    def decorator(view):
        @wraps(view)
        def wrapper(code: str, **kwargs):
            if facilitator and not current_user.is_authenticated:
                return login_manager.unauthorized()
            workshop = lookup(code, facilitator=current_user if facilitator else None, open_only=open_only,
                              head=request.method in head_on)
            return view(workshop=workshop, **kwargs)
        wrapper.workshop_route = True  # tests/test_guard.py: every <code> route has it
        return wrapper
    return decorator


def lookup(code: str, facilitator=None, open_only: bool = False, head: bool = False):
    """Return the workshop with this code; a wrong one is counted against the address (429 once spent)."""
    try:
        return access.get_workshop(code, facilitator=facilitator, open_only=open_only, head=head)
    except Refused as refusal:
        if refusal.status in (403, 404) and not wrong_code_allowed():
            abort(429)
        raise


def wrong_code_allowed() -> bool:
    """Count one wrong code against this address; False once its budget is spent."""
    return limits.allow("code_guesses", limits.remote_address())
