"""The one way into a route that takes a workshop code: sign-in, ownership, and wrong codes counted.

Every view of a URL with `<code>` is decorated with `workshop_route`; a test walks
the URL map to hold every such route to it. Only failures count against an
address's budget of wrong codes (config.RATE_LIMITS["code_guesses"]); once it is
spent, the address is answered 429.
"""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user

from . import limits
from .errors import Refused
from .extensions import login_manager
from .flow import access


def workshop_route(facilitator: bool = False, open_only: bool = False):
    """Load the URL's workshop for the view, or refuse; the view gets `workshop` instead of `code`.

    `facilitator`: only its signed-in owner gets it (others are sent to sign in, or refused);
    `open_only`: a closed workshop is refused (phones). Wrong codes count against the address.
    """
    def decorator(view):
        @wraps(view)
        def wrapper(code: str, **kwargs):
            if facilitator and not current_user.is_authenticated:
                return login_manager.unauthorized()
            workshop = lookup(code, facilitator=current_user if facilitator else None, open_only=open_only)
            return view(workshop=workshop, **kwargs)
        wrapper.workshop_route = True  # tests/test_guard.py: every <code> route has it
        return wrapper
    return decorator


def lookup(code: str, facilitator=None, open_only: bool = False):
    """Return the workshop with this code, counting a wrong one against the address (429 once spent)."""
    if not limits.allowed_now("code_guesses", limits.remote_address()):
        abort(429)
    try:
        return access.get_workshop(code, facilitator=facilitator, open_only=open_only)
    except Refused as refusal:
        if refusal.status in (403, 404):
            limits.allow("code_guesses", limits.remote_address())
        raise
