"""The facilitator's workshops: the list, a new one, the live console and what it posts over HTTP.

The report is in reports.py, sharing and data in data.py; every route with a code goes
through guard.workshop_route (sign-in, ownership, wrong codes counted).
"""
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
from flask_babel import ngettext
from flask_login import current_user, login_required

from . import broadcast, browse, checks, images, limits, network, safeguarding, segments, views
from .errors import Refused
from .flow import access, items, workshops
from .forms import LanguageForm, SafeguardingForm, WorkshopForm
from .guard import workshop_route
from .i18n import LANGUAGES
from .stages import kind_of, template_choices

bp = Blueprint("facilitate", __name__)
bp.add_app_template_global(images.url, "image_url")
bp.add_app_template_global(items.carry_candidates, "carry_candidates")
bp.add_app_template_global(browse.words, "console_words")


@bp.route("/workshops")
@login_required
def index():
    """List the facilitator's own workshops."""
    return render_template("facilitate/index.html", workshops=current_user.workshops)


@bp.route("/workshops/new", methods=["GET", "POST"])
@login_required
def new():
    """Create a workshop from one of the templates."""
    form = WorkshopForm(templates=template_choices())
    if form.validate_on_submit():
        workshop = workshops.create_workshop(
            current_user._get_current_object(), title=form.title.data, topic=form.topic.data,
            description=form.description.data or "", groups=form.group_list(),
            collect_names=form.collect_names.data, template=form.template.data,
            language=form.language.data, safeguarding=form.safeguarding.data or None)
        flash(_("Workshop created. Its join code is %(code)s.", code=workshop.code), "success")
        return redirect(url_for("facilitate.console", code=workshop.code))
    return render_template("facilitate/new.html", form=form)


@bp.route("/w/<code>/console")
@workshop_route(facilitator=True)
def console(workshop):
    """Show the live console that runs the session."""
    return render_template("facilitate/console.html", workshop=workshop,
                           join_url=network.display_url(workshop.code),
                           language_form=LanguageForm(language=workshop.language),
                           delete_on=safeguarding.delete_on(workshop),
                           masked=safeguarding.masked_count(workshop) if workshop.safeguarding else 0)


@bp.route("/w/<code>/stages/<int:stage_id>/browse")
@workshop_route(facilitator=True)
def browse_items(workshop, stage_id: int):
    """Return one page of a stage's items matching a search, as HTML this console puts in place.

    `q` words in the title or detail, `show` one of browse.SHOWS, `page` from 0; `pick` names the
    field a found item fills in (source_id, target_id: merging; item_ids: the decision), which lists
    only items still in the vote. Only for this console: pushed views list a bounded part (browse.py).
    """
    stage = access.get_stage(workshop, stage_id)
    pick = request.args.get("pick", "")
    if pick not in ("", "source_id", "target_id", "item_ids"):
        abort(400)
    show = "active" if pick else request.args.get("show", "all")
    page = min(max(request.args.get("page", 0, type=int), 0), 10_000)
    ids, total = browse.search(stage, request.args.get("q", "")[:200],
                               show if show in browse.SHOWS else "all", page)
    return render_template("live/found.html", v=views.found_view(workshop, stage, ids), ids=ids,
                           total=total, page=page, size=browse.PAGE, pick=pick)


@bp.route("/w/<code>/safeguarding", methods=["GET", "POST"])
@workshop_route(facilitator=True)
def safeguarding_page(workshop):
    """Set safeguarding, the helpline, retention, self-paced mode and the segment questions."""
    asked = workshop.segment_questions or {}
    form = SafeguardingForm(data=None if request.method == "POST" else {
        "safeguarding": workshop.safeguarding, "consent_note": workshop.consent_note,
        "helpline": workshop.helpline, "retention_days": workshop.retention_days,
        "self_paced": workshop.self_paced, "moderation": workshop.moderation,
        "shuffle_ballots": workshop.shuffle_ballots, "ages": "\n".join(asked.get("age", [])),
        "places": "\n".join(asked.get("place", [])), "ask_gender": bool(asked.get("gender"))})
    if form.validate_on_submit():
        questions = {key: values for key, values in (
            ("age", segments.parse_options(form.ages.data)), ("place",
                                                              segments.parse_options(form.places.data)),
            ("gender", bool(form.ask_gender.data))) if values}
        safeguarding.settings(workshop, safeguarding=form.safeguarding.data,
                              helpline=form.helpline.data or "",
                              consent_note=form.consent_note.data or "",
                                  retention_days=form.retention_days.data,
                              self_paced=form.self_paced.data, segment_questions=questions,
                              moderation=form.moderation.data, shuffle_ballots=form.shuffle_ballots.data)
        broadcast.push(workshop)
        flash(_("Saved."), "success")
        return redirect(url_for("facilitate.console", code=workshop.code))
    return render_template("facilitate/safeguarding.html", workshop=workshop, form=form,
                           delete_on=safeguarding.delete_on(workshop))


@bp.route("/w/<code>/stages/<int:stage_id>/carry", methods=["POST"])
@workshop_route(facilitator=True)
def carry(workshop, stage_id: int):
    """Bring approved drafts (with their images) from this or another workshop into a stage."""
    try:
        ids = [int(i) for i in request.form.getlist("item_ids")]
        copies = items.carry_items(workshop, access.get_stage(workshop, stage_id), ids)
    except ValueError:
        flash(_("Invalid request."), "error")
    except Refused as refusal:
        flash(refusal.message, "error")
    else:
        broadcast.push(workshop)
        flash(ngettext("Brought in %(num)d material.", "Brought in %(num)d materials.", len(copies)),
              "success")
    return redirect(url_for("facilitate.console", code=workshop.code))


@bp.route("/w/<code>/language", methods=["POST"])
@workshop_route(facilitator=True)
def set_language(workshop):
    """Change the language of the projector and the report; an open projector reloads in it."""
    form = LanguageForm()
    if form.validate_on_submit():
        workshops.set_language(workshop, form.language.data)
        broadcast.push(workshop)
        flash(_("The projector and the report are now in %(language)s.",
                language=LANGUAGES[workshop.language]), "success")
    else:
        flash(_("Choose one of the languages."), "error")
    return redirect(url_for("facilitate.console", code=workshop.code))


@bp.route("/w/<code>/status", methods=["POST"])
@workshop_route(facilitator=True)
def toggle_open(workshop):
    """Close a workshop (its code stops working) or open it again."""
    workshops.set_open(workshop, not workshop.is_open)
    broadcast.push(workshop)
    flash(_("Workshop reopened.") if workshop.is_open else _("Workshop closed: its code no longer works."),
          "info")
    return redirect(url_for("facilitate.index"))


@bp.route("/w/<code>/qr.svg")
@workshop_route(facilitator=True)
def qr(workshop):
    """Serve the join QR code as an SVG file (for printing on handouts)."""
    svg = network.qr_svg(workshop.code, scale=10)
    return Response(f'<?xml version="1.0" encoding="utf-8"?>\n{svg}', mimetype="image/svg+xml")


@bp.route("/w/<code>/stages/<int:stage_id>/items", methods=["POST"])
@workshop_route(facilitator=True)
def add_item(workshop, stage_id: int):
    """Add a concept or draft with an optional image (the console posts it with fetch)."""
    def add(fields, upload):
        stage = access.get_stage(workshop, stage_id)
        return items.add_item(workshop, None, stage, item_form(stage, fields), upload=upload)
    return _item_form_reply(workshop, add, _("Added “%(title)s”."))


@bp.route("/w/<code>/items/<int:item_id>", methods=["POST"])
@workshop_route(facilitator=True)
def edit_item(workshop, item_id: int):
    """Correct a prepared concept, draft or idea, optionally with a new image."""
    def edit(fields, upload):
        item = access.get_item(workshop, item_id)
        return items.edit_item(workshop, item, item_form(item.stage, fields), upload=upload)
    return _item_form_reply(workshop, edit, _("Saved “%(title)s”."))


def item_form(stage, fields: dict):
    """Check posted item fields with the stage kind's item form, or refuse."""
    form_class = kind_of(stage).ItemForm
    if form_class is None:
        raise Refused(_("This stage does not take ideas."))
    return checks.parse(form_class, fields)


def _item_form_reply(workshop, action, done: str):
    """Run an item action on the posted form and file; answer JSON (console.js) or redirect."""
    fields = {k: v for k, v in request.form.items() if k != "csrf_token"}
    upload = request.files.get("image")
    wants_json = request.accept_mimetypes.best == "application/json"
    try:
        if upload and upload.filename:
            limits.spend("uploads", limits.per_account())
        item = action(fields, upload.stream if upload and upload.filename else None)
    except Refused as refusal:
        if wants_json:
            return jsonify(ok=False, error=refusal.message), refusal.status
        flash(refusal.message, "error")
        return redirect(url_for("facilitate.console", code=workshop.code))
    broadcast.push(workshop)
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
