"""The agenda: the workshop's stages in order; add, remove, move and rename them at any time."""
from __future__ import annotations

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from .. import images
from ..errors import Refused
from ..extensions import db
from ..models import Comment, Item, Stage, Vote, Workshop
from ..stages import KINDS
from .access import get_stage, lock_workshop


def new_stage(kind: str, title: str, prompt: str) -> Stage:
    """Return a new stage of a kind, set up by the kind (its position is set by `renumber`)."""
    stage = Stage(position=0, kind=kind, title=title, prompt=prompt, settings={})
    KINDS[kind].setup(stage)
    return stage


def renumber(stages: list[Stage]) -> None:
    """Give stages their positions in list order."""
    for position, stage in enumerate(stages):
        stage.position = position


def add_stage(workshop: Workshop, kind: str) -> Stage:
    """Add a stage of a kind at the end of the agenda."""
    lock_workshop(workshop)
    if kind not in KINDS:
        raise Refused(_l("Choose a kind of stage."))
    with force_locale(workshop.language):  # written in the workshop's language, like the first ones
        stage = new_stage(kind, str(KINDS[kind].label), str(KINDS[kind].prompt))
    workshop.stages.append(stage)
    renumber(workshop.stages)
    db.session.commit()
    return stage


def _on_record(stage: Stage) -> bool:
    """True when participants have given anything in a stage."""
    return any(db.session.scalar(select(func.count()).select_from(model).where(
        model.stage_id == stage.id, model.participant_id.is_not(None))) for model in (Item, Vote, Comment))


def remove_stage(workshop: Workshop, stage_id: int) -> None:
    """Remove a stage nobody has contributed to yet; the others close ranks."""
    lock_workshop(workshop)
    stage = get_stage(workshop, stage_id)
    if stage.id == workshop.current_stage_id:
        raise Refused(_l("This stage is on screen: show another stage first."))
    kind = KINDS.get(stage.kind)
    apart = kind is not None and kind.answers_apart and kind.progress(stage)["voters"]  # a survey's answers
    if _on_record(stage) or stage.decision or apart:
        raise Refused(_l("Participants have contributed to this stage: it stays on record."))
    for item in stage.items:
        images.delete(item.image)
    workshop.stages.remove(stage)
    renumber(workshop.stages)
    db.session.commit()


def move_stage(workshop: Workshop, stage_id: int, offset: int) -> None:
    """Move a stage one place earlier (-1) or later (+1) in the agenda."""
    lock_workshop(workshop)
    stage = get_stage(workshop, stage_id)
    stages = list(workshop.stages)
    i = stages.index(stage)
    j = i + (1 if offset > 0 else -1)
    if not 0 <= j < len(stages):
        raise Refused(_l("This stage cannot move further."))
    stages[i], stages[j] = stages[j], stages[i]
    renumber(stages)
    db.session.commit()
    db.session.expire(workshop, ["stages"])


def edit_stage(workshop: Workshop, stage_id: int, title: str, prompt: str,
               warning: str | None = None) -> Stage:
    """Rename a stage, reword its prompt and its content warning."""
    lock_workshop(workshop)
    stage = get_stage(workshop, stage_id)
    stage.title, stage.prompt = title, prompt
    if warning is not None:
        stage.warning = warning
    db.session.commit()
    return stage
