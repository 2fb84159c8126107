"""Creative partners: an invitation link with which they prepare concepts and drafts, nothing else."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..errors import Refused
from ..extensions import db
from ..models import Invitation, Item, Stage, Workshop, utcnow
from ..stages import kind_of
from .access import ENDED, get_item, get_stage
from .items import add_item, edit_item


def invite(workshop: Workshop, label: str) -> Invitation:
    """Make a link with which a creative partner prepares this workshop's concepts and drafts."""
    invitation = Invitation(workshop=workshop, label=label)
    db.session.add(invitation)
    db.session.commit()
    return invitation


def revoke(model, workshop: Workshop, link_id: int):
    """Stop one of this workshop's links (an Invitation or a ShareLink) from working.

    The row is kept, so the list shows it was revoked; what came through it stays.
    """
    link = db.session.get(model, link_id)
    if link is None or link.workshop_id != workshop.id:
        raise Refused(_l("That link is not part of this workshop."), 404)
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        db.session.commit()
    return link


def get_invitation(token: str) -> Invitation:
    """Load a working invitation by its token, or refuse."""
    invitation = db.session.scalar(select(Invitation).filter_by(token=token)) if token else None
    if invitation is None or invitation.revoked_at is not None:
        raise Refused(_l("This link does not work (any more). Ask the facilitator for a new one."), 404)
    if not invitation.workshop.is_open:
        raise Refused(ENDED, 410)
    return invitation


def partner_stages(workshop: Workshop) -> list[Stage]:
    """Return the stages a creative partner prepares: those whose items carry images."""
    return [stage for stage in workshop.stages if kind_of(stage).takes_images]


FROZEN = _l("This stage has started in the room, so its concepts and drafts are frozen: what people "
           "rate cannot change under them. Ask the facilitator to make the change.")


def frozen(stage: Stage) -> bool:
    """A stage's prepared items are frozen for partners once it is on screen or has started."""
    return stage.phase != "pending" or stage.workshop.current_stage_id == stage.id


def partner_stage(invitation: Invitation, stage_id: int) -> Stage:
    """Load a stage the partner may add to, or refuse."""
    stage = get_stage(invitation.workshop, stage_id)
    if not kind_of(stage).takes_images:
        raise Refused(_l("Partners prepare concepts and drafts only."), 403)
    if frozen(stage):
        raise Refused(FROZEN, 409)
    return stage


def partner_item(invitation: Invitation, item_id: int) -> Item:
    """Load an item the partner may correct (not hidden, not yet on a ballot), or refuse."""
    item = get_item(invitation.workshop, item_id)
    if not kind_of(item.stage).takes_images or item.hidden or item.participant_id is not None:
        raise Refused(_l("Partners prepare concepts and drafts only."), 403)
    if frozen(item.stage):
        raise Refused(FROZEN, 409)
    return item


def partner_adds_item(invitation: Invitation, stage: Stage, form, upload=None) -> Item:
    """Add a concept or draft for the partner, marked with who prepared it."""
    item = add_item(invitation.workshop, None, stage, form, upload=upload)
    item.data = {**item.data, "prepared_by": invitation.label}
    db.session.commit()
    return item


def partner_edits_item(invitation: Invitation, item: Item, form, upload=None) -> Item:
    """Correct a concept or draft in a stage the partner prepares."""
    return edit_item(invitation.workshop, item, form, upload=upload)
