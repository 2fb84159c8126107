"""Facilitator accounts: sign up, log in, log out."""
from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from .extensions import db, limiter, login_manager
from .forms import LoginForm, SignupForm
from .limits import failed_login, rate
from .models import Facilitator

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(user_id: str):
    """Load the facilitator of a session."""
    return db.session.get(Facilitator, int(user_id)) if user_id.isdigit() else None


def sign_in_expired() -> bool:
    """Tell whether the signed-in facilitator's sign-in is older than its lifetime.

    The cookie session may outlive it (a phone join on the same browser makes
    it last 30 days), so the sign-in keeps its own start time and lifetime.
    """
    if "signed_in_at" not in session:  # restored from the remember-me cookie just now
        _start_sign_in(remember=True)
    default = current_app.config["FACILITATOR_SESSION_LIFETIME"].total_seconds()
    return time.time() - session["signed_in_at"] > session.get("sign_in_lifetime", default)


@bp.before_app_request
def expire_sign_in():
    """Sign a facilitator out once their sign-in has expired (not for static files).

    A static file needs no sign-in, and loading the user for it wrote to the session
    (Flask-Login marks a session without a sign-in "not fresh"): the cookie was signed
    and sent again with the stylesheet of every phone's join page.
    """
    if request.endpoint == "static":
        return
    if current_user.is_authenticated and sign_in_expired():
        _end_sign_in()


def _start_sign_in(remember: bool) -> None:
    """Note when this sign-in started and how long it may last."""
    cfg = current_app.config
    session["signed_in_at"] = time.time()
    lifetime = cfg["REMEMBER_COOKIE_DURATION"] if remember else cfg["FACILITATOR_SESSION_LIFETIME"]
    session["sign_in_lifetime"] = lifetime.total_seconds()


def _end_sign_in() -> None:
    """Sign out, forgetting the sign-in's times (the phone's joins stay)."""
    logout_user()
    session.pop("signed_in_at", None)
    session.pop("sign_in_lifetime", None)


def create_facilitator(email: str, name: str, password: str) -> Facilitator:
    """Create an account; the e-mail is stored lower-case."""
    user = Facilitator(email=email.strip().lower(), name=name.strip())
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def find_facilitator(email: str) -> Facilitator | None:
    """Return the account with this e-mail, if any."""
    return db.session.scalar(select(Facilitator).filter_by(email=email.strip().lower()))


def _safe_next(target: str | None) -> str:
    """Only follow a `next` that stays on this site."""
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("facilitate.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(rate("login_failures"), methods=["POST"], deduct_when=failed_login)
def login():
    """Show the login form and sign the facilitator in."""
    if current_user.is_authenticated:
        return redirect(url_for("facilitate.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = find_facilitator(form.email.data)
        if user is not None and user.check_password(form.password.data):
            login_user(user, remember=form.remember.data)
            _start_sign_in(remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
        flash(_("Wrong e-mail or password."), "error")
    demo = current_app.config["DEMO"] and find_facilitator(current_app.config["DEMO_EMAIL"])
    return render_template("auth/login.html", form=form, demo=demo)


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(rate("signups"), methods=["POST"])
def signup():
    """Create a facilitator account."""
    if not current_app.config["SIGNUP_OPEN"]:
        flash(_("Sign-up is closed on this server. Ask its administrator for an account."), "error")
        return redirect(url_for("auth.login"))
    form = SignupForm()
    if form.validate_on_submit():
        if find_facilitator(form.email.data):
            form.email.errors.append(_("An account with this e-mail exists already."))
        else:
            user = create_facilitator(form.email.data, form.name.data, form.password.data)
            login_user(user)
            _start_sign_in(remember=False)
            flash(_("Welcome, %(name)s. Create your first workshop.", name=user.name), "success")
            return redirect(url_for("facilitate.new"))
    return render_template("auth/signup.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign the facilitator out."""
    _end_sign_in()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))
