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
from werkzeug.utils import secure_filename

from . import flow, images, network, realtime, report, report_job
from .errors import Refused
from .extensions import db
from .forms import ReportSettingsForm, WorkshopForm
from .limits import code_guesses
from .models import Report

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
    fields = {k: v for k, v in request.form.items() if k != "csrf_token"}
    upload = request.files.get("image")
    wants_json = request.accept_mimetypes.best == "application/json"
    try:
        item = flow.add_item(workshop, None, {**fields, "stage_id": stage_id},
                             upload=upload.stream if upload and upload.filename else None)
    except Refused as refusal:
        if wants_json:
            return jsonify(ok=False, error=refusal.message), refusal.status
        flash(refusal.message, "error")
        return redirect(url_for("facilitate.console", code=workshop.code))
    realtime.push(workshop)
    if wants_json:
        return jsonify(ok=True, item={"id": item.id, "title": item.title})
    flash(_("Added “%(title)s”.", title=item.title), "success")
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


# --- the report (issue 4): cover settings, generate, status, downloads ------------------------------

@bp.route("/w/<code>/report", methods=["GET", "POST"])
@login_required
@code_guesses
def report_page(code: str):
    """Show the report page: cover settings, the generate button, progress and downloads."""
    workshop = flow.get_workshop(code, facilitator=current_user)
    form = ReportSettingsForm(obj=workshop)
    if form.validate_on_submit():
        upload = form.logo.data
        try:
            report.set_cover(workshop, form.org_name.data or "", form.page_size.data,
                             logo=upload.stream if upload and upload.filename else None,
                             remove_logo=form.remove_logo.data)
        except Refused as refusal:
            form.logo.errors = [refusal.message]
        else:
            flash(_("Report settings saved."), "success")
            return redirect(url_for("facilitate.report_page", code=workshop.code))
    return render_template("facilitate/report.html", workshop=workshop, form=form,
                           current=report.newest(workshop), latest=report.latest(workshop),
                           logo_url=images.url(workshop.org_logo, 800) if workshop.org_logo else None)


@bp.route("/w/<code>/report/generate", methods=["POST"])
@login_required
@code_guesses
def report_generate(code: str):
    """Queue a new report and render it in the background; return at once."""
    workshop = flow.get_workshop(code, facilitator=current_user)
    try:
        row = report_job.request(workshop)
    except Refused as refusal:
        flash(refusal.message, "error")
    else:
        report_job.start(row)
        flash(_("The report is being made. This page shows when it is ready."), "info")
    return redirect(url_for("facilitate.report_page", code=workshop.code))


@bp.route("/w/<code>/report/status")
@login_required
@code_guesses
def report_status(code: str):
    """Return the newest report's state as JSON (the report page polls it)."""
    workshop = flow.get_workshop(code, facilitator=current_user)
    return jsonify(report.status(report.newest(workshop)))


@bp.route("/w/<code>/report/<int:report_id>.<fmt>")
@login_required
@code_guesses
def report_download(code: str, report_id: int, fmt: str):
    """Send a finished report of this workshop: the PDF, or the self-contained HTML page."""
    workshop = flow.get_workshop(code, facilitator=current_user)
    row = db.session.get(Report, report_id)
    if row is None or row.workshop_id != workshop.id or row.status != "done" or fmt not in ("pdf", "html"):
        abort(404)
    path = report.file_path(row.pdf_file if fmt == "pdf" else row.html_file)
    if path is None:
        abort(404)
    name = f"{secure_filename(workshop.title) or 'workshop'}-report.{fmt}"
    response = send_file(path, mimetype="application/pdf" if fmt == "pdf" else "text/html",
                         as_attachment=fmt == "pdf", download_name=name, max_age=0)
    if fmt == "html":
        # The page is self-contained: its own styles and data: images, no script at all.
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox")
    response.headers["Cache-Control"] = "private, no-store"
    return response
