"""Languages: which ones exist, which one a request uses, and the picker that changes it.

Each browser keeps its own choice in a cookie (phones pick independently); without
one, the browser's Accept-Language decides. The projector and the report use the
workshop's language instead (see `workshop_locale`).
"""
from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from babel.numbers import format_decimal as _babel_decimal
from flask import Blueprint, current_app, has_request_context, redirect, request
from flask_babel import force_locale, get_locale
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from .stats import rounded_decimal

# Each language in its own name: a person looking for theirs reads only that one.
LANGUAGES = {"en": "English", "nb": "Norsk bokmål", "sv": "Svenska", "mn": "Монгол"}
DEFAULT = "en"
COOKIE = "lang"
# Browsers that say "Norwegian" without the written standard, or Nynorsk, get Bokmål.
ALIASES = {"no": "nb", "nn": "nb"}

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    """Pick a request's language: this browser's choice, else its Accept-Language, else English."""
    if not has_request_context():
        return DEFAULT
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return _best_match(request.headers.get("Accept-Language", ""))


@lru_cache(maxsize=256)
def _best_match(accept_language: str) -> str:
    """Return our language an Accept-Language header prefers (a room's phones send a handful of
    different headers: each is parsed once, not for every request)."""
    best = parse_accept_header(accept_language, LanguageAccept).best_match([*LANGUAGES, *ALIASES])
    return ALIASES.get(best, best) or DEFAULT


def current() -> str:
    """Return the code of the language in use right now ('en', 'nb', ...)."""
    locale = get_locale()
    return locale.language if locale else DEFAULT


def workshop_language(workshop) -> str:
    """Return the language the projector and the report speak: the workshop's own (one rule for both)."""
    return workshop.language if workshop.language in LANGUAGES else DEFAULT


def workshop_locale(workshop):
    """Switch to a workshop's own language (projector, report) for a `with` block."""
    return force_locale(workshop_language(workshop))


def decimal(value, digits: int = 1) -> str:
    """Format a number with `digits` decimals the way the current language writes it (3,5 in nb),
    rounded once by the one rule (stats.rounded_decimal: 3.15 is 3.2 on every screen and in the PDF)."""
    return _babel_decimal(rounded_decimal(value, digits), format="#,##0." + "0" * digits,
                          locale=get_locale() or DEFAULT, decimal_quantization=False)


def _safe_next(target: str | None) -> str:
    """Return a same-site path to go back to, never another site."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@bp.route("/lang/<lang>")
def choose(lang: str):
    """Remember this browser's language in a cookie and go back to the page it came from."""
    response = redirect(_safe_next(request.args.get("next")))
    if lang in LANGUAGES:
        response.set_cookie(COOKIE, lang, max_age=365 * 24 * 3600, httponly=True, samesite="Lax",
                            secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    return response


def init_app(app) -> None:
    """Make the languages and the number filter available to every template."""
    app.register_blueprint(bp)
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, current_language=current)
    app.jinja_env.filters["decimal"] = decimal
