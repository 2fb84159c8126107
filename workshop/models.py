"""Database models: typed SQLAlchemy 2.x, with only small behaviour.

The rules that change these rows live in `workshop/flow/`; what each stage kind stores
in `Stage.settings`, `Stage.decision`, `Item.data` and `Vote.value` is said by the kind
(`workshop/stages/`).
"""
from __future__ import annotations

import secrets
from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db

# No 0/O, 1/I/L: a code read off a projector from the back row is typed right.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6


def utcnow() -> datetime:
    """Return the current UTC time, naive (SQLite stores no zone)."""
    return datetime.now(UTC).replace(tzinfo=None)


def new_code() -> str:
    """Return a random join code from the look-alike-free alphabet."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class Facilitator(UserMixin, db.Model):
    __tablename__ = "facilitators"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    workshops: Mapped[list[Workshop]] = relationship(back_populates="facilitator",
                                                     order_by="Workshop.created_at.desc()")

    def set_password(self, password: str) -> None:
        """Store a scrypt hash of the password, never the password."""
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        """The session's and the remember cookie's credential: this sign-in's id, expiry and token.

        Set by auth.sign_in / the user loader (`self.sign_in`); workshop/auth.py says why.
        """
        return self.sign_in.credential


class SignIn(db.Model):
    """One sign-in of a facilitator (a browser): its cookies carry its id and token, and end with it.

    Deleted by signing out (this one), signing out everywhere or changing the password (all);
    `expires_at` is fixed when it starts and never moves.
    """

    __tablename__ = "sign_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    facilitator_id: Mapped[int] = mapped_column(ForeignKey("facilitators.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_urlsafe(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]

    facilitator: Mapped[Facilitator] = relationship()

    @property
    def credential(self) -> str:
        return f"{self.id}.{int(self.expires_at.replace(tzinfo=UTC).timestamp())}.{self.token}"


class Workshop(db.Model):
    __tablename__ = "workshops"

    id: Mapped[int] = mapped_column(primary_key=True)
    facilitator_id: Mapped[int] = mapped_column(ForeignKey("facilitators.id"), index=True)
    code: Mapped[str] = mapped_column(String(CODE_LENGTH), unique=True, default=new_code)
    title: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    groups: Mapped[list] = mapped_column(JSON, default=list)
    collect_names: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    current_stage_id: Mapped[int | None] = mapped_column(
        ForeignKey("stages.id", use_alter=True, ondelete="SET NULL"))
    timer_ends_at: Mapped[datetime | None]
    timer_seconds: Mapped[int] = mapped_column(default=300)
    # The projector's and the report's language (each phone picks its own).
    language: Mapped[str] = mapped_column(String(8), default="en")
    # The report's cover: who sends it, their logo (an images.store() dict), and the paper.
    org_name: Mapped[str] = mapped_column(String(200), default="")
    org_logo: Mapped[dict | None] = mapped_column(JSON)
    page_size: Mapped[str] = mapped_column(String(8), default="A4")  # A4 | Letter
    # Bumped by every facilitator action (flow.access.lock_workshop): the cache key of the
    # phones' shared pages, which only a facilitator action changes.
    version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Safeguarding (workshop/safeguarding.py): a consent screen, no names, contact details masked,
    # a quick exit, a helpline on the last screen and answers deleted `retention_days` after closing.
    safeguarding: Mapped[bool] = mapped_column(default=False)
    helpline: Mapped[str] = mapped_column(Text, default="")
    consent_note: Mapped[str] = mapped_column(Text, default="")
    retention_days: Mapped[int | None]
    closed_at: Mapped[datetime | None]
    purged_at: Mapped[datetime | None]  # raw answers deleted (retention); aggregates stay
    # Self-paced: phones walk a per-participant stage at their own pace, nobody pacing the room.
    self_paced: Mapped[bool] = mapped_column(default=False)
    # Segment questions asked at join, all optional: {"age": [bands], "place": [places], "gender": [...]}.
    segment_questions: Mapped[dict] = mapped_column(JSON, default=dict)
    # Moderation: phones' ideas and comments wait for the facilitator's approval before the room sees
    # them (on by default for a sensitive workshop). Ballots list items in each phone's own order.
    moderation: Mapped[bool] = mapped_column(default=False)
    shuffle_ballots: Mapped[bool] = mapped_column(default=True)

    facilitator: Mapped[Facilitator] = relationship(back_populates="workshops")
    stages: Mapped[list[Stage]] = relationship(
        back_populates="workshop", order_by="Stage.position",
        foreign_keys="Stage.workshop_id", cascade="all, delete-orphan")
    participants: Mapped[list[Participant]] = relationship(
        back_populates="workshop", cascade="all, delete-orphan")
    current_stage: Mapped[Stage | None] = relationship(
        foreign_keys=[current_stage_id], post_update=True)
    reports: Mapped[list[Report]] = relationship(
        back_populates="workshop", order_by="Report.id.desc()", cascade="all, delete-orphan")
    share_links: Mapped[list[ShareLink]] = relationship(
        back_populates="workshop", order_by="ShareLink.id.desc()", cascade="all, delete-orphan")
    invitations: Mapped[list[Invitation]] = relationship(
        back_populates="workshop", order_by="Invitation.id.desc()", cascade="all, delete-orphan")

    @property
    def is_open(self) -> bool:
        return self.status == "open"


class Stage(db.Model):
    __tablename__ = "stages"

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    prompt: Mapped[str] = mapped_column(Text, default="")
    phase: Mapped[str] = mapped_column(String(16), default="pending")
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    decision: Mapped[dict | None] = mapped_column(JSON)
    rationale: Mapped[str] = mapped_column(Text, default="")
    minority_view: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")  # private to the facilitator
    revealed_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    warning: Mapped[str] = mapped_column(Text, default="")  # a content warning, shown before the content
    # What stays of the results once the raw answers are deleted (retention): the kind's `aggregate`.
    aggregate: Mapped[dict | None] = mapped_column(JSON)

    workshop: Mapped[Workshop] = relationship(back_populates="stages", foreign_keys=[workshop_id])
    items: Mapped[list[Item]] = relationship(back_populates="stage", order_by="Item.id",
                                             cascade="all, delete-orphan")


def new_token() -> str:
    """Return a new phone's secret token (its cookie names it)."""
    return secrets.token_urlsafe(24)


class Participant(db.Model):
    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    name: Mapped[str] = mapped_column(String(80), default="")
    group: Mapped[str] = mapped_column(String(80), default="")
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Answers to the workshop's optional segment questions ({"age": "18-24", ...}); consent when asked.
    segments: Mapped[dict] = mapped_column(JSON, default=dict)
    consented_at: Mapped[datetime | None]

    workshop: Mapped[Workshop] = relationship(back_populates="participants")


class Item(db.Model):
    """An idea, proposal, concept or draft: whatever a stage collects."""

    __tablename__ = "items"
    # A phone's own items in a stage (see Vote): found by participant, not by scanning the stage.
    __table_args__ = (UniqueConstraint("participant_id", "client_id"),
                      Index("ix_items_participant_stage", "participant_id", "stage_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"))  # None: added by the facilitator
    client_id: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    hidden: Mapped[bool] = mapped_column(default=False)
    pending: Mapped[bool] = mapped_column(default=False)  # hidden until the facilitator approves it
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    stage: Mapped[Stage] = relationship(back_populates="items")
    participant: Mapped[Participant | None] = relationship()
    merged_into: Mapped[Item | None] = relationship(remote_side=[id], back_populates="merged")
    merged: Mapped[list[Item]] = relationship(back_populates="merged_into")

    @property
    def active(self) -> bool:
        """True when the item takes part in voting (not hidden, not merged away)."""
        return not self.hidden and self.merged_into_id is None

    @property
    def image(self) -> dict | None:
        """The uploaded image ({name, width, height, sizes}), if the item has one."""
        return (self.data or {}).get("image")

    def field(self, name: str) -> str:
        """Return one of the kind's extra text fields (stored in `data`)."""
        return (self.data or {}).get(name, "")


class Vote(db.Model):
    """One participant's value for one item (and criterion): dots, rank, score..."""

    __tablename__ = "votes"
    # Each vote reads the voter's votes in the stage. With only a stage index, SQLite (no
    # statistics) scanned every vote of the stage for it: 6,000 rows per tap at 2,000 phones.
    __table_args__ = (UniqueConstraint("participant_id", "item_id", "criterion"),
                      Index("ix_votes_participant_stage", "participant_id", "stage_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    criterion: Mapped[str] = mapped_column(String(32), default="")
    value: Mapped[int]
    note: Mapped[str] = mapped_column(Text, default="")
    note_hidden: Mapped[bool] = mapped_column(default=False)  # a reason the facilitator hid from the room
    client_id: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    participant: Mapped[Participant] = relationship()


class VoteAction(db.Model):
    """A vote action (by its client id) already applied for a participant.

    A late copy of an old action (a retry that overtook its original, a second tab
    replaying its outbox) must not overwrite a newer vote: the vote row only keeps
    the client id of its latest action, so the applied ids are kept here.
    """

    __tablename__ = "vote_actions"

    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"),
                                                primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class Comment(db.Model):
    """A participant's (or the facilitator's) comment on an item, tagged keep / change / concern."""

    __tablename__ = "comments"
    __table_args__ = (UniqueConstraint("participant_id", "client_id"),
                      Index("ix_comments_participant_stage", "participant_id", "stage_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    client_id: Mapped[str | None] = mapped_column(String(64))
    tag: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    hidden: Mapped[bool] = mapped_column(default=False)
    pending: Mapped[bool] = mapped_column(default=False)  # hidden until the facilitator approves it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    participant: Mapped[Participant | None] = relationship()


class Rendering:
    """The columns of one rendering by the report renderer (a workshop's or a campaign's report)."""

    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued|rendering|done|failed
    page_size: Mapped[str] = mapped_column(String(8), default="A4")
    language: Mapped[str] = mapped_column(String(8), default="en")
    # File names (random, no path) inside REPORT_DIR.
    pdf_file: Mapped[str | None] = mapped_column(String(80))
    html_file: Mapped[str | None] = mapped_column(String(80))
    pages: Mapped[int | None]
    seconds: Mapped[float | None]
    error: Mapped[str] = mapped_column(Text, default="")
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class Report(Rendering, db.Model):
    """One rendering of a workshop's report: queued, rendering, done (with its files) or failed."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"), index=True)

    workshop: Mapped[Workshop] = relationship(back_populates="reports")


class ShareLink(db.Model):
    """An unguessable, revocable link that lets a partner download the report without an account."""

    __tablename__ = "share_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True,
                                       default=lambda: secrets.token_urlsafe(32))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    workshop: Mapped[Workshop] = relationship(back_populates="share_links")

    @property
    def usable(self) -> bool:
        """True while the link is neither revoked nor expired."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > utcnow())


class Invitation(db.Model):
    """A revocable link with which a creative partner prepares concepts and drafts, without an account."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True,
                                       default=lambda: secrets.token_urlsafe(32))
    label: Mapped[str] = mapped_column(String(120))  # who it is for, e.g. the agency's name
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    workshop: Mapped[Workshop] = relationship(back_populates="invitations")
