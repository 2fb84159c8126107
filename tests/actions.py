"""Drive a workshop in-process through the same events the screens send (events.run).

For tests and the scripts that build realistic workshops: the payload is checked by its
form, the rule runs, the screens are told; refusals raise Refused. Needs an app context.
"""
from __future__ import annotations

from workshop import checks, events, facilitate
from workshop.extensions import db
from workshop.flow import access, items
from workshop.models import Comment, Item
from workshop.stages import kind_of


def add_item(workshop, participant, payload, upload=None):
    """Add an item as a phone (idea:add) or, with no participant, the console (item:add); return it.

    With an image `upload`, as the console's upload form does (facilitate.add_item).
    """
    if upload is not None:
        fields = dict(payload)
        stage = access.get_stage(workshop, fields.pop("stage_id"))
        return items.add_item(workshop, None, stage, facilitate.item_form(stage, fields), upload=upload)
    reply = events.run("idea:add" if participant else "item:add", workshop, participant, payload)
    return db.session.get(Item, reply["item"]["id"])


def cast_vote(workshop, participant, payload) -> dict:
    """Cast one vote as a phone; return the phone's votes as its acknowledgement carries them."""
    mine = events.run("vote", workshop, participant, payload)["mine"]
    return {k: v for k, v in mine.items() if k != "stage_id"}


def add_comment(workshop, participant, payload):
    """Comment as a phone; return the stored comment."""
    return db.session.get(Comment, events.run("comment:add", workshop, participant, payload)["comment"]["id"])


def update_settings(workshop, payload):
    """Change a stage's settings as the console does ({stage_id, ...})."""
    events.run("stage:settings", workshop, None, payload)
    return access.get_stage(workshop, payload["stage_id"])


def edit_item(workshop, item_id, payload):
    """Correct an item as the console's upload form does (no image)."""
    item = access.get_item(workshop, item_id)
    return items.edit_item(workshop, item, checks.parse(kind_of(item.stage).ItemForm, payload))
