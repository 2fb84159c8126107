"""A campaign and its workshops: load or refuse, create, its workshops in order, amendments with a reason.

Every change to what the campaign's strategy reads (a workshop added, moved or removed, a
carried decision amended) goes through `campaign_strategy.sync`, so the history records it.
"""
from __future__ import annotations

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from .. import campaign_strategy, checks
from ..campaign_models import WAVES, Amendment, Campaign, CampaignWorkshop
from ..errors import Refused
from ..extensions import db
from ..i18n import LANGUAGES
from ..models import Item, Workshop
from ..stages import KINDS, TEMPLATES, earlier, kind_of, template_defaults
from .workshops import create_workshop

NOT_YOURS = _l("This campaign belongs to another facilitator.")


def get_campaign(campaign_id: int, facilitator) -> Campaign:
    """Load one of the facilitator's campaigns, or refuse."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise Refused(_l("There is no such campaign."), 404)
    if campaign.facilitator_id != facilitator.id:
        raise Refused(NOT_YOURS, 403)
    return campaign


def create_campaign(facilitator, *, title: str, topic: str = "", description: str = "",
                    language: str = "en", org_name: str = "") -> Campaign:
    """Create an empty campaign."""
    campaign = Campaign(facilitator=facilitator, title=title, topic=topic, description=description,
                        language=language if language in LANGUAGES else "en", org_name=org_name)
    db.session.add(campaign)
    db.session.commit()
    return campaign


def update_campaign(campaign: Campaign, **fields) -> None:
    """Change the campaign's title, topic, description, language or the report's cover."""
    for name in ("title", "topic", "description", "language", "org_name", "page_size"):
        if name in fields:
            setattr(campaign, name, fields[name])
    db.session.commit()


def delete_campaign(campaign: Campaign, confirm: str) -> None:
    """Delete the campaign (questionnaire, surveys, reach, history); its workshops stay as they are."""
    if confirm.strip() != campaign.title.strip():
        raise Refused(_l("Type the campaign's title to confirm."))
    db.session.delete(campaign)
    db.session.commit()


def campaign_of(workshop: Workshop) -> Campaign | None:
    """Return the campaign a workshop belongs to, if any."""
    link = db.session.scalar(select(CampaignWorkshop).where(CampaignWorkshop.workshop_id == workshop.id))
    return link.campaign if link else None


def candidates(campaign: Campaign) -> list[Workshop]:
    """Return the facilitator's workshops that may be added: those in no campaign yet."""
    taken = select(CampaignWorkshop.workshop_id)
    return list(db.session.scalars(select(Workshop).where(
        Workshop.facilitator_id == campaign.facilitator_id, Workshop.id.not_in(taken))
        .order_by(Workshop.created_at.desc())))


def add_workshop(campaign: Campaign, workshop_id: int, author: str) -> Workshop:
    """Add one of the facilitator's workshops at the end of the campaign."""
    workshop = db.session.get(Workshop, workshop_id)
    if workshop is None or workshop.facilitator_id != campaign.facilitator_id:
        raise Refused(_l("Choose one of your own workshops."), 404)
    if campaign_of(workshop) is not None:
        raise Refused(_l("“%(title)s” is already part of a campaign.", title=workshop.title))
    campaign_strategy.sync(campaign)  # what changed before, put down to where it was made
    position = db.session.scalar(select(func.coalesce(func.max(CampaignWorkshop.position), -1))
                                 .where(CampaignWorkshop.campaign_id == campaign.id)) + 1
    db.session.add(CampaignWorkshop(campaign=campaign, workshop=workshop, position=position))
    db.session.flush()
    db.session.expire(campaign, ["links"])
    campaign_strategy.sync(campaign)
    return workshop


def new_workshop(campaign: Campaign, facilitator, *, title: str, template: str) -> Workshop:
    """Create a workshop for the campaign (its topic and language; the last workshop's stakeholder
    groups, unless the template has its own, e.g. the target group of a pre-test, and whether it
    asked for names) and add it at the end."""
    last = campaign.workshops[-1] if campaign.links else None
    own_groups = template_defaults(template).get("groups") if template in TEMPLATES else None
    workshop = create_workshop(facilitator, title=title, topic=campaign.topic or campaign.title,
                               description=campaign.description, template=template,
                               language=campaign.language,
                               groups=list(last.groups) if last and not own_groups else None,
                               collect_names=last.collect_names if last else False)
    return add_workshop(campaign, workshop.id, facilitator.name)


def on_phones(campaign: Campaign) -> list[tuple]:
    """Return where the campaign's questionnaire is asked on phones: (workshop, stage, wave, respondents)."""
    return [(w, s, kind.setting(s, "wave"), kind.progress(s)["voters"]) for w in campaign.workshops
            for s in w.stages if (kind := kind_of(s)).collects_survey]


SURVEY_TITLES = {"baseline": _l("KAP baseline on phones"), "endline": _l("KAP endline on phones")}


def survey_workshop(campaign: Campaign, facilitator, wave: str) -> Workshop:
    """Create the campaign's next workshop from the template whose stages ask its KAP questionnaire on
    phones (`collects_survey`: self-paced, for small samples), collecting answers for `wave`."""
    if wave not in WAVES:
        raise Refused(_l("Choose the baseline or the endline."))
    if not campaign.questions:
        raise Refused(_l("Write the questionnaire first."))
    template = next((key for key, entry in TEMPLATES.items()
                     if entry[1] and all(KINDS[kind].collects_survey for kind in entry[1])), None)
    if template is None:
        raise Refused(_l("This version of Charrette cannot run the survey on phones."), 404)
    with force_locale(campaign.language):
        title = str(SURVEY_TITLES[wave])
    workshop = new_workshop(campaign, facilitator, title=title, template=template)
    for stage in workshop.stages:
        kind = kind_of(stage)
        stage.settings = {**(stage.settings or {}), **checks.parse(kind.SettingsForm, {"wave": wave}).data}
    db.session.commit()
    return workshop


def _link(campaign: Campaign, workshop_id: int) -> CampaignWorkshop:
    """Return a workshop's place in this campaign, or refuse."""
    link = next((link for link in campaign.links if link.workshop_id == workshop_id), None)
    if link is None:
        raise Refused(_l("That workshop is not part of this campaign."), 404)
    return link


def remove_workshop(campaign: Campaign, workshop_id: int, author: str) -> None:
    """Take a workshop out of the campaign (the workshop itself stays); the strategy loses its decisions."""
    link = _link(campaign, workshop_id)
    campaign_strategy.sync(campaign)
    title = link.workshop.title
    campaign.links.remove(link)
    _renumber(campaign)
    db.session.flush()
    reason = str(_l("“%(title)s” was taken out of the campaign.", title=title))
    campaign_strategy.sync(campaign, reason=reason, author=author)


def move_workshop(campaign: Campaign, workshop_id: int, offset: int, author: str) -> None:
    """Move a workshop one place earlier (-1) or later (+1): later decisions replace earlier ones."""
    link = _link(campaign, workshop_id)
    links = list(campaign.links)
    i = links.index(link)
    j = max(0, min(len(links) - 1, i + offset))
    if i == j:
        return
    campaign_strategy.sync(campaign)
    links.insert(j, links.pop(i))
    for position, each in enumerate(links):
        each.position = position + len(links)  # out of the way first: positions stay unique meanwhile
    db.session.flush()
    _renumber(campaign, links)
    db.session.flush()
    db.session.expire(campaign, ["links"])
    campaign_strategy.sync(campaign, reason=str(_l("The campaign's workshops were put in a new order.")),
                           author=author)


def _renumber(campaign: Campaign, links: list | None = None) -> None:
    for position, link in enumerate(links if links is not None else campaign.links):
        link.position = position


# --- amendments: a carried decision changed later, with a reason ---------------------------

def carried_item(campaign: Campaign, item_id: int) -> Item:
    """Return an item that a decided stage of one of the campaign's workshops chose, or refuse."""
    item = db.session.get(Item, item_id)
    ids = {w.id for w in campaign.workshops}
    if item is None or item.stage.workshop_id not in ids or item.stage.decision is None:
        raise Refused(_l("That is not a decision of this campaign's workshops."), 404)
    if kind_of(item.stage).ItemForm is None:
        raise Refused(_l("This decision cannot be changed here."))
    return item


def current_values(campaign: Campaign, item: Item) -> dict:
    """Return an item's values as the campaign reads them now (its newest amendment applied)."""
    amendments = earlier.amendments_for(campaign.id, campaign.workshops)
    shown = earlier.Amended(item, amendments[item.id]) if item.id in amendments else item
    return {**(shown.data or {}), "title": shown.title, "detail": shown.detail}


def amend(campaign: Campaign, item: Item, form, *, reason: str, author: str, workshop_id: int) -> Amendment:
    """Record a change to a carried decision (checked with the kind's item form), made in a later workshop."""
    reason = (reason or "").strip()
    if not reason:
        raise Refused(_l("Say why the decision changes: the history keeps the reason."))
    made_in = _link(campaign, workshop_id)
    if made_in.position <= _link(campaign, item.stage.workshop_id).position:
        raise Refused(_l("A decision is changed in a later workshop than the one that made it."))
    fields = kind_of(item.stage).item_fields(form)
    values = {"title": fields["title"], "detail": fields.get("detail", item.detail),
              "data": {k: v for k, v in (fields.get("data") or {}).items() if isinstance(v, str)}}
    campaign_strategy.sync(campaign)
    amendment = Amendment(campaign=campaign, item=item, workshop=made_in.workshop, values=values,
                          reason=reason[:4000], author=author[:120])
    db.session.add(amendment)
    db.session.flush()
    campaign_strategy.sync(campaign, reason=amendment.reason, author=amendment.author,
                           workshop=made_in.workshop)
    return amendment
