"""The campaign report's page: "Make the report", its progress and the downloads (PDF and HTML)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.utils import secure_filename

from . import campaign_report, report, report_job
from .campaign_forms import EmptyPost
from .campaign_models import CampaignReport
from .campaigns import campaign_route
from .errors import Refused
from .extensions import db

bp = Blueprint("campaign_reports", __name__)


@bp.route("/campaigns/<int:campaign_id>/report")
@campaign_route
def page(campaign):
    """Show the campaign report's page: what it holds, the button, progress and downloads."""
    report_job.warm(current_app._get_current_object())
    return render_template("campaigns/report_page.html", campaign=campaign,
                           current=campaign_report.newest(campaign),
                           latest=campaign_report.newest(campaign, done=True))


@bp.route("/campaigns/<int:campaign_id>/report/generate", methods=["POST"])
@campaign_route
def generate(campaign):
    """Queue the campaign's report and render it in the background; return at once."""
    if EmptyPost().validate_on_submit():
        try:
            row = campaign_report.request(campaign)
        except Refused as refusal:
            flash(refusal.message, "error")
        else:
            report_job.start(row)
            flash(_("The report is being made. This page shows when it is ready."), "info")
    return redirect(url_for("campaign_reports.page", campaign_id=campaign.id))


@bp.route("/campaigns/<int:campaign_id>/report/status")
@campaign_route
def status(campaign):
    """Return the newest report's state as JSON (the page polls it)."""
    return jsonify(report_job.status(campaign_report.newest(campaign)))


@bp.route("/campaigns/<int:campaign_id>/report/<int:report_id>.<fmt>")
@campaign_route
def download(campaign, report_id: int, fmt: str):
    """Send a finished report of this campaign: the PDF, or the self-contained HTML page."""
    row = db.session.get(CampaignReport, report_id)
    if row is None or row.campaign_id != campaign.id:
        abort(404)
    return report.download(row, fmt, f"{secure_filename(campaign.title) or 'campaign'}-report")
