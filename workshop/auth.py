"""Facilitator accounts: sign up (the first one, or by invitation), sign in, sign out, change the password.

Every sign-in is a row (models.SignIn) whose id, expiry and random token are the
credential both cookies carry (Facilitator.get_id): the session cookie and, with
"Keep me signed in", the remember cookie. Neither can outlive it: signing out
deletes the row, "sign out everywhere" and a password change delete all of the
account's rows, and its expiry is fixed when it starts (12 hours, or 14 days when
remembered), written into the credential and never extended. A copied cookie
stops working the moment its sign-in ends.
"""
from __future__ import annotations

import hmac
import time
from datetime import timedelta
from functools import lru_cache
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, func, select
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from . import network, sockets
from .extensions import db, limiter, login_manager
from .forms import InviteForm, LoginForm, PasswordForm, SignupForm
from .limits import failed_login, rate
from .models import Facilitator, SignIn, utcnow

bp = Blueprint("auth", __name__)

INVITATION_DAYS = 7
LOOPBACK = {"127.0.0.1", "::1"}


@login_manager.user_loader
def load_user(credential: str):
    """Load the facilitator of a cookie's credential "<sign-in id>.<expiry>.<token>", if it still holds."""
    parts = credential.split(".", 2)
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit() or len(parts[0]) > 18:
        return None
    if int(parts[1]) <= time.time():  # the expiry written in the cookie itself
        return None
    row = db.session.get(SignIn, int(parts[0]), options=[joinedload(SignIn.facilitator)])
    if row is None or not hmac.compare_digest(row.token, parts[2]) or row.expires_at <= utcnow():
        return None
    row.facilitator.sign_in = row
    return row.facilitator


def sign_in(user: Facilitator, remember: bool = False) -> None:
    """Start a sign-in of this browser: a new row, and both cookies naming it."""
    cfg = current_app.config
    lifetime = cfg["REMEMBER_COOKIE_DURATION"] if remember else cfg["FACILITATOR_SESSION_LIFETIME"]
    now = utcnow()
    db.session.execute(delete(SignIn).where(SignIn.facilitator_id == user.id, SignIn.expires_at <= now))
    row = SignIn(facilitator_id=user.id, created_at=now, expires_at=now + lifetime)
    db.session.add(row)
    db.session.commit()
    user.sign_in = row
    login_user(user, remember=remember, duration=lifetime)


def end_sign_ins(user: Facilitator, everywhere: bool) -> None:
    """End this browser's sign-in, or every sign-in of the account (its cookies stop working)."""
    ended = select(SignIn.id).where(SignIn.facilitator_id == user.id)
    if not everywhere:
        ended = ended.where(SignIn.id == user.sign_in.id)
    ids = db.session.scalars(ended).all()
    db.session.execute(delete(SignIn).where(SignIn.id.in_(ids)))
    db.session.commit()
    sockets.end_screens(ids)  # its consoles and projectors, here at once


def create_facilitator(email: str, name: str, password: str) -> Facilitator:
    """Create an account; the e-mail is stored lower-case, the name on one line."""
    user = Facilitator(email=email.strip().lower(), name=" ".join(name.split()))
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def find_facilitator(email: str) -> Facilitator | None:
    """Return the account with this e-mail, if any."""
    return db.session.scalar(select(Facilitator).filter_by(email=email.strip().lower()))


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    return generate_password_hash("no account has this password", method="scrypt")


def check_sign_in(email: str, password: str) -> Facilitator | None:
    """Return the account if the password is right; an unknown e-mail costs the same hashing."""
    user = find_facilitator(email)
    if user is None:
        check_password_hash(_decoy_hash(), password)
        return None
    return user if user.check_password(password) else None


def _safe_next(target: str | None) -> str:
    """Only follow a `next` that stays on this site."""
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("facilitate.index")


def from_the_laptop() -> bool:
    """Tell whether the request comes from the machine that runs the app (not a phone on the Wi-Fi)."""
    return request.remote_addr in LOOPBACK and not request.headers.get("X-Forwarded-For")


def shows_demo_password() -> bool:
    """The demo password is shown on /login only in development, and only to the laptop itself."""
    cfg = current_app.config
    return bool(cfg["DEMO"] and cfg["CHARRETTE_ENV"] == "development" and from_the_laptop()
                and find_facilitator(cfg["DEMO_EMAIL"]))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(rate("login_failures"), methods=["POST"], deduct_when=failed_login)
def login():
    """Show the login form and sign the facilitator in."""
    if current_user.is_authenticated:
        return redirect(url_for("facilitate.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = check_sign_in(form.email.data, form.password.data)
        if user is not None and user.email == current_app.config["DEMO_EMAIL"] and \
                request.remote_addr not in LOOPBACK:
            # Its password is in the README: from a phone on the Wi-Fi it would open the demo to anyone.
            # (The address as PROXY_COUNT's trusted proxies give it: a local proxy is the laptop too.)
            flash(_("The demo account signs in only on the laptop that runs Charrette."), "error")
        elif user is not None:
            sign_in(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
        else:
            flash(_("Wrong e-mail or password."), "error")
    return render_template("auth/login.html", form=form, demo=shows_demo_password(), signup=signup_open())


# Sign-up: the first facilitator of a server, then only by invitation unless SIGNUP_OPEN.

def _invitations() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="facilitator-invitation")


def invitation_link(inviter: Facilitator, email: str) -> str:
    """A link with which the owner of `email` may create an account, for INVITATION_DAYS days."""
    token = _invitations().dumps({"email": email.strip().lower(), "by": inviter.id})
    # The address others reach (PUBLIC_URL or the LAN's), not the laptop's own localhost.
    return network.public_url() + url_for("auth.signup", invite=token)


def invited_email(token: str | None) -> str | None:
    """The e-mail an invitation link is for, or None when it is missing, forged or too old."""
    if not token:
        return None
    try:
        data = _invitations().loads(token, max_age=int(timedelta(days=INVITATION_DAYS).total_seconds()))
    except BadSignature:
        return None
    return data.get("email") if isinstance(data, dict) and isinstance(data.get("email"), str) else None


def signup_open() -> bool:
    """Anyone may sign up with SIGNUP_OPEN, or while the server has no facilitator (the demo aside)."""
    cfg = current_app.config
    if cfg["SIGNUP_OPEN"]:
        return True
    others = select(func.count(Facilitator.id)).where(Facilitator.email != cfg["DEMO_EMAIL"])
    return not db.session.scalar(others)


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(rate("signups"), methods=["POST"])
def signup():
    """Create a facilitator account: the first one, anyone's with SIGNUP_OPEN, or an invited one."""
    invited = invited_email(request.args.get("invite"))
    if not signup_open() and invited is None:
        flash(_("Sign-up is by invitation on this server. Ask a facilitator here for an invitation link."),
              "error")
        return redirect(url_for("auth.login"))
    form = SignupForm(email=invited) if request.method == "GET" else SignupForm()
    if form.validate_on_submit():
        if invited is not None and not signup_open() and form.email.data.strip().lower() != invited:
            form.email.errors.append(_("This invitation is for %(email)s.", email=invited))
        elif find_facilitator(form.email.data):
            form.email.errors.append(_("An account with this e-mail exists already."))
        else:
            user = create_facilitator(form.email.data, form.name.data, form.password.data)
            sign_in(user)
            flash(_("Welcome, %(name)s. Create your first workshop.", name=user.name), "success")
            return redirect(url_for("facilitate.new"))
    return render_template("auth/signup.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign this browser out: its session and remember cookies stop working, copies included."""
    end_sign_ins(current_user, everywhere=False)
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/logout/everywhere", methods=["POST"])
@login_required
def logout_everywhere():
    """End every sign-in of the account, on every browser."""
    end_sign_ins(current_user, everywhere=True)
    logout_user()
    flash(_("You are signed out on every device."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """Change the password (every other sign-in ends), sign out everywhere, invite a facilitator."""
    form, invite, link = PasswordForm(prefix="pw"), InviteForm(prefix="invite"), None
    if "pw-current" in request.form and form.validate_on_submit():
        if not current_user.check_password(form.current.data):
            form.current.errors.append(_("This is not your current password."))
        else:
            user = current_user._get_current_object()
            user.set_password(form.password.data)
            end_sign_ins(user, everywhere=True)
            sign_in(user)
            flash(_("Your password is changed; every other sign-in has ended."), "success")
            return redirect(url_for("auth.account"))
    elif "invite-email" in request.form and invite.validate_on_submit():
        link = invitation_link(current_user, invite.email.data)
    return render_template("auth/account.html", form=form, invite=invite, link=link,
                           days=INVITATION_DAYS)
