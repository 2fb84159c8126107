"""Share & data: the report by e-mail, share links, CSV and JSON exports, import, delete.

The rules live in sharing.py, mail.py, exports.py and imports.py; these views translate.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from werkzeug.utils import secure_filename

from . import broadcast, limits, mail, network, offload, sharing, sockets
from . import xlsform as xlsform_module
from .errors import Refused
from .extensions import db
from .flow import access
from .forms import DeleteWorkshopForm, ImportForm, SendReportForm, ShareLinkForm
from .guard import workshop_route
from .models import Workshop
from .stages import kind_of

bp = Blueprint("data", __name__)


@bp.url_value_preprocessor
def _import_size(endpoint, _values) -> None:
    """Let an import be as large as IMPORT_MAX_MB: set before any before_request hook reads the body.

    The CSRF check (a before_request hook) parses the form, so a limit set in the view came too
    late and every file over the app-wide MAX_CONTENT_LENGTH was refused with 413.
    """
    if endpoint == "data.import_workshop":
        request.max_content_length = current_app.config["IMPORT_MAX_MB"] * 1024 * 1024 + 64 * 1024

NO_STORE = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"}


def _share_page(workshop, status: int = 200, **forms):
    """Render the Share & data page with the given (possibly invalid) forms."""
    found = sharing.latest_report(workshop)
    send_form = forms.get("send_form") or SendReportForm(
        subject=_("Report: %(title)s", title=workshop.title),
        message=_("Dear partners,\n\nattached is the report of our workshop “%(title)s”: the agreed strategy "
                  "and the feedback behind it.\n\nBest regards,\n%(name)s",
                  title=workshop.title, name=current_user.name))
    response = render_template(
        "facilitate/share.html", workshop=workshop, report=found[0] if found else None,
        mail_ready=mail.configured(), send_form=send_form,
        link_form=forms.get("link_form") or ShareLinkForm(),
        delete_form=forms.get("delete_form") or DeleteWorkshopForm(),
        surveys=[stage for stage in workshop.stages if kind_of(stage).questionnaire(stage) is not None],
        public_base=network.public_url(),
        link_url=lambda link: network.public_url() + url_for("data.shared", token=link.token))
    return response, status, NO_STORE  # the page lists live share links


@bp.route("/w/<code>/share")
@workshop_route(facilitator=True)
def share(workshop):
    """Show how to get the outcome out: e-mail, share links, downloads, delete."""
    return _share_page(workshop)


@bp.route("/w/<code>/share/send", methods=["POST"])
@workshop_route(facilitator=True)
def send_report(workshop):
    """E-mail the newest report PDF to partners, with the facilitator's message."""
    form = SendReportForm()
    if not form.validate_on_submit():
        return _share_page(workshop, send_form=form)
    try:
        sharing.send_report(workshop, current_user, form.addresses, form.subject.data, form.message.data)
    except Refused as refusal:
        flash(refusal.message, "error")
        return _share_page(workshop, send_form=form)
    flash(ngettext("Report sent to %(num)d address.", "Report sent to %(num)d addresses.",
                   len(form.addresses)), "success")
    return redirect(url_for("data.share", code=workshop.code))


@bp.route("/w/<code>/share/links", methods=["POST"])
@workshop_route(facilitator=True)
def create_link(workshop):
    """Create a share link to the report."""
    form = ShareLinkForm()
    if not form.validate_on_submit():
        return _share_page(workshop, link_form=form)
    try:
        sharing.create_link(workshop, form.label.data or "", form.days.data)
    except Refused as refusal:
        flash(refusal.message, "error")
    else:
        flash(_("Link created. Copy it into your message to the partner."), "success")
    return redirect(url_for("data.share", code=workshop.code) + "#links")


@bp.route("/w/<code>/share/links/<int:link_id>/revoke", methods=["POST"])
@workshop_route(facilitator=True)
def revoke_link(workshop, link_id: int):
    """Make a share link stop working."""
    sharing.revoke_link(workshop, link_id)
    flash(_("Link revoked: it no longer opens the report."), "info")
    return redirect(url_for("data.share", code=workshop.code) + "#links")


@bp.route("/r/<token>")
def shared(token: str):
    """Serve the newest report PDF to whoever holds a working share link (no account)."""
    try:
        link, _report, pdf = sharing.get_shared(token)
    except Refused as refusal:
        return render_template("facilitate/shared_missing.html", message=refusal.message), 404, NO_STORE
    # Read whole (a report is a few MB at most): no-store leaves nothing for conditional requests.
    response = Response(pdf.read_bytes(), mimetype="application/pdf", headers=NO_STORE)
    response.headers["Content-Disposition"] = f'inline; filename="{_report_name(link, "pdf")}"'
    return response


@bp.route("/r/<token>/html")
def shared_html(token: str):
    """Serve the HTML version of the shared report, when one was rendered."""
    try:
        link, report, _pdf = sharing.get_shared(token)
    except Refused as refusal:
        return render_template("facilitate/shared_missing.html", message=refusal.message), 404, NO_STORE
    html = sharing.report_html_path(report)
    if html is None:
        message = _("This report has no web version; open the PDF instead.")
        return render_template("facilitate/shared_missing.html", message=message), 404, NO_STORE
    response = Response(html.read_bytes(), mimetype="text/html", headers=NO_STORE)
    # Our own rendering, but it quotes participants: no scripts, no requests elsewhere.
    response.headers["Content-Security-Policy"] = ("default-src 'none'; style-src 'self' 'unsafe-inline'; "
                                                   "img-src 'self' data:; font-src 'self' data:; sandbox")
    return response


def _report_name(link, ext: str) -> str:
    """Return the file name a partner's browser saves the report under."""
    return (secure_filename(link.workshop.title) or "report") + f".{ext}"


@bp.route("/w/<code>/export.zip")
@workshop_route(facilitator=True)
def export_csv(workshop):
    """Download every table of the workshop as CSV files in a zip (made by a worker process)."""
    return _export(workshop, "export_csv", "application/zip", f"charrette-{workshop.code}-data.zip")


@bp.route("/w/<code>/export.json")
@workshop_route(facilitator=True)
def export_json(workshop):
    """Download the whole workshop as one JSON file (a backup another server can import)."""
    return _export(workshop, "export_json", "application/json", f"charrette-{workshop.code}.json")


def _export(workshop, job: str, mimetype: str, name: str):
    """Make an export in a worker (offload.py), at most `exports` an hour per account; send it."""
    try:
        limits.spend("exports", limits.per_account())
        data = offload.run(job, workshop.id)
    except Refused as refusal:
        flash(refusal.message, "error")
        return _share_page(workshop, refusal.status)
    return _download(data, mimetype, name)


@bp.route("/w/<code>/stages/<int:stage_id>/xlsform.xlsx")
@workshop_route(facilitator=True)
def xlsform(workshop, stage_id: int):
    """Download a stage's questions as an XLSForm for ODK / KoboToolbox, in every language."""
    stage = access.get_stage(workshop, stage_id)
    form = kind_of(stage).questionnaire(stage)
    if form is None:
        raise Refused(_("This stage has no questionnaire."), 404)
    return _download(xlsform_module.to_xlsx(form),
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     f"charrette-{workshop.code}-{stage.id}.xlsx")


@bp.route("/w/<code>/stages/<int:stage_id>/answers", methods=["POST"])
@workshop_route(facilitator=True)
def import_answers(workshop, stage_id: int):
    """Import the answers a field team collected with the XLSForm (a CSV or XLSX export); all or nothing."""
    stage = access.get_stage(workshop, stage_id)
    form = kind_of(stage).questionnaire(stage)
    upload = request.files.get("file")
    try:
        if form is None:
            raise Refused(_("This stage has no questionnaire."))
        if upload is None or not upload.filename:
            raise Refused(_("Choose the file with the answers."))
        records = xlsform_module.read_answers(form, upload.read())
        count = kind_of(stage).import_answers(stage, records)
    except Refused as refusal:
        flash(refusal.message, "error")
    else:
        broadcast.push(workshop)
        flash(ngettext("Imported the answers of %(num)d person.", "Imported the answers of %(num)d people.",
                       count), "success")
    return redirect(url_for("data.share", code=workshop.code) + "#fieldwork")


def _download(data: bytes, mimetype: str, name: str) -> Response:
    """Return bytes as a file download that no cache keeps."""
    response = Response(data, mimetype=mimetype, headers=NO_STORE)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.route("/workshops/import", methods=["GET", "POST"])
@login_required
def import_workshop():
    """Create a workshop from a JSON export (another server's, or a backup)."""
    form = ImportForm()  # its size limit: IMPORT_MAX_MB (_import_size)
    if form.validate_on_submit():
        try:
            limits.spend("imports", limits.per_account())
            raw = form.file.data.read()
            workshop = db.session.get(Workshop, offload.run("import", current_user.id, raw))
        except Refused as refusal:
            form.file.errors.append(refusal.message)
        else:
            flash(_("Workshop imported. Its new join code is %(code)s.", code=workshop.code), "success")
            return redirect(url_for("data.share", code=workshop.code))
    return render_template("facilitate/import.html", form=form)


@bp.route("/w/<code>/delete", methods=["POST"])
@workshop_route(facilitator=True)
def delete_workshop(workshop):
    """Delete a workshop and all its participants' data, once its code is typed to confirm."""
    form = DeleteWorkshopForm()
    if not form.validate_on_submit():
        return _share_page(workshop, delete_form=form)
    wid, title = workshop.id, workshop.title
    try:
        sharing.delete_workshop(workshop, form.confirm.data)
    except Refused as refusal:
        form.confirm.errors.append(refusal.message)
        return _share_page(workshop, delete_form=form)
    sockets.forget(wid)
    flash(_("“%(title)s” and all its data were deleted.", title=title), "success")
    return redirect(url_for("facilitate.index"))
