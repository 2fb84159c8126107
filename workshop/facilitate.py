"""The facilitator's pages: workshop list, creation, and the live console."""
from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
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
from werkzeug.utils import secure_filename

from . import exports, flow, images, imports, mail, network, realtime, report, report_job, sharing
from .errors import Refused
from .extensions import db
from .forms import (
    DeleteWorkshopForm,
    ImportForm,
    LanguageForm,
    ReportSettingsForm,
    SendReportForm,
    ShareLinkForm,
    WorkshopForm,
)
from .i18n import LANGUAGES
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
            current_user._get_current_object(), title=form.title.data, topic=form.topic.data,
            description=form.description.data or "", groups=form.group_list(),
            collect_names=form.collect_names.data, template=form.template.data,
            language=form.language.data)
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
                           join_url=network.display_url(workshop.code),
                           language_form=LanguageForm(language=workshop.language))


@bp.route("/w/<code>/language", methods=["POST"])
@login_required
@code_guesses
def set_language(code: str):
    """Change the language of the projector and the report; an open projector reloads in it."""
    workshop = flow.get_workshop(code, facilitator=current_user)
    form = LanguageForm()
    if form.validate_on_submit():
        flow.set_language(workshop, form.language.data)
        realtime.push(workshop)
        flash(_("The projector and the report are now in %(language)s.",
                language=LANGUAGES[workshop.language]), "success")
    else:
        flash(_("Choose one of the languages."), "error")
    return redirect(url_for("facilitate.console", code=workshop.code))


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
    report_job.warm(current_app._get_current_object())
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
# === Share & data: the report by e-mail, share links, CSV/JSON exports, import, delete ===========
# (kept together at the end of the file; the rules live in sharing.py, mail.py, exports.py, imports.py)

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
        public_base=network.public_url(),
        link_url=lambda link: network.public_url() + url_for("facilitate.shared", token=link.token))
    return response, status, NO_STORE  # the page lists live share links


@bp.route("/w/<code>/share")
@login_required
@code_guesses
def share(code: str):
    """Show how to get the outcome out: e-mail, share links, downloads, delete."""
    return _share_page(flow.get_workshop(code, facilitator=current_user))


@bp.route("/w/<code>/share/send", methods=["POST"])
@login_required
@code_guesses
def send_report(code: str):
    """E-mail the newest report PDF to partners, with the facilitator's message."""
    workshop = flow.get_workshop(code, facilitator=current_user)
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
    return redirect(url_for("facilitate.share", code=workshop.code))


@bp.route("/w/<code>/share/links", methods=["POST"])
@login_required
@code_guesses
def create_link(code: str):
    """Create a share link to the report."""
    workshop = flow.get_workshop(code, facilitator=current_user)
    form = ShareLinkForm()
    if not form.validate_on_submit():
        return _share_page(workshop, link_form=form)
    try:
        sharing.create_link(workshop, form.label.data or "", form.days.data)
    except Refused as refusal:
        flash(refusal.message, "error")
    else:
        flash(_("Link created. Copy it into your message to the partner."), "success")
    return redirect(url_for("facilitate.share", code=workshop.code) + "#links")


@bp.route("/w/<code>/share/links/<int:link_id>/revoke", methods=["POST"])
@login_required
@code_guesses
def revoke_link(code: str, link_id: int):
    """Make a share link stop working."""
    workshop = flow.get_workshop(code, facilitator=current_user)
    sharing.revoke_link(workshop, link_id)
    flash(_("Link revoked: it no longer opens the report."), "info")
    return redirect(url_for("facilitate.share", code=workshop.code) + "#links")


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
@login_required
@code_guesses
def export_csv(code: str):
    """Download every table of the workshop as CSV files in a zip."""
    workshop = flow.get_workshop(code, facilitator=current_user)
    return _download(exports.csv_zip(workshop), "application/zip", f"charrette-{workshop.code}-data.zip")


@bp.route("/w/<code>/export.json")
@login_required
@code_guesses
def export_json(code: str):
    """Download the whole workshop as one JSON file (a backup another server can import)."""
    workshop = flow.get_workshop(code, facilitator=current_user)
    return _download(exports.json_export(workshop), "application/json", f"charrette-{workshop.code}.json")


def _download(data: bytes, mimetype: str, name: str) -> Response:
    """Return bytes as a file download that no cache keeps."""
    response = Response(data, mimetype=mimetype, headers=NO_STORE)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.route("/workshops/import", methods=["GET", "POST"])
@login_required
def import_workshop():
    """Create a workshop from a JSON export (another server's, or a backup)."""
    # A workshop with its images can be larger than the app-wide upload limit.
    request.max_content_length = current_app.config["IMPORT_MAX_MB"] * 1024 * 1024 + 64 * 1024
    form = ImportForm()
    if form.validate_on_submit():
        try:
            workshop = imports.import_workshop(current_user._get_current_object(), form.file.data.read())
        except Refused as refusal:
            form.file.errors.append(refusal.message)
        else:
            flash(_("Workshop imported. Its new join code is %(code)s.", code=workshop.code), "success")
            return redirect(url_for("facilitate.share", code=workshop.code))
    return render_template("facilitate/import.html", form=form)


@bp.route("/w/<code>/delete", methods=["POST"])
@login_required
@code_guesses
def delete_workshop(code: str):
    """Delete a workshop and all its participants' data, once its code is typed to confirm."""
    workshop = flow.get_workshop(code, facilitator=current_user)
    form = DeleteWorkshopForm()
    if not form.validate_on_submit():
        return _share_page(workshop, delete_form=form)
    wid, title = workshop.id, workshop.title
    try:
        sharing.delete_workshop(workshop, form.confirm.data)
    except Refused as refusal:
        form.confirm.errors.append(refusal.message)
        return _share_page(workshop, delete_form=form)
    realtime.forget(wid)
    flash(_("“%(title)s” and all its data were deleted.", title=title), "success")
    return redirect(url_for("facilitate.index"))
