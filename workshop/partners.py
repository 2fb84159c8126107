"""Creative partners: a facilitator invites them by link; they prepare concepts and drafts, nothing else.

The agency that makes the concepts usually has no account here and works
before the session, from its own office. A revocable, unguessable link lets it
add and correct the images and texts of the concept and draft stages; the
facilitator's console shows who prepared each one.
"""
from __future__ import annotations

from types import SimpleNamespace

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from . import flow, network, realtime
from .errors import Refused
from .forms import InvitationForm
from .stages import kind_of

bp = Blueprint("partners", __name__)


@bp.route("/w/<code>/partners", methods=["GET", "POST"])
@login_required
def invitations(code: str):
    """List a workshop's partner links and make a new one."""
    workshop = flow.get_workshop(code, facilitator=current_user)
    form = InvitationForm()
    if form.validate_on_submit():
        invitation = flow.invite(workshop, form.label.data)
        flash(_("Link for %(label)s made: copy it below and send it.", label=invitation.label), "success")
        return redirect(url_for(".invitations", code=workshop.code))
    return render_template("partners/invitations.html", workshop=workshop, form=form,
                           base=network.public_url()), 400 if form.errors else 200


@bp.route("/w/<code>/partners/<int:invitation_id>/revoke", methods=["POST"])
@login_required
def revoke(code: str, invitation_id: int):
    """Stop a partner link from working."""
    workshop = flow.get_workshop(code, facilitator=current_user)
    flow.revoke_invitation(workshop, invitation_id)
    flash(_("The link no longer works. What was prepared with it stays."), "success")
    return redirect(url_for(".invitations", code=workshop.code))


@bp.route("/p/<token>")
def prepare(token: str):
    """Show the partner the concept and draft stages, with forms to add and correct items."""
    return _page(flow.get_invitation(token))


@bp.route("/p/<token>/stages/<int:stage_id>/items", methods=["POST"])
def add(token: str, stage_id: int):
    """Add a concept or draft (with its image) for the partner."""
    invitation = flow.get_invitation(token)
    return _save(invitation, f"new-{stage_id}", lambda fields, upload: flow.partner_adds_item(
        invitation, stage_id, fields, upload), _("Added “%(title)s”."))


@bp.route("/p/<token>/items/<int:item_id>", methods=["POST"])
def edit(token: str, item_id: int):
    """Correct a concept or draft for the partner."""
    invitation = flow.get_invitation(token)
    return _save(invitation, f"edit-{item_id}", lambda fields, upload: flow.partner_edits_item(
        invitation, item_id, fields, upload), _("Saved “%(title)s”."))


def _save(invitation, key: str, action, done: str):
    """Run a partner's item action; on a refusal show the page again with what they typed."""
    fields = {k: v for k, v in request.form.items() if k != "csrf_token"}
    upload = request.files.get("image")
    try:
        item = action(fields, upload.stream if upload and upload.filename else None)
    except Refused as refusal:
        return _page(invitation, failed=SimpleNamespace(key=key, values=fields, message=refusal.message),
                     status=refusal.status)
    realtime.push(invitation.workshop)
    flash(done % {"title": item.title}, "success")
    return redirect(url_for(".prepare", token=invitation.token) + f"#stage-{item.stage_id}")


def _page(invitation, failed=None, status: int = 200):
    """Render the partner's page; the token in its URL is never sent on as a referrer."""
    views = [SimpleNamespace(workshop=invitation.workshop, stage=stage, kind=kind_of(stage))
             for stage in flow.partner_stages(invitation.workshop)]
    html = render_template("partners/prepare.html", invitation=invitation, views=views, failed=failed)
    return html, status, {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
