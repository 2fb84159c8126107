"""The facilitator's pages: workshop list, creation, and the live console."""
from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from . import flow, images, network, realtime
from .errors import Refused
from .forms import WorkshopForm
from .limits import code_guesses

bp = Blueprint("facilitate", __name__)
bp.add_app_template_global(images.url, "image_url")


@bp.route("/workshops")
@login_required
def index():
    """List the facilitator's own workshops."""
    return render_template("facilitate/index.html", workshops=current_user.workshops)


@bp.route("/workshops/new", methods=["GET", "POST"])
@login_required
def new():
    """Create a workshop from the campaign template."""
    form = WorkshopForm()
    if form.validate_on_submit():
        workshop = flow.create_workshop(
            current_user, title=form.title.data, topic=form.topic.data,
            description=form.description.data or "", groups=form.group_list(),
            collect_names=form.collect_names.data, template=form.template.data)
        flash(_("Workshop created. Its join code is %(code)s.", code=workshop.code), "success")
        return redirect(url_for("facilitate.console", code=workshop.code))
    return render_template("facilitate/new.html", form=form)


@bp.route("/w/<code>/console")
@login_required
@code_guesses
def console(code: str):
    """Show the live console that runs the session."""
    workshop = flow.get_workshop(code, facilitator=current_user)
    return render_template("facilitate/console.html", workshop=workshop,
                           join_url=network.display_url(workshop.code))


@bp.route("/w/<code>/status", methods=["POST"])
@login_required
@code_guesses
def toggle_open(code: str):
    """Close a workshop (its code stops working) or open it again."""
    workshop = flow.get_workshop(code, facilitator=current_user)
    flow.set_open(workshop, not workshop.is_open)
    realtime.push(workshop)
    flash(_("Workshop reopened.") if workshop.is_open else _("Workshop closed: its code no longer works."),
          "info")
    return redirect(url_for("facilitate.index"))


@bp.route("/w/<code>/qr.svg")
@login_required
@code_guesses
def qr(code: str):
    """Serve the join QR code as an SVG file (for printing on handouts)."""
    workshop = flow.get_workshop(code, facilitator=current_user)
    svg = network.qr_svg(workshop.code, scale=10)
    return Response(f'<?xml version="1.0" encoding="utf-8"?>\n{svg}', mimetype="image/svg+xml")


@bp.route("/w/<code>/stages/<int:stage_id>/items", methods=["POST"])
@login_required
def add_item(code: str, stage_id: int):
    """Add a concept or draft with an optional image (the console posts it with fetch)."""
    workshop = flow.get_workshop(code, facilitator=current_user)
    return _item_form_reply(workshop, lambda fields, upload: flow.add_item(
        workshop, None, {**fields, "stage_id": stage_id}, upload=upload), _("Added “%(title)s”."))


@bp.route("/w/<code>/items/<int:item_id>", methods=["POST"])
@login_required
def edit_item(code: str, item_id: int):
    """Correct a prepared concept, draft or idea, optionally with a new image."""
    workshop = flow.get_workshop(code, facilitator=current_user)
    return _item_form_reply(workshop, lambda fields, upload: flow.edit_item(
        workshop, item_id, fields, upload=upload), _("Saved “%(title)s”."))


def _item_form_reply(workshop, action, done: str):
    """Run an item action on the posted form and file; answer JSON (console.js) or redirect."""
    fields = {k: v for k, v in request.form.items() if k != "csrf_token"}
    upload = request.files.get("image")
    wants_json = request.accept_mimetypes.best == "application/json"
    try:
        item = action(fields, upload.stream if upload and upload.filename else None)
    except Refused as refusal:
        if wants_json:
            return jsonify(ok=False, error=refusal.message), refusal.status
        flash(refusal.message, "error")
        return redirect(url_for("facilitate.console", code=workshop.code))
    realtime.push(workshop)
    if wants_json:
        return jsonify(ok=True, item={"id": item.id, "title": item.title})
    flash(done % {"title": item.title}, "success")
    return redirect(url_for("facilitate.console", code=workshop.code))


@bp.route("/media/<name>")
def media(name: str):
    """Serve a re-encoded upload by its unguessable name, with headers that keep it an image."""
    path = images.file_path(name)
    if path is None:
        abort(404)
    response = send_file(path, max_age=365 * 24 * 3600)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.headers["Content-Disposition"] = "inline"
    return response
