"""The rules of a live workshop: who may do what, when, and what it changes.

Used by the HTTP views and the Socket.IO handlers alike; pure of HTTP. Every
function that changes something commits before it returns, so whatever the
caller acknowledges is on disk. Refusals raise `Refused` and change nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from . import forms, images, models
from .errors import Refused
from .extensions import db
from .models import (
    CODE_ALPHABET,
    CODE_LENGTH,
    Comment,
    Invitation,
    Item,
    Participant,
    Stage,
    Vote,
    Workshop,
    utcnow,
)
from .stages import KINDS, PROMPTS, TEMPLATES, kind_of, stage_plan

# --- loading, or refusing ------------------------------------------------------

def normalise_code(code: str) -> str:
    """Upper-case a typed code and drop spaces and dashes."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


# Built once: every phone's request looks these up, and building a statement costs as
# much as running it. The workshop comes with its current stage, which nearly every page reads.
WORKSHOP_BY_CODE = (select(Workshop).where(Workshop.code == bindparam("code"))
                    .options(joinedload(Workshop.current_stage)))
PARTICIPANT_BY_TOKEN = select(Participant).where(Participant.workshop_id == bindparam("workshop_id"),
                                                 Participant.token == bindparam("token"))


def get_workshop(code: str, facilitator=None, open_only: bool = False) -> Workshop:
    """Load a workshop by join code, or refuse.

    With `facilitator`, only its owner gets it; with `open_only`, a closed
    workshop is refused as if it did not exist for joining.
    """
    code = normalise_code(code)
    workshop = None
    if len(code) == CODE_LENGTH and all(ch in CODE_ALPHABET for ch in code):
        workshop = db.session.scalar(WORKSHOP_BY_CODE, {"code": code})
    if workshop is None:
        raise Refused(_l("No workshop has the code %(code)s. Check the code on the screen.",
                         code=code[:12] or "?"), 404)
    if facilitator is not None and workshop.facilitator_id != facilitator.id:
        raise Refused(_l("This workshop belongs to another facilitator."), 403)
    if open_only and not workshop.is_open:
        raise Refused(_l("This workshop has ended. Thank you for taking part!"), 410)
    return workshop


def get_stage(workshop: Workshop, stage_id: int) -> Stage:
    """Load one of this workshop's stages, or refuse."""
    stage = db.session.get(Stage, stage_id)
    if stage is None or stage.workshop_id != workshop.id:
        raise Refused(_l("That stage is not part of this workshop."), 404)
    return stage


def get_item(workshop: Workshop, item_id: int) -> Item:
    """Load one of this workshop's items, or refuse."""
    item = db.session.get(Item, item_id)
    if item is None or item.stage.workshop_id != workshop.id:
        raise Refused(_l("That item is not part of this workshop."), 404)
    return item


def participant_for(workshop: Workshop, token: str | None) -> Participant | None:
    """Return the participant this phone's token belongs to, if any."""
    if not token:
        return None
    return db.session.scalar(PARTICIPANT_BY_TOKEN, {"workshop_id": workshop.id, "token": token})


def _lock_workshop(workshop: Workshop) -> None:
    """Serialise facilitator actions on one workshop (row lock / SQLite write lock).

    Two console tabs acting at once: the second waits and then sees the first.
    """
    db.session.execute(update(Workshop).where(Workshop.id == workshop.id)
                       .values(version=Workshop.version + 1).execution_options(synchronize_session=False))
    db.session.expire_all()  # nothing read before the lock is trusted after it


# The vote path runs once per tap in the room: its statements are built once, on table
# columns (no ORM layer), and only their parameters change (about 5x cheaper per statement).
_P, _S = Participant.__table__.c, Stage.__table__.c
_LOCK_PARTICIPANT = update(Participant.__table__).where(_P.id == bindparam("pid")).values(
    seen_at=bindparam("now"))
_STAGE_PHASE = select(_S.phase).where(_S.id == bindparam("sid"))


def _lock_participant(participant: Participant) -> None:
    """Serialise one participant's votes, so two tabs cannot overspend a budget."""
    db.session.execute(_LOCK_PARTICIPANT, {"pid": participant.id, "now": utcnow()})


# --- workshops and participants -----------------------------------------------

def create_workshop(facilitator, *, title: str, topic: str = "", description: str = "",
                    groups: list[str] | None = None, collect_names: bool = False,
                    template: str = "campaign", language: str = "en") -> Workshop:
    """Create a workshop with the stages of a template and a fresh join code."""
    if template not in TEMPLATES:
        raise Refused(_l("Choose one of the workshop templates."))
    with force_locale(language):  # default groups, titles and prompts in the workshop's language
        groups = groups or forms.default_groups()
        plan = stage_plan(template)
    for _attempt in range(20):
        workshop = Workshop(facilitator=facilitator, title=title, topic=topic,
                            description=description, groups=groups,
                            collect_names=collect_names, language=language)
        for position, (kind, stage_title, prompt) in enumerate(plan):
            workshop.stages.append(_new_stage(position, kind, stage_title, prompt))
        db.session.add(workshop)
        try:
            db.session.flush()
        except IntegrityError:  # join code already taken: draw another
            db.session.rollback()
            continue
        workshop.current_stage = workshop.stages[0]
        db.session.commit()
        return workshop
    raise Refused(_l("Could not find a free join code; try again."), 503)


def set_open(workshop: Workshop, is_open: bool) -> None:
    """Open or close a workshop for joining and taking part."""
    _lock_workshop(workshop)
    workshop.status = "open" if is_open else "closed"
    db.session.commit()


def set_language(workshop: Workshop, language: str) -> None:
    """Set the language of the workshop's projector and report."""
    _lock_workshop(workshop)
    workshop.language = language
    db.session.commit()


def join(workshop: Workshop, token: str | None, name: str, group: str) -> Participant:
    """Join a workshop, or update the name/group of the phone that already joined."""
    if not workshop.is_open:
        raise Refused(_l("This workshop has ended. Thank you for taking part!"), 410)
    if group not in workshop.groups:
        raise Refused(_l("Choose one of the stakeholder groups."))
    # By id, not `workshop=`: the relationship would make the commit work through the workshop's
    # participants too, which costs a join storm more than the insert itself.
    participant = participant_for(workshop, token) or Participant(workshop_id=workshop.id)
    participant.group = group
    participant.name = name.strip() if workshop.collect_names else ""
    db.session.add(participant)
    db.session.commit()
    return participant


def participant_count(workshop: Workshop) -> int:
    """Return how many phones have joined."""
    return db.session.scalar(select(func.count(Participant.id)).filter_by(workshop_id=workshop.id))


# --- the stage lifecycle ------------------------------------------------------

def goto_stage(workshop: Workshop, stage_id: int) -> Stage:
    """Make a stage the one everyone sees."""
    _lock_workshop(workshop)
    stage = get_stage(workshop, stage_id)
    workshop.current_stage = stage
    db.session.commit()
    return stage


def set_phase(workshop: Workshop, stage_id: int, phase: str) -> Stage:
    """Move a stage to another of its kind's phases (not `decided`: use `decide`).

    Re-opening voting hides revealed results again; votes already cast stay.
    """
    _lock_workshop(workshop)
    stage = get_stage(workshop, stage_id)
    kind = kind_of(stage)
    if not kind.playable:
        raise Refused(_l("This activity is not available yet."))
    if phase not in kind.phases or phase == "decided":
        raise Refused(_l("This stage has no phase %(phase)s.", phase=phase[:16]))
    if kind.phases.index(phase) < kind.phases.index("results"):
        stage.revealed_at = None
    stage.phase = phase
    stage.decided_at = None
    workshop.current_stage = stage
    db.session.commit()
    return stage


def steps(workshop: Workshop) -> tuple[tuple[Stage, str] | None, tuple[Stage, str] | None]:
    """Return the (stage, phase) one step back and one step forward from now."""
    stage = workshop.current_stage
    if stage is None:
        return None, None
    phases = kind_of(stage).phases
    i = phases.index(stage.phase) if stage.phase in phases else 0
    back = (stage, phases[i - 1]) if i > 0 else None
    if back is None and stage.position > 0:
        prev = workshop.stages[stage.position - 1]
        back = (prev, prev.phase)
    forward = None
    if i + 1 < len(phases) and phases[i + 1] != "decided":
        forward = (stage, phases[i + 1])
    elif stage.phase == "decided" or not kind_of(stage).playable:
        later = [s for s in workshop.stages if s.position > stage.position]
        if later:
            nxt = later[0]
            nxt_phases = kind_of(nxt).phases
            forward = (nxt, nxt.phase if nxt.phase != "pending" else nxt_phases[min(1, len(nxt_phases) - 1)])
    return back, forward


def go(workshop: Workshop, stage_id: int, phase: str) -> Stage:
    """Take one step: to a phase of a stage, making it current."""
    stage = get_stage(workshop, stage_id)
    if phase == stage.phase:
        return goto_stage(workshop, stage_id)
    return set_phase(workshop, stage_id, phase)


def reveal(workshop: Workshop, stage_id: int, revealed: bool = True) -> Stage:
    """Show (or hide again) a stage's results to the room; closes voting."""
    _lock_workshop(workshop)
    stage = get_stage(workshop, stage_id)
    phases = kind_of(stage).phases
    if "results" not in phases:
        raise Refused(_l("This stage has no results to reveal."))
    if phases.index(stage.phase) < phases.index("vote"):
        raise Refused(_l("Open voting before revealing results."))
    if stage.phase == "vote":
        stage.phase = "results"
    stage.revealed_at = utcnow() if revealed else None
    db.session.commit()
    return stage


def decide(workshop: Workshop, form: forms.DecisionForm) -> Stage:
    """Record the decision of a stage, its rationale and the minority view."""
    _lock_workshop(workshop)
    stage = get_stage(workshop, form.stage_id.data)
    kind = kind_of(stage)
    if "decided" not in kind.phases:
        raise Refused(_l("This stage takes no decision."))
    if stage.phase not in ("vote", "results", "decided"):
        raise Refused(_l("Open voting before recording the decision."))
    stage.decision = kind.decide(stage, form)
    stage.rationale = form.rationale.data.strip()
    stage.minority_view = (form.minority_view.data or "").strip()
    stage.phase = "decided"
    stage.revealed_at = stage.revealed_at or utcnow()
    stage.decided_at = utcnow()
    db.session.commit()
    return stage


def update_settings(workshop: Workshop, payload: dict) -> Stage:
    """Change a stage's settings ({stage_id, ...}) through its kind's settings form."""
    if not isinstance(payload, dict):
        raise Refused(_l("Invalid request."))
    stage_id = forms.parse(forms.StageIdForm, {"stage_id": payload.get("stage_id", "")}).stage_id.data
    _lock_workshop(workshop)
    stage = get_stage(workshop, stage_id)
    kind = kind_of(stage)
    if kind.SettingsForm is None:
        raise Refused(_l("This stage has no settings."))
    form = forms.parse(kind.SettingsForm, {k: v for k, v in payload.items() if k != "stage_id"})
    stage.settings = {**(stage.settings or {}), **form.data}
    db.session.commit()
    return stage


def save_notes(workshop: Workshop, stage_id: int, notes: str) -> Stage:
    """Keep the facilitator's private notes for a stage."""
    stage = get_stage(workshop, stage_id)
    stage.notes = notes
    db.session.commit()
    return stage


def start_timer(workshop: Workshop, seconds: int) -> None:
    """Start the room's countdown."""
    _lock_workshop(workshop)
    workshop.timer_seconds = seconds
    workshop.timer_ends_at = utcnow() + timedelta(seconds=seconds)
    db.session.commit()


def stop_timer(workshop: Workshop) -> None:
    """Stop and hide the countdown."""
    _lock_workshop(workshop)
    workshop.timer_ends_at = None
    db.session.commit()


# --- ideas ------------------------------------------------------------------------

_ITEM_BY_CLIENT_ID = select(Item).where(Item.participant_id == bindparam("pid"),
                                        Item.client_id == bindparam("cid"))


def add_item(workshop: Workshop, participant: Participant | None, payload: dict, upload=None) -> Item:
    """Add an item (idea, audience, concept, draft); a retry with the same client id adds nothing.

    Participants add to the current stage while it collects. The facilitator
    (participant None) adds to any stage not yet decided (`stage_id` in the
    payload, default the current one), also before it starts when the kind
    collects nothing from phones (concepts and drafts are prepared ahead),
    with an optional image `upload` (a file stream) for kinds that take one.
    """
    client_id, fields = forms.split_client_id(payload, required=participant is not None)
    if participant is not None:
        stage = workshop.current_stage
        existing = db.session.scalars(_ITEM_BY_CLIENT_ID, {"pid": participant.id, "cid": client_id}).first()
        if existing is not None:
            return existing
        if not workshop.is_open:
            raise Refused(_l("This workshop has ended. Thank you for taking part!"), 410)
        if stage is None or stage.phase != "collect":
            raise Refused(_l("Ideas are not being collected right now."))
    else:
        _lock_workshop(workshop)  # a facilitator action: every screen's view changes
        stage_id = fields.pop("stage_id", None)
        stage = workshop.current_stage
        if stage_id not in (None, ""):
            stage = get_stage(workshop, forms.parse(forms.StageIdForm, {"stage_id": stage_id}).stage_id.data)
        if stage is None:
            raise Refused(_l("This stage does not take ideas."))
        if stage.phase == "decided":
            raise Refused(_l("This stage is decided: go back to voting to add more."))
        if stage.phase == "pending" and "collect" in kind_of(stage).phases:
            raise Refused(_l("Open the stage before adding ideas."))
    kind = kind_of(stage)
    if kind.ItemForm is None:
        raise Refused(_l("This stage does not take ideas."))
    form = forms.parse(kind.ItemForm, fields)
    columns = kind.item_fields(form)
    if upload is not None:
        if not kind.takes_images:
            raise Refused(_l("This stage does not take images."))
        columns["data"] = {**columns.get("data", {}), "image": images.save(upload)}
    # By ids, not relationships: assigning `stage=` would drag the stage's item list and the
    # participant into the flush (a phone's idea is one INSERT).
    item = Item(stage_id=stage.id, participant_id=participant.id if participant else None,
                client_id=client_id, **columns)
    db.session.add(item)
    db.session.commit()
    return item


def edit_item(workshop: Workshop, item_id: int, payload: dict, upload=None) -> Item:
    """Correct an item the facilitator prepared (text, and the image if a new one is given).

    What phones wrote stays as they wrote it: only the facilitator's own items
    (concepts, drafts, seeded ideas) can be edited, and not once the stage is decided.
    """
    _lock_workshop(workshop)
    item = get_item(workshop, item_id)
    if item.participant_id is not None:
        raise Refused(_l("Participants' ideas stay as they wrote them: hide it or merge it instead."))
    if item.stage.phase == "decided":
        raise Refused(_l("This stage is decided: go back to voting to edit it."))
    kind = kind_of(item.stage)
    if kind.ItemForm is None:
        raise Refused(_l("This stage does not take ideas."))
    columns = kind.item_fields(forms.parse(kind.ItemForm, payload))
    old_image = item.image
    data = {**(item.data or {}), **columns.pop("data", {})}  # keeps the image and any role
    if upload is not None:
        if not kind.takes_images:
            raise Refused(_l("This stage does not take images."))
        data["image"] = images.save(upload)
    for name, value in columns.items():
        setattr(item, name, value)
    item.data = data
    db.session.commit()
    if upload is not None:
        images.delete(old_image)  # only once the new one is stored
    return item


# --- creative partners: prepare concepts and drafts through an invitation link ----------

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


def revoke_invitation(workshop: Workshop, invitation_id: int) -> None:
    """Stop an invitation link from working (what the partner prepared stays)."""
    revoke(Invitation, workshop, invitation_id)


def get_invitation(token: str) -> Invitation:
    """Load a working invitation by its token, or refuse."""
    invitation = db.session.scalar(select(Invitation).filter_by(token=token)) if token else None
    if invitation is None or invitation.revoked_at is not None:
        raise Refused(_l("This link does not work (any more). Ask the facilitator for a new one."), 404)
    if not invitation.workshop.is_open:
        raise Refused(_l("This workshop has ended. Thank you for taking part!"), 410)
    return invitation


def partner_stages(workshop: Workshop) -> list[Stage]:
    """Return the stages a creative partner prepares: those whose items carry images."""
    return [stage for stage in workshop.stages if kind_of(stage).takes_images]


def partner_adds_item(invitation: Invitation, stage_id: int, payload: dict, upload=None) -> Item:
    """Add a concept or draft for the partner, marked with who prepared it."""
    stage = get_stage(invitation.workshop, stage_id)
    if not kind_of(stage).takes_images:
        raise Refused(_l("Partners prepare concepts and drafts only."), 403)
    item = add_item(invitation.workshop, None, {**payload, "stage_id": stage_id}, upload=upload)
    item.data = {**item.data, "prepared_by": invitation.label}
    db.session.commit()
    return item


def partner_edits_item(invitation: Invitation, item_id: int, payload: dict, upload=None) -> Item:
    """Correct a concept or draft in a stage the partner prepares."""
    item = get_item(invitation.workshop, item_id)
    if not kind_of(item.stage).takes_images:
        raise Refused(_l("Partners prepare concepts and drafts only."), 403)
    return edit_item(invitation.workshop, item_id, payload, upload=upload)


def add_comment(workshop: Workshop, participant: Participant, payload: dict) -> Comment:
    """Add a tagged comment on an item of the current stage; a retry adds nothing."""
    stage = workshop.current_stage
    kind = kind_of(stage) if stage else None
    comment_form = getattr(kind, "CommentForm", None)
    client_id, fields = forms.split_client_id(payload)
    existing = db.session.scalar(select(Comment).filter_by(participant_id=participant.id,
                                                             client_id=client_id))
    if existing is not None:
        return existing
    if not workshop.is_open:
        raise Refused(_l("This workshop has ended. Thank you for taking part!"), 410)
    if comment_form is None or stage.phase != "vote":
        raise Refused(_l("Comments are closed."))
    form = forms.parse(comment_form, fields)
    item = db.session.get(Item, form.item_id.data)
    if item is None or item.stage_id != stage.id or not item.active:
        raise Refused(_l("That item is not open for comments."))
    comment = Comment(stage_id=stage.id, item_id=item.id, participant_id=participant.id,
                      client_id=client_id, tag=form.tag.data, text=form.text.data)
    db.session.add(comment)
    db.session.commit()
    return comment


def focus(workshop: Workshop, stage_id: int, item_id: int | None) -> Stage:
    """Show one item to the whole room (phones follow), or let phones browse (None)."""
    _lock_workshop(workshop)
    stage = get_stage(workshop, stage_id)
    if item_id is not None:
        item = get_item(workshop, item_id)
        if item.stage_id != stage.id:
            raise Refused(_l("That item is not part of this stage."))
    stage.settings = {**(stage.settings or {}), "focus": item_id}
    db.session.commit()
    return stage


# --- the agenda ----------------------------------------------------------------------

def _new_stage(position: int, kind: str, title: str, prompt: str) -> Stage:
    stage = Stage(position=position, kind=kind, title=title, prompt=prompt, settings={})
    KINDS[kind].setup(stage)
    return stage


def add_stage(workshop: Workshop, kind: str) -> Stage:
    """Add a stage of a kind at the end of the agenda."""
    _lock_workshop(workshop)
    if kind not in KINDS:
        raise Refused(_l("Choose a kind of stage."))
    with force_locale(workshop.language):  # written in the workshop's language, like the first ones
        stage = _new_stage(len(workshop.stages), kind, str(KINDS[kind].label), str(PROMPTS[kind]))
    workshop.stages.append(stage)
    db.session.commit()
    return stage


def _on_record(stage: Stage) -> bool:
    """True when participants have given anything in a stage."""
    return any(db.session.scalar(select(func.count()).select_from(model).where(
        model.stage_id == stage.id, model.participant_id.is_not(None))) for model in (Item, Vote, Comment))


def remove_stage(workshop: Workshop, stage_id: int) -> None:
    """Remove a stage nobody has contributed to yet; the others close ranks."""
    _lock_workshop(workshop)
    stage = get_stage(workshop, stage_id)
    if stage.id == workshop.current_stage_id:
        raise Refused(_l("This stage is on screen: show another stage first."))
    if _on_record(stage) or stage.decision:
        raise Refused(_l("Participants have contributed to this stage: it stays on record."))
    for item in stage.items:
        images.delete(item.image)
    workshop.stages.remove(stage)
    for position, other in enumerate(workshop.stages):
        other.position = position
    db.session.commit()


def move_stage(workshop: Workshop, stage_id: int, offset: int) -> None:
    """Move a stage one place earlier (-1) or later (+1) in the agenda."""
    _lock_workshop(workshop)
    stage = get_stage(workshop, stage_id)
    stages = list(workshop.stages)
    i = stages.index(stage)
    j = i + (1 if offset > 0 else -1)
    if not 0 <= j < len(stages):
        raise Refused(_l("This stage cannot move further."))
    stages[i], stages[j] = stages[j], stages[i]
    for position, other in enumerate(stages):
        other.position = position
    db.session.commit()
    db.session.expire(workshop, ["stages"])


def edit_stage(workshop: Workshop, stage_id: int, title: str, prompt: str) -> Stage:
    """Rename a stage and reword its prompt."""
    _lock_workshop(workshop)
    stage = get_stage(workshop, stage_id)
    stage.title, stage.prompt = title, prompt
    db.session.commit()
    return stage


def hide_item(workshop: Workshop, item_id: int, hidden: bool) -> Item:
    """Hide an idea from the room (kept on record), or show it again."""
    _lock_workshop(workshop)
    item = get_item(workshop, item_id)
    item.hidden = hidden
    db.session.commit()
    return item


def merge_items(workshop: Workshop, source_id: int, target_id: int) -> Item:
    """Merge a duplicate idea into another: both texts stay, dots move to the target.

    A participant with dots on both keeps their sum on the target, so no
    budget is exceeded by a merge.
    """
    _lock_workshop(workshop)
    source, target = get_item(workshop, source_id), get_item(workshop, target_id)
    if source.id == target.id or source.stage_id != target.stage_id:
        raise Refused(_l("Merge two different ideas of the same stage."))
    if not source.active or not target.active:
        raise Refused(_l("Only visible ideas can be merged."))
    if source.stage.phase in ("results", "decided"):
        raise Refused(_l("Ideas cannot be merged once voting has closed."))
    for child in list(source.merged):  # keep the record flat: everything points at the survivor
        child.merged_into = target
    for vote in db.session.scalars(select(Vote).filter_by(item_id=source.id)).all():
        kept = db.session.scalar(select(Vote).filter_by(
            participant_id=vote.participant_id, item_id=target.id, criterion=vote.criterion))
        if kept is None:
            vote.item_id = target.id
        else:
            kept.value = kind_of(source.stage).combine(kept.value, vote.value)
            db.session.delete(vote)
    source.merged_into = target
    db.session.commit()
    return target


# --- votes -----------------------------------------------------------------------

@dataclass(frozen=True)
class LiveStage:
    """What a vote reads of the current stage; any other field is an AttributeError, not a None."""

    id: int
    kind: str
    phase: str
    settings: dict

    setting = Stage.setting


@dataclass(frozen=True)
class LiveWorkshop:
    """What a vote reads of its workshop, from one plain query (`live_workshop`)."""

    id: int
    status: str
    current_stage: LiveStage | None

    is_open = Workshop.is_open

    @property
    def current_stage_id(self) -> int | None:
        return self.current_stage.id if self.current_stage else None


@dataclass(frozen=True)
class LiveParticipant:
    """A phone, as a vote knows it: checked when its socket connected; its id is all a vote needs."""

    id: int


_W = Workshop.__table__.c
_LIVE_WORKSHOP = (select(_W.id, _W.status, _S.id.label("stage_id"), _S.kind, _S.phase, _S.settings)
                  .select_from(Workshop.__table__.outerjoin(Stage.__table__, _W.current_stage_id == _S.id))
                  .where(_W.id == bindparam("wid")))


def live_workshop(workshop_id: int) -> LiveWorkshop | None:
    """Load the workshop and its current stage for a phone's vote: one statement, no ORM objects.

    A vote comes once per tap in the room, and loading ORM objects cost as much as the
    vote itself. Facilitator actions and views load the real workshop.
    """
    row = db.session.execute(_LIVE_WORKSHOP, {"wid": workshop_id}).first()
    if row is None:
        return None
    stage = LiveStage(row.stage_id, row.kind, row.phase, row.settings or {}) if row.stage_id else None
    return LiveWorkshop(row.id, row.status, stage)


def cast_vote(workshop: Workshop, participant: Participant, payload: dict) -> dict:
    """Store one vote action for the current stage and return the participant's votes."""
    stage = workshop.current_stage
    if not workshop.is_open:
        raise Refused(_l("This workshop has ended. Thank you for taking part!"), 410)
    if stage is None or stage.phase != "vote":
        raise Refused(_l("Voting is closed."))
    kind = kind_of(stage)
    client_id, fields = forms.split_client_id(payload)
    form = forms.parse(kind.VoteForm, fields)
    _lock_participant(participant)
    # A close that committed while we waited for the lock wins.
    if db.session.execute(_STAGE_PHASE, {"sid": stage.id}).scalar() != "vote":
        db.session.rollback()
        raise Refused(_l("Voting is closed."))
    if not _first_application(participant, client_id):
        db.session.commit()  # a copy of an action already applied: change nothing, say what is stored
        return kind.ballot(stage, participant)
    try:
        mine = kind.vote(stage, participant, form, client_id)
    except Refused:
        db.session.rollback()
        raise
    db.session.commit()
    return mine


def _first_application(participant: Participant, client_id: str) -> bool:
    """Record that this vote action is applied; False when it already was (a late copy).

    Runs after the participant's row lock, so two copies racing cannot both pass.
    """
    dialect = db.session.get_bind().dialect.name
    statement = _FIRST_APPLICATION.get(dialect)
    if statement is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        table = models.VoteAction.__table__
        # RETURNING, not rowcount: a row comes back only when this copy was the first.
        statement = _FIRST_APPLICATION[dialect] = (
            insert(table).values(participant_id=bindparam("pid"), client_id=bindparam("cid"))
            .on_conflict_do_nothing().returning(table.c.client_id))
    return db.session.execute(statement, {"pid": participant.id, "cid": client_id}).first() is not None


_FIRST_APPLICATION: dict = {}  # dialect name -> the statement
