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

from . import broadcast, checks, limits, network
from .errors import Refused
from .flow import invitations
from .forms import InvitationForm
from .guard import workshop_route
from .models import Invitation
from .stages import kind_of

bp = Blueprint("partners", __name__)


@bp.route("/w/<code>/partners", methods=["GET", "POST"])
@workshop_route(facilitator=True)
def invitations_page(workshop):
    """List a workshop's partner links and make a new one."""
    form = InvitationForm()
    if form.validate_on_submit():
        invitation = invitations.invite(workshop, form.label.data)
        flash(_("Link for %(label)s made: copy it below and send it.", label=invitation.label), "success")
        return redirect(url_for(".invitations_page", code=workshop.code))
    return render_template("partners/invitations.html", workshop=workshop, form=form,
                           base=network.public_url()), 400 if form.errors else 200


@bp.route("/w/<code>/partners/<int:invitation_id>/revoke", methods=["POST"])
@workshop_route(facilitator=True)
def revoke(workshop, invitation_id: int):
    """Stop a partner link from working."""
    invitations.revoke(Invitation, workshop, invitation_id)
    flash(_("The link no longer works. What was prepared with it stays."), "success")
    return redirect(url_for(".invitations_page", code=workshop.code))


@bp.route("/p/<token>")
def prepare(token: str):
    """Show the partner the concept and draft stages, with forms to add and correct items."""
    return _page(invitations.get_invitation(token))


@bp.route("/p/<token>/stages/<int:stage_id>/items", methods=["POST"])
def add(token: str, stage_id: int):
    """Add a concept or draft (with its image) for the partner."""
    invitation = invitations.get_invitation(token)

    def add_item(fields, upload):
        stage = invitations.partner_stage(invitation, stage_id)
        return invitations.partner_adds_item(invitation, stage, _item_form(stage, fields), upload)
    return _save(invitation, f"new-{stage_id}", add_item, _("Added “%(title)s”."))


@bp.route("/p/<token>/items/<int:item_id>", methods=["POST"])
def edit(token: str, item_id: int):
    """Correct a concept or draft for the partner."""
    invitation = invitations.get_invitation(token)

    def edit_item(fields, upload):
        item = invitations.partner_item(invitation, item_id)
        return invitations.partner_edits_item(invitation, item, _item_form(item.stage, fields), upload)
    return _save(invitation, f"edit-{item_id}", edit_item, _("Saved “%(title)s”."))


def _item_form(stage, fields: dict):
    """Check a partner's item fields with the stage kind's item form."""
    return checks.parse(kind_of(stage).ItemForm, fields)


def _save(invitation, key: str, action, done: str):
    """Run a partner's item action; on a refusal show the page again with what they typed."""
    fields = {k: v for k, v in request.form.items() if k != "csrf_token"}
    upload = request.files.get("image")
    try:
        if upload and upload.filename:  # per link: a partner has no account
            limits.spend("uploads", f"invitation:{invitation.id}")
        item = action(fields, upload.stream if upload and upload.filename else None)
    except Refused as refusal:
        return _page(invitation, failed=SimpleNamespace(key=key, values=fields, message=refusal.message),
                     status=refusal.status)
    broadcast.push(invitation.workshop)
    flash(done % {"title": item.title}, "success")
    return redirect(url_for(".prepare", token=invitation.token) + f"#stage-{item.stage_id}")


def _page(invitation, failed=None, status: int = 200):
    """Render the partner's page; the token in its URL is never sent on as a referrer."""
    views = [SimpleNamespace(workshop=invitation.workshop, stage=stage, kind=kind_of(stage))
             for stage in invitations.partner_stages(invitation.workshop)]
    html = render_template("partners/prepare.html", invitation=invitation, views=views, failed=failed)
    return html, status, {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
