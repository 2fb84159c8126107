"""What a stage collects: ideas from phones, concepts and drafts the facilitator prepares, comments;
hiding and merging them."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select

from .. import images
from ..errors import Refused
from ..extensions import db
from ..models import Comment, Item, Participant, Stage, Vote, Workshop
from ..stages import kind_of
from .access import get_item, lock_workshop, require_open
from .moderation import hold

_ITEM_BY_CLIENT_ID = select(Item).where(Item.participant_id == bindparam("pid"),
                                        Item.client_id == bindparam("cid"))
_COMMENT_BY_CLIENT_ID = select(Comment).where(Comment.participant_id == bindparam("pid"),
                                              Comment.client_id == bindparam("cid"))


def stored_item(participant: Participant, client_id: str) -> Item | None:
    """Return the item a phone already sent with this client id (a resend adds nothing)."""
    return db.session.scalars(_ITEM_BY_CLIENT_ID, {"pid": participant.id, "cid": client_id}).first()


def stored_comment(participant: Participant, client_id: str) -> Comment | None:
    """Return the comment a phone already sent with this client id (a resend adds nothing)."""
    return db.session.scalars(_COMMENT_BY_CLIENT_ID, {"pid": participant.id, "cid": client_id}).first()


def add_item(workshop: Workshop, participant: Participant | None, stage: Stage, form,
             client_id: str | None = None, upload=None) -> Item:
    """Add an item (idea, audience, concept, draft) checked by the stage kind's ItemForm.

    Participants add to the current stage while it collects. The facilitator
    (participant None) adds to any stage not yet decided, also before it starts
    when the kind collects nothing from phones (concepts and drafts are prepared
    ahead), with an optional image `upload` (a file stream) for kinds that take one.
    """
    kind = kind_of(stage)
    image = _stored_image(kind, upload)  # decoded in a worker, before any lock is taken
    try:
        if participant is not None:
            require_open(workshop)
            if stage.id != workshop.current_stage_id or stage.phase != "collect":
                raise Refused(_l("Ideas are not being collected right now."))
        else:
            lock_workshop(workshop)  # a facilitator action: every screen's view changes
            if stage.phase == "decided":
                raise Refused(_l("This stage is decided: go back to voting to add more."))
            if stage.phase == "pending" and "collect" in kind.phases:
                raise Refused(_l("Open the stage before adding ideas."))
        columns = kind.item_fields(form)
        if image is not None:
            columns["data"] = {**columns.get("data", {}), "image": image}
        # By ids, not relationships: assigning `stage=` would drag the stage's item list and the
        # participant into the flush (a phone's idea is one INSERT).
        item = Item(stage_id=stage.id, participant_id=participant.id if participant else None,
                    client_id=client_id, **columns)
        if participant is not None:
            hold(workshop, item)
        db.session.add(item)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        images.delete(image)
        raise
    return item


def _stored_image(kind, upload) -> dict | None:
    """Check and store an uploaded image for a kind that takes images (None: no upload).

    images.save decodes it in a worker process and gives the database connection back while it
    waits: so it runs before the workshop is locked, and nothing may be pending in the session.
    """
    if upload is None:
        return None
    if not kind.takes_images:
        raise Refused(_l("This stage does not take images."))
    return images.save(upload)


def edit_item(workshop: Workshop, item: Item, form, upload=None) -> Item:
    """Correct an item the facilitator prepared with its kind's checked ItemForm (and a new image).

    What phones wrote stays as they wrote it: only the facilitator's own items
    (concepts, drafts, seeded ideas) can be edited, and not once the stage is decided.
    """
    if item.participant_id is not None:
        raise Refused(_l("Participants' ideas stay as they wrote them: hide it or merge it instead."))
    image = _stored_image(kind_of(item.stage), upload)  # decoded in a worker, before the lock
    try:
        lock_workshop(workshop)
        if item.participant_id is not None:
            raise Refused(_l("Participants' ideas stay as they wrote them: hide it or merge it instead."))
        if item.stage.phase == "decided":
            raise Refused(_l("This stage is decided: go back to voting to edit it."))
        kind = kind_of(item.stage)
        columns = kind.item_fields(form)
        old_image = item.image
        data = {**(item.data or {}), **columns.pop("data", {})}  # keeps the image and any role
        if image is not None:
            data["image"] = image
        for name, value in columns.items():
            setattr(item, name, value)
        item.data = data
        db.session.commit()
    except BaseException:
        db.session.rollback()
        images.delete(image)
        raise
    if image is not None:
        images.delete(old_image)  # only once the new one is stored
    return item


def hide_item(workshop: Workshop, item_id: int, hidden: bool) -> Item:
    """Hide an item from the room (kept on record), or show it again (approving one awaiting approval)."""
    lock_workshop(workshop)
    item = get_item(workshop, item_id)
    item.hidden, item.pending = hidden, False
    db.session.commit()
    return item


def merge_items(workshop: Workshop, source_id: int, target_id: int) -> Item:
    """Merge a duplicate into another item: both texts stay, votes move to the target.

    Only kinds that allow it (`mergeable`: duplicate ideas and audiences), and only
    before voting closes. A participant with votes on both keeps what the kind's
    `combine` makes of them (dots add up, the better rank stays), so no budget is
    exceeded and no ballot holds a rank twice.
    """
    lock_workshop(workshop)
    source, target = get_item(workshop, source_id), get_item(workshop, target_id)
    if source.id == target.id or source.stage_id != target.stage_id:
        raise Refused(_l("Merge two different ideas of the same stage."))
    kind = kind_of(source.stage)
    if not kind.mergeable:
        raise Refused(_l("“%(kind)s” does not merge items: hide the duplicate instead.", kind=kind.label))
    if not kind.can_merge(source.stage):
        raise Refused(_l("Ideas cannot be merged once voting has closed."))
    if not source.active or not target.active:
        raise Refused(_l("Only visible ideas can be merged."))
    record = {"into": target.id, "children": [child.id for child in source.merged], "votes": []}
    for child in list(source.merged):  # keep the record flat: everything points at the survivor
        child.merged_into = target
    for vote in db.session.scalars(select(Vote).filter_by(item_id=source.id)).all():
        kept = db.session.scalar(select(Vote).filter_by(
            participant_id=vote.participant_id, item_id=target.id, criterion=vote.criterion))
        entry = {"p": vote.participant_id, "c": vote.criterion, "moved": vote.value, "note": vote.note,
                 "before": None if kept is None else kept.value}
        if kept is None:
            vote.item_id = target.id
        else:
            kept.value = kind.combine(kept.value, vote.value)
            db.session.delete(vote)
        record["votes"].append({**entry, "after": vote.value if kept is None else kept.value})
    source.merged_into = target
    source.data = {**(source.data or {}), "merge": record}  # what an undo puts back
    db.session.commit()
    return target


def unmerge_item(workshop: Workshop, item_id: int) -> Item:
    """Undo a merge: the duplicate comes back with the votes it brought, as the merge recorded them.

    Each participant's value on the survivor is split back by the kind's `uncombine` (dots given
    since stay where they are now, a rank another item took since is not given twice), and the
    ideas that had been merged into the duplicate point at it again.
    """
    lock_workshop(workshop)
    source = get_item(workshop, item_id)
    record = (source.data or {}).get("merge")
    if source.merged_into_id is None or record is None:
        raise Refused(_l("This idea is not merged."))
    kind = kind_of(source.stage)
    if not kind.can_merge(source.stage):
        raise Refused(_l("Merges cannot be undone once voting has closed."))
    target_id = source.merged_into_id
    for entry in record["votes"]:
        kept = db.session.scalar(select(Vote).filter_by(participant_id=entry["p"], item_id=target_id,
                                                        criterion=entry["c"]))
        stay, back = kind.uncombine(source.stage, entry, None if kept is None else kept.value)
        if kept is not None and stay is None:
            db.session.delete(kept)
        elif kept is not None:
            kept.value = stay
        if back is not None:
            db.session.add(Vote(stage_id=source.stage_id, participant_id=entry["p"], item_id=source.id,
                                criterion=entry["c"], value=back, note=entry.get("note") or ""))
    for child in db.session.scalars(select(Item).where(Item.id.in_(record["children"]),
                                                       Item.merged_into_id == target_id)):
        child.merged_into_id = source.id
    source.merged_into_id = None
    source.data = {k: v for k, v in source.data.items() if k != "merge"}
    db.session.commit()
    return source


def code_answer(workshop: Workshop, stage: Stage, form) -> Stage:
    """Record the console's code of a participant's open answer (the kind's checked CodingForm)."""
    lock_workshop(workshop)
    kind_of(stage).code_answer(stage, form)
    db.session.commit()
    return stage


def carry_candidates(workshop: Workshop, stage: Stage) -> list[dict]:
    """Return the items decided in the facilitator's stages that take images (approved drafts, chosen
    concepts), of this workshop and their others, newest workshop first: what a stage may bring in."""
    out = []
    titles = {i.title for i in stage.items}
    for other in db.session.scalars(select(Workshop).where(Workshop.facilitator_id == workshop.facilitator_id)
                                    .order_by(Workshop.created_at.desc(), Workshop.id.desc())):
        for source in other.stages:
            if source.id == stage.id or not kind_of(source).takes_images or not source.decision:
                continue
            by_id = {item.id: item for item in source.items}
            for item_id in source.decision.get("item_ids", []):
                item = by_id.get(item_id)
                if item is not None and item.title not in titles:
                    out.append({"item": item, "source": f"{other.title} · {source.title}"})
    return out[:100]


def carry_items(workshop: Workshop, stage: Stage, item_ids: list[int]) -> list[Item]:
    """Copy decided items (text, extra fields and a copy of the image's stored files) into a stage."""
    lock_workshop(workshop)
    if not kind_of(stage).takes_images or stage.phase == "decided":
        raise Refused(_l("This stage does not take materials now."))
    offered = {c["item"].id: c["item"] for c in carry_candidates(workshop, stage)}
    chosen = [offered[i] for i in item_ids if i in offered]
    if not chosen:
        raise Refused(_l("Choose at least one draft to bring in."))
    copies = []
    for source in chosen:
        data = {k: v for k, v in (source.data or {}).items() if k not in ("image", "prepared_by")}
        if source.image:  # our own re-encoded copies: copied as they are, nothing decoded
            image = images.duplicate(source.image)
            if image is not None:
                data["image"] = image
        data["carried_from"] = source.stage.title
        copy = Item(stage_id=stage.id, title=source.title, detail=source.detail, data=data)
        db.session.add(copy)
        copies.append(copy)
    db.session.commit()
    return copies


def add_comment(workshop: Workshop, participant: Participant, stage: Stage, form, client_id: str) -> Comment:
    """Add a comment (the stage kind's checked CommentForm) on an item of the current stage while voting."""
    require_open(workshop)
    if stage.phase != "vote":
        raise Refused(_l("Comments are closed."))
    item = db.session.get(Item, form.item_id.data)
    if item is None or item.stage_id != stage.id or not item.active:
        raise Refused(_l("That item is not open for comments."))
    comment = Comment(stage_id=stage.id, item_id=item.id, participant_id=participant.id,
                      client_id=client_id, tag=form.tag.data, text=form.text.data)
    hold(workshop, comment)
    db.session.add(comment)
    db.session.commit()
    return comment
