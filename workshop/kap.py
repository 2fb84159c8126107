"""The campaign's KAP and reach pages: the questionnaire editor, the baseline and endline imports,
what changed (with the targets), reach and engagement, and the indicators' CSV and JSON.

The rules are in flow/questionnaire.py, kapimport.py, kapresults.py, reach.py and
campaign_exports.py; these views translate.
"""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import format_number, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.utils import secure_filename

from . import broadcast, campaign_exports, kapform, kapimport, kapresults, kapstats, reach, xlsform
from .campaign_forms import WAVE_LABELS, EmptyPost, PhonesForm, ReachImportForm, SurveyImportForm
from .campaigns import campaign_route
from .errors import Refused
from .flow import campaigns, questionnaire
from .i18n import LANGUAGES

bp = Blueprint("kap", __name__)
bp.add_app_template_filter(lambda code: LANGUAGES.get(code, code), "language_name")
bp.add_app_template_global(kapstats.MINIMUM, "KAP_MINIMUM")
bp.add_app_template_global(kapstats.SMALL, "KAP_SMALL")
bp.add_app_template_filter(kapstats.rounded, "rounded")
bp.add_app_template_filter(format_number, "whole")
NO_STORE = {"Cache-Control": "private, no-store"}


@bp.route("/campaigns/<int:campaign_id>/questionnaire", methods=["GET", "POST"])
@campaign_route
def questionnaire_page(campaign):
    """Edit the KAP questionnaire: every row saved at once, then the button's action (add, remove...)."""
    errors = {}
    if request.method == "POST" and EmptyPost().validate_on_submit():
        action = request.form.get("action", "save")
        errors = questionnaire.save(campaign, request.form) if campaign.questions else {}
        if errors:
            flash(_("Nothing was saved: correct the fields marked below."), "error")
        else:
            try:
                done = _act(campaign, action)
            except Refused as refusal:
                flash(refusal.message, "error")
            else:
                flash(done, "success")
                for workshop in campaign.workshops:  # a survey on phones shows the new words at once
                    broadcast.push(workshop)
                return redirect(url_for("kap.questionnaire_page", campaign_id=campaign.id)
                                + request.form.get("anchor", ""))
    return render_template("campaigns/questionnaire.html", campaign=campaign, errors=errors,
                           form=request.form if errors else None, kapform=kapform,
                           profile=questionnaire.profile(campaign), locked=questionnaire.locked(campaign),
                           csrf=EmptyPost(), phones_form=PhonesForm(), waves=WAVE_LABELS,
                           counted=questionnaire.counted(campaign),
                           on_phones=campaigns.on_phones(campaign)), 400 if errors else 200


def _imported(form, run):
    """Run the import of a form's file; return its result and the problems named (refusals: on the field)."""
    try:
        return run(), []
    except kapimport.FileRefused as refusal:
        form.file.errors.append(refusal.message)
        return None, refusal.problems
    except Refused as refusal:
        form.file.errors.append(refusal.message)
        return None, []


def _act(campaign, action: str) -> str:
    """Run the editor's button after the rows were saved; return what to tell the facilitator."""
    verb, _sep, arg = action.partition(":")
    if verb == "start":
        questionnaire.start(campaign)
        return _("The questionnaire has its segment questions and drafts from the audience’s profile.")
    if verb == "draft":
        n = questionnaire.draft_from_profile(campaign)
        return ngettext("%(num)d draft item added from the profile.",
                        "%(num)d draft items added from the profile.", n)
    if verb == "add":
        questionnaire.add_question(campaign, arg)
        return _("Item added at the end of its section.")
    if verb == "remove" and arg.isdigit():
        questionnaire.remove_question(campaign, int(arg))
        return _("Item removed.")
    if verb == "move":
        question_id, _sep, offset = arg.partition(":")
        if question_id.isdigit() and offset in ("-1", "1"):
            questionnaire.move_question(campaign, int(question_id), int(offset))
            return _("Moved.")
    return _("Questionnaire saved.")


@bp.route("/campaigns/<int:campaign_id>/questionnaire.xlsx")
@campaign_route
def questionnaire_xlsform(campaign):
    """Download the questionnaire as an XLSForm for KoboToolbox / ODK, labelled in every language."""
    if not campaign.questions:
        raise Refused(_("Write the questionnaire first."), 404)
    return _download(xlsform.to_xlsx(kapform.xlsform(campaign)),
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     f"{secure_filename(campaign.title) or 'campaign'}-kap-xlsform.xlsx")


@bp.route("/campaigns/<int:campaign_id>/phones", methods=["POST"])
@campaign_route
def run_on_phones(campaign):
    """Create a workshop that asks the questionnaire on phones (self-paced), for the baseline or endline."""
    form = PhonesForm()
    if not form.validate_on_submit():
        flash(_("Choose the baseline or the endline."), "error")
        return redirect(url_for("kap.questionnaire_page", campaign_id=campaign.id) + "#collect")
    try:
        workshop = campaigns.survey_workshop(campaign, current_user._get_current_object(), form.wave.data)
    except Refused as refusal:
        flash(refusal.message, "error")
        return redirect(url_for("kap.questionnaire_page", campaign_id=campaign.id) + "#collect")
    flash(_("Workshop created for the %(wave)s, code %(code)s. Open the survey when the field team is ready, "
            "then show the join code to each person.", wave=WAVE_LABELS[form.wave.data].lower(),
            code=workshop.code), "success")
    return redirect(url_for("facilitate.console", code=workshop.code))


@bp.route("/campaigns/<int:campaign_id>/surveys", methods=["GET", "POST"])
@campaign_route
def surveys(campaign):
    """Import the baseline or the endline from a KoboToolbox or ODK export."""
    form = SurveyImportForm()
    problems = []
    if form.validate_on_submit():
        upload = form.file.data
        survey, problems = _imported(form, lambda: kapimport.import_survey(
            campaign, form.wave.data, upload.read(), secure_filename(upload.filename or "") or "export",
            current_user.name, replace=form.replace.data))
        if survey is not None:
            flash(ngettext("%(wave)s imported: %(num)d response.", "%(wave)s imported: %(num)d responses.",
                           len(survey.responses), wave=WAVE_LABELS[survey.wave]), "success")
            return redirect(url_for("kap.surveys", campaign_id=campaign.id))
    return render_template("campaigns/surveys.html", campaign=campaign, form=form, problems=problems,
                           kapform=kapform, questions=kapform.questions(campaign), waves=WAVE_LABELS,
                           delete_form=EmptyPost(),
                           composition=kapimport.composition), 400 if form.errors else 200


@bp.route("/campaigns/<int:campaign_id>/surveys/<wave>/delete", methods=["POST"])
@campaign_route
def delete_survey(campaign, wave: str):
    """Delete an imported baseline or endline."""
    if EmptyPost().validate_on_submit() and wave in WAVE_LABELS:
        kapimport.delete_survey(campaign, wave)
        flash(_("%(wave)s deleted.", wave=WAVE_LABELS[wave]), "info")
    return redirect(url_for("kap.surveys", campaign_id=campaign.id))


@bp.route("/campaigns/<int:campaign_id>/results", methods=["GET", "POST"])
@campaign_route
def results(campaign):
    """Show what changed between baseline and endline; set the target of each indicator."""
    indicators = kapresults.results(campaign)
    errors = {}
    if request.method == "POST" and EmptyPost().validate_on_submit():
        overall = [ind for ind in indicators if ind.segment is None]
        errors = questionnaire.set_targets(campaign, request.form, overall, current_user.name)
        if not errors:
            flash(_("Targets saved. The strategy’s history records the change."), "success")
            return redirect(url_for("kap.results", campaign_id=campaign.id) + "#targets")
        flash(_("Nothing was saved: correct the fields marked below."), "error")
    return render_template("campaigns/results.html", campaign=campaign, indicators=indicators,
                           errors=errors, form=request.form if errors else None, kapresults=kapresults,
                           kapstats=kapstats, csrf=EmptyPost()), 400 if errors else 200


@bp.route("/campaigns/<int:campaign_id>/reach", methods=["GET", "POST"])
@campaign_route
def reach_page(campaign):
    """Enter each channel's reach and engagement and their targets."""
    errors = {}
    if request.method == "POST" and EmptyPost().validate_on_submit():
        rows, errors = reach.read_form(request.form)
        if not errors:
            reach.save(campaign, rows, current_user.name)
            flash(_("Reach saved."), "success")
            return redirect(url_for("kap.reach_page", campaign_id=campaign.id))
        flash(_("Nothing was saved: correct the fields marked below."), "error")
    return _reach_page(campaign, errors=errors, form=request.form if errors else None)


def _reach_page(campaign, errors=None, form=None, import_form=None, problems=()):
    """Render the reach page: the stored channels (or the posted rows, with errors) and two empty rows."""
    channels = reach.channels(campaign)
    posted = [int(n) for k in (form or {}) if k.startswith("ch") and (n := k[2:].split(".")[0]).isdigit()]
    rows = min(max(len(channels) + 2, max(posted, default=0) + 1), reach.MAX_CHANNELS + 2)
    html = render_template("campaigns/reach.html", campaign=campaign, channels=channels, rows=rows,
                           totals=reach.totals(channels), metrics=reach.METRICS, errors=errors or {},
                           form=form, csrf=EmptyPost(), import_form=import_form or ReachImportForm(),
                           problems=problems)
    return html, 400 if errors or problems or (import_form and import_form.errors) else 200


@bp.route("/campaigns/<int:campaign_id>/reach/import", methods=["POST"])
@campaign_route
def reach_import(campaign):
    """Merge a CSV of results per channel into the reach figures."""
    form = ReachImportForm()
    problems = []
    if form.validate_on_submit():
        raw = form.file.data.read()
        n, problems = _imported(form, lambda: reach.import_csv(campaign, raw, current_user.name))
        if n is not None:
            flash(ngettext("%(num)d channel imported.", "%(num)d channels imported.", n), "success")
            return redirect(url_for("kap.reach_page", campaign_id=campaign.id))
    return _reach_page(campaign, import_form=form, problems=problems)


@bp.route("/campaigns/<int:campaign_id>/indicators.<fmt>")
@campaign_route
def indicators(campaign, fmt: str):
    """Download the KAP indicators (CSV) or indicators, method and reach (JSON)."""
    if fmt == "csv":
        data, mimetype = campaign_exports.indicators_csv(campaign), "text/csv"
    elif fmt == "json":
        data, mimetype = campaign_exports.indicators_json(campaign), "application/json"
    else:
        return Response(status=404)
    return _download(data, mimetype, f"{secure_filename(campaign.title) or 'campaign'}-indicators.{fmt}")


@bp.route("/campaigns/<int:campaign_id>/reach.csv")
@campaign_route
def reach_csv(campaign):
    """Download reach and engagement per channel as CSV."""
    return _download(campaign_exports.reach_csv(campaign), "text/csv",
                     f"{secure_filename(campaign.title) or 'campaign'}-reach.csv")


def _download(data: bytes, mimetype: str, name: str) -> Response:
    response = Response(data, mimetype=mimetype, headers=NO_STORE)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
