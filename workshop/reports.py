"""The report page: cover settings, "Make the report", its progress and the downloads."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.utils import secure_filename

from . import images, limits, report, report_job
from .errors import Refused
from .extensions import db
from .forms import ReportSettingsForm
from .guard import workshop_route
from .models import Report

bp = Blueprint("reports", __name__)
bp.add_app_template_global(report_job.waiting_text, "report_waiting")


@bp.route("/w/<code>/report", methods=["GET", "POST"])
@workshop_route(facilitator=True)
def report_page(workshop):
    """Show the report page: cover settings, the generate button, progress and downloads."""
    form = ReportSettingsForm(obj=workshop)
    if form.validate_on_submit():
        upload = form.logo.data
        try:
            if upload and upload.filename:
                limits.spend("uploads", limits.per_account())
            report.set_cover(workshop, form.org_name.data or "", form.page_size.data,
                             logo=upload.stream if upload and upload.filename else None,
                             remove_logo=form.remove_logo.data)
        except Refused as refusal:
            form.logo.errors = [refusal.message]
        else:
            flash(_("Report settings saved."), "success")
            return redirect(url_for("reports.report_page", code=workshop.code))
    report_job.warm(current_app._get_current_object())
    return render_template("facilitate/report.html", workshop=workshop, form=form,
                           current=report.newest(workshop), latest=report.latest(workshop),
                           logo_url=images.url(workshop.org_logo, 800) if workshop.org_logo else None)


@bp.route("/w/<code>/report/generate", methods=["POST"])
@workshop_route(facilitator=True)
def report_generate(workshop):
    """Queue a new report and render it in the background; return at once."""
    try:
        row = report_job.request(workshop)
    except Refused as refusal:
        flash(refusal.message, "error")
    else:
        report_job.start(row)
        flash(_("The report is being made. This page shows when it is ready."), "info")
    return redirect(url_for("reports.report_page", code=workshop.code))


@bp.route("/w/<code>/report/status")
@workshop_route(facilitator=True)
def report_status(workshop):
    """Return the newest report's state as JSON (the report page polls it)."""
    return jsonify(report_job.status(report.newest(workshop)))


@bp.route("/w/<code>/report/<int:report_id>.<fmt>")
@workshop_route(facilitator=True)
def report_download(workshop, report_id: int, fmt: str):
    """Send a finished report of this workshop: the PDF, or the self-contained HTML page."""
    row = db.session.get(Report, report_id)
    if row is None or row.workshop_id != workshop.id:
        abort(404)
    return report.download(row, fmt, f"{secure_filename(workshop.title) or 'workshop'}-report")
