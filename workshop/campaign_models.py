"""The campaign's models: its workshops in order, amendments, the strategy's history, the KAP survey, reach.

A campaign links workshops held weeks apart (planning, concept review, draft review,
pre-test) and carries their decisions forward. The rules that change these rows live in
`flow/campaigns.py`, `campaign_strategy.py`, `kap*.py` and `reach.py`; like models.py this
module holds only the tables and small behaviour.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db
from .models import Facilitator, Item, Rendering, Workshop, utcnow

WAVES = ("baseline", "endline")


class Campaign(db.Model):
    """A campaign across weeks: its workshops, its strategy with a history, its KAP survey and reach."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    facilitator_id: Mapped[int] = mapped_column(ForeignKey("facilitators.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    # The report's language and cover, like a workshop's.
    language: Mapped[str] = mapped_column(String(8), default="en")
    org_name: Mapped[str] = mapped_column(String(200), default="")
    page_size: Mapped[str] = mapped_column(String(8), default="A4")
    # The KAP targets: indicator key -> {"kind": "change" | "level", "value": percentage points}.
    targets: Mapped[dict] = mapped_column(JSON, default=dict)
    # The strategy as text when its history was last brought up to date (campaign_strategy.sync).
    snapshot: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    facilitator: Mapped[Facilitator] = relationship()
    links: Mapped[list[CampaignWorkshop]] = relationship(
        back_populates="campaign", order_by="CampaignWorkshop.position", cascade="all, delete-orphan")
    questions: Mapped[list[KapQuestion]] = relationship(
        back_populates="campaign", order_by="KapQuestion.position", cascade="all, delete-orphan")
    surveys: Mapped[list[Survey]] = relationship(back_populates="campaign", cascade="all, delete-orphan")
    history: Mapped[list[StrategyChange]] = relationship(
        back_populates="campaign", order_by="StrategyChange.id", cascade="all, delete-orphan")
    amendments: Mapped[list[Amendment]] = relationship(
        back_populates="campaign", order_by="Amendment.id", cascade="all, delete-orphan")
    reach: Mapped[list[ReachEntry]] = relationship(
        back_populates="campaign", order_by="ReachEntry.id", cascade="all, delete-orphan")
    reports: Mapped[list[CampaignReport]] = relationship(
        back_populates="campaign", order_by="CampaignReport.id.desc()", cascade="all, delete-orphan")

    @property
    def workshops(self) -> list[Workshop]:
        """The campaign's workshops, in the campaign's order."""
        return [link.workshop for link in self.links]

    def survey(self, wave: str) -> Survey | None:
        """Return the imported baseline or endline, if there is one."""
        return next((s for s in self.surveys if s.wave == wave), None)


class CampaignWorkshop(db.Model):
    """A workshop's place in a campaign (a workshop belongs to one campaign at most)."""

    __tablename__ = "campaign_workshops"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"), unique=True)
    position: Mapped[int]

    campaign: Mapped[Campaign] = relationship(back_populates="links")
    workshop: Mapped[Workshop] = relationship()


class Amendment(db.Model):
    """A change to a decision carried over from an earlier workshop, made later with a reason.

    The earlier workshop's own record keeps what it decided; from the workshop the change
    was made in onwards (and in the campaign's strategy) the item reads with these values.
    """

    __tablename__ = "amendments"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    workshop_id: Mapped[int | None] = mapped_column(ForeignKey("workshops.id", ondelete="SET NULL"))
    values: Mapped[dict] = mapped_column(JSON)  # {"title", "detail", "data"} as the kind's item_fields
    reason: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    campaign: Mapped[Campaign] = relationship(back_populates="amendments")
    item: Mapped[Item] = relationship()
    workshop: Mapped[Workshop | None] = relationship()


class StrategyChange(db.Model):
    """One line of the strategy's history: what changed, from what to what, where, by whom, why."""

    __tablename__ = "strategy_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    workshop_id: Mapped[int | None] = mapped_column(ForeignKey("workshops.id", ondelete="SET NULL"))
    where: Mapped[str] = mapped_column(String(200), default="")  # the workshop's title then, or ""
    key: Mapped[str] = mapped_column(String(120))
    label: Mapped[str] = mapped_column(String(200))  # in the campaign's language when it was recorded
    before: Mapped[str] = mapped_column(Text, default="")
    after: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(120), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)

    campaign: Mapped[Campaign] = relationship(back_populates="history")


class KapQuestion(db.Model):
    """One question of the campaign's KAP questionnaire (kapform.py says what each field means)."""

    __tablename__ = "kap_questions"
    __table_args__ = (UniqueConstraint("campaign_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    section: Mapped[str] = mapped_column(String(16))   # segment | knowledge | attitude | practice
    name: Mapped[str] = mapped_column(String(32))      # the XLSForm `name`, fixed once answers exist
    answers: Mapped[str] = mapped_column(String(16))  # its answer list: truefalse, agree5, yesno, often5, own
    good: Mapped[list] = mapped_column(JSON, default=list)  # the answers that count (correct, favourable...)
    labels: Mapped[dict] = mapped_column(JSON, default=dict)  # language -> question text
    choices: Mapped[list] = mapped_column(JSON, default=list)  # own answers: [{"name", "labels"}]
    draft: Mapped[bool] = mapped_column(default=False)  # drafted from the profile, not yet rewritten
    source: Mapped[str] = mapped_column(Text, default="")  # the profile sentence it was drafted from

    campaign: Mapped[Campaign] = relationship(back_populates="questions")


class Survey(db.Model):
    """A baseline or endline: its responses, imported from a file or collected on phones in Charrette
    (stages/kapsurvey), and the totals retention kept of collected answers it deleted."""

    __tablename__ = "surveys"
    __table_args__ = (UniqueConstraint("campaign_id", "wave"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    wave: Mapped[str] = mapped_column(String(16))  # baseline | endline
    filename: Mapped[str] = mapped_column(String(200), default="")
    ignored: Mapped[list] = mapped_column(JSON, default=list)  # the file's columns that are no question
    author: Mapped[str] = mapped_column(String(120), default="")
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Answers collected on phones whose retention period passed: deleted, their totals kept here,
    # one entry per stage: {"stage_id", "workshop", "respondents", "deleted_at", "groups"} (kapresults).
    kept: Mapped[list] = mapped_column(JSON, default=list)

    campaign: Mapped[Campaign] = relationship(back_populates="surveys")
    responses: Mapped[list[SurveyResponse]] = relationship(
        back_populates="survey", order_by="SurveyResponse.id", cascade="all, delete-orphan")

    @property
    def respondents(self) -> int:
        """How many people answered: the responses stored, and those retention kept only as totals."""
        return len(self.responses) + sum(part.get("respondents", 0) for part in self.kept or [])


class SurveyResponse(db.Model):
    """One respondent's answers: question name -> answer name (skipped questions absent).

    Imported from a file (its row and submission id), or given on a phone in a survey stage
    (`stage_id`, `participant_id`: the phone may go back and change its answers; deleting the
    workshop deletes them, as it does everything people gave in it).
    """

    __tablename__ = "survey_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    row: Mapped[int]                                   # its row in the imported file
    uuid: Mapped[str] = mapped_column(String(64), default="")
    submitted: Mapped[str] = mapped_column(String(40), default="")
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    stage_id: Mapped[int | None] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id", ondelete="SET NULL"),
                                                       index=True)

    survey: Mapped[Survey] = relationship(back_populates="responses")


class ReachEntry(db.Model):
    """One channel's result on one reach or engagement measure, and its target."""

    __tablename__ = "reach_entries"
    __table_args__ = (UniqueConstraint("campaign_id", "channel", "metric"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(120))
    metric: Mapped[str] = mapped_column(String(24))  # reach.METRICS
    result: Mapped[int | None] = mapped_column(BigInteger)
    target: Mapped[int | None] = mapped_column(BigInteger)

    campaign: Mapped[Campaign] = relationship(back_populates="reach")


class CampaignReport(Rendering, db.Model):
    """One rendering of a campaign's report, made by the same renderer process as a workshop's."""

    __tablename__ = "campaign_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)

    campaign: Mapped[Campaign] = relationship(back_populates="reports")
