"""The campaign's pages: the list, a new campaign, its workshops in order, its strategy and history,
amending a carried decision.

The questionnaire, the surveys, what changed and reach are in kap.py; the report in
campaign_reports.py. Every page loads the campaign through `campaign_route` (sign-in and
ownership); the rules are in flow/campaigns.py and campaign_strategy.py.
"""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from . import broadcast, campaign_strategy, checks
from .campaign_forms import (
    AddWorkshopForm,
    AmendForm,
    CampaignForm,
    DeleteCampaignForm,
    NewWorkshopForm,
    WorkshopMoveForm,
    WorkshopRemoveForm,
)
from .campaign_models import Campaign
from .errors import Refused
from .extensions import db
from .flow import campaigns
from .stages import earlier, kind_of, template_choices

bp = Blueprint("campaigns", __name__)


def campaign_route(view):
    """Load the URL's campaign for the view (its signed-in owner only); the view gets `campaign`."""
    @login_required
    @wraps(view)
    def wrapper(campaign_id: int, **kwargs):
        return view(campaign=campaigns.get_campaign(campaign_id, current_user), **kwargs)
    return wrapper


def carried_decisions(workshop) -> dict:
    """Return what the campaign's earlier workshops decided, for a workshop's console and projector."""
    campaign_id, _before = earlier.campaign_workshops(workshop)
    # What is in force: a later workshop's decision of a kind replaces an earlier workshop's.
    decided = earlier.latest(earlier.carried(workshop)) if campaign_id else []
    return {"campaign_id": campaign_id, "decided": decided}


bp.add_app_template_global(carried_decisions, "carried_decisions")
bp.add_app_template_global(campaign_strategy.items_in, "strategy_items")


@bp.route("/campaigns")
@login_required
def index():
    """List the facilitator's campaigns."""
    mine = db.session.scalars(db.select(Campaign).where(Campaign.facilitator_id == current_user.id)
                              .order_by(Campaign.created_at.desc())).all()
    return render_template("campaigns/index.html", campaigns=mine)


@bp.route("/campaigns/new", methods=["GET", "POST"])
@login_required
def new():
    """Create a campaign."""
    form = CampaignForm()
    if form.validate_on_submit():
        campaign = campaigns.create_campaign(
            current_user._get_current_object(), title=form.title.data, topic=form.topic.data or "",
            description=form.description.data or "", language=form.language.data,
            org_name=form.org_name.data or "")
        campaigns.update_campaign(campaign, page_size=form.page_size.data)
        flash(_("Campaign created. Add its workshops in the order they happen."), "success")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    return render_template("campaigns/new.html", form=form)


@bp.route("/campaigns/<int:campaign_id>")
@campaign_route
def show(campaign):
    """Show the campaign: its workshops in order, the agreed strategy and its history."""
    campaign_strategy.sync(campaign)  # changes made in the workshops since, put down to where they were made
    return render_template(
        "campaigns/show.html", campaign=campaign, strategy=campaign_strategy.strategy(campaign),
        holder=campaign_strategy.holder(), history=campaign_strategy.history(campaign),
        add_form=AddWorkshopForm(workshops=campaigns.candidates(campaign)),
        new_form=NewWorkshopForm(templates=template_choices(),
                                 title=_("%(campaign)s: workshop %(n)d", campaign=campaign.title,
                                         n=len(campaign.links) + 1)),
        move_form=WorkshopMoveForm(), remove_form=WorkshopRemoveForm())


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@campaign_route
def edit(campaign):
    """Change the campaign's title, topic, language and report cover; or delete it."""
    form = CampaignForm(obj=campaign)
    if form.validate_on_submit():
        campaigns.update_campaign(campaign, **{name: getattr(form, name).data or "" for name in (
            "title", "topic", "description", "language", "org_name", "page_size")})
        flash(_("Campaign saved."), "success")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    return render_template("campaigns/edit.html", campaign=campaign, form=form,
                           delete_form=DeleteCampaignForm())


@bp.route("/campaigns/<int:campaign_id>/delete", methods=["POST"])
@campaign_route
def delete(campaign):
    """Delete the campaign once its title is typed; its workshops stay."""
    form = DeleteCampaignForm()
    if form.validate_on_submit():
        title = campaign.title
        try:
            campaigns.delete_campaign(campaign, form.confirm.data)
        except Refused as refusal:
            form.confirm.errors.append(refusal.message)
        else:
            flash(_("The campaign “%(title)s” was deleted; its workshops are still in your list.",
                    title=title), "success")
            return redirect(url_for("campaigns.index"))
    return render_template("campaigns/edit.html", campaign=campaign, form=CampaignForm(obj=campaign),
                           delete_form=form), 400


@bp.route("/campaigns/<int:campaign_id>/workshops/add", methods=["POST"])
@campaign_route
def add_workshop(campaign):
    """Add one of the facilitator's workshops at the end of the campaign."""
    form = AddWorkshopForm(workshops=campaigns.candidates(campaign))
    if form.validate_on_submit():
        workshop = campaigns.add_workshop(campaign, form.workshop_id.data, current_user.name)
        flash(_("“%(title)s” is now part of the campaign.", title=workshop.title), "success")
    else:
        flash(_("Choose one of your workshops that is in no campaign yet."), "error")
    return redirect(url_for("campaigns.show", campaign_id=campaign.id) + "#workshops")


@bp.route("/campaigns/<int:campaign_id>/workshops/new", methods=["POST"])
@campaign_route
def new_workshop(campaign):
    """Create the campaign's next workshop from a template; it starts with what was decided before."""
    form = NewWorkshopForm(templates=template_choices())
    if not form.validate_on_submit():
        flash(_("Give the workshop a title and choose its stages."), "error")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id) + "#workshops")
    workshop = campaigns.new_workshop(campaign, current_user._get_current_object(), title=form.title.data,
                                      template=form.template.data)
    flash(_("Workshop created. Its join code is %(code)s.", code=workshop.code), "success")
    return redirect(url_for("facilitate.console", code=workshop.code))


@bp.route("/campaigns/<int:campaign_id>/workshops/move", methods=["POST"])
@campaign_route
def move_workshop(campaign):
    """Move a workshop one place earlier or later in the campaign."""
    form = WorkshopMoveForm()
    if form.validate_on_submit() and form.workshop_id.data.isdigit():
        campaigns.move_workshop(campaign, int(form.workshop_id.data), form.offset.data, current_user.name)
    return redirect(url_for("campaigns.show", campaign_id=campaign.id) + "#workshops")


@bp.route("/campaigns/<int:campaign_id>/workshops/remove", methods=["POST"])
@campaign_route
def remove_workshop(campaign):
    """Take a workshop out of the campaign; the workshop itself stays."""
    form = WorkshopRemoveForm()
    if form.validate_on_submit() and form.workshop_id.data.isdigit():
        campaigns.remove_workshop(campaign, int(form.workshop_id.data), current_user.name)
        flash(_("The workshop was taken out of the campaign. It is still in your list of workshops."), "info")
    return redirect(url_for("campaigns.show", campaign_id=campaign.id) + "#workshops")


@bp.route("/campaigns/<int:campaign_id>/amend/<int:item_id>", methods=["GET", "POST"])
@campaign_route
def amend(campaign, item_id: int):
    """Change a decision carried over from an earlier workshop, with the reason recorded."""
    item = campaigns.carried_item(campaign, item_id)
    later = [w for w in campaign.workshops[campaign.workshops.index(item.stage.workshop) + 1:]]
    if not later:
        raise Refused(_("Add the next workshop to the campaign first: a decision is changed in a later one."))
    form = AmendForm()
    form.workshop_id.choices = [(w.id, w.title) for w in later]
    if request.method == "GET":
        wanted = request.args.get("workshop", type=int)
        form.workshop_id.data = wanted if wanted in {w.id for w in later} else later[-1].id
    kind = kind_of(item.stage)
    values = campaigns.current_values(campaign, item)
    error = None
    if request.method == "POST":
        fields = {name: request.form.get(name, "") for name in kind.ItemForm()._fields}
        values = {**values, **fields}
        if form.validate_on_submit():
            try:
                campaigns.amend(campaign, item, checks.parse(kind.ItemForm, fields), reason=form.reason.data,
                                author=current_user.name, workshop_id=form.workshop_id.data)
            except Refused as refusal:
                error = refusal.message
            else:
                _push(later)
                flash(_("Changed. The history keeps what it was, where, by whom and why."), "success")
                return redirect(url_for("campaigns.show", campaign_id=campaign.id) + "#strategy")
    return render_template("campaigns/amend.html", campaign=campaign, item=item, kind=kind, form=form,
                           item_form=kind.ItemForm(data=values), error=error), 400 if error else 200


def _push(workshops) -> None:
    """Send the later workshops' open screens their new view: their panel shows the change."""
    for workshop in workshops:
        broadcast.push(workshop)
