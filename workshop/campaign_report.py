"""The campaign's report: the story from the trend to the endline, as HTML and PDF.

The same machinery as a workshop's report (report.py: report.css, WeasyPrint, the safe
fetcher; report_job.py and report_child.py: rendered in a child process, registered here
as the "campaign" document): the cover; what each workshop decided, with rationale and
minority views; the campaign's strategy and its history; the baseline and the endline with
their charts; reach; and, as appendices, each workshop's full record from its stages' own
report macros (a pre-test stage's results included: any kind's report macro is a chapter's
part). In the campaign's language.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale, format_date
from sqlalchemy import select

from . import campaign_strategy, kapresults, kapstats, reach, report_job
from .campaign_models import Campaign, CampaignReport
from .extensions import db
from .i18n import LANGUAGES
from .models import utcnow
from .report import PAGE_SIZES, WARM_TEMPLATES, image_src
from .stages import earlier, kind_of
from .views import stage_view


@dataclass
class Chapter:
    """One workshop of the campaign: what it decided (the story) and every stage's view (its appendix)."""

    workshop: object
    dates: str
    decided: list = field(default_factory=list)   # earlier.Decided, as of this workshop
    views: list = field(default_factory=list)     # views.View of every stage that can run
    participants: int = 0


@dataclass
class CampaignReportData:
    campaign: Campaign
    generated: str
    chapters: list = field(default_factory=list)
    strategy: object = None
    holder: object = None
    history: list = field(default_factory=list)
    indicators: list = field(default_factory=list)
    channels: list = field(default_factory=list)
    totals: object = None
    surveys: dict = field(default_factory=dict)


def collect(campaign: Campaign) -> CampaignReportData:
    """Gather everything the campaign's report shows."""
    data = CampaignReportData(campaign=campaign, generated=format_date(utcnow(), "long"))
    workshops = campaign.workshops
    for i, workshop in enumerate(workshops):
        amendments = earlier.amendments_for(campaign.id, workshops[:i + 1])
        participants = len(workshop.participants)
        decided = earlier.decided_in([workshop], amendments, carried=False)
        chapter = Chapter(workshop, _dates(workshop), decided, participants=participants)
        chapter.views = [stage_view(workshop, stage, participants) for stage in workshop.stages
                         if kind_of(stage).playable]
        data.chapters.append(chapter)
    data.strategy = campaign_strategy.strategy(campaign)
    data.holder = campaign_strategy.holder()
    data.history = campaign_strategy.history(campaign)
    data.indicators = kapresults.results(campaign)
    data.channels = reach.channels(campaign)
    data.totals = reach.totals(data.channels)
    data.surveys = {wave: campaign.survey(wave) for wave in ("baseline", "endline")}
    return data


def _dates(workshop) -> str:
    """Return the day(s) a workshop ran: from its creation to its last decision."""
    moments = [workshop.created_at, *(s.decided_at for s in workshop.stages if s.decided_at)]
    start, end = min(moments).date(), max(moments).date()
    if start == end:
        return format_date(start, "long")
    return f"{format_date(start, 'long')} – {format_date(end, 'long')}"


def _css() -> str:
    """Return report.css and the campaign's additions (the renderer parses report.css once)."""
    folder = Path(current_app.static_folder) / "css"
    names = ("report.css", "campaign-report.css")
    return tuple((folder / name).read_text(encoding="utf-8") for name in names)


def render_html(campaign: Campaign) -> str:
    """Render the campaign's report as one HTML document, in the campaign's language."""
    with force_locale(campaign.language if campaign.language in LANGUAGES else "en"):
        campaign_strategy.sync(campaign)
        data = collect(campaign)
        css, extra = _css()
        return render_template("campaigns/report/report.html", r=data, css=css, extra_css=extra,
                               image_src=image_src, kapresults=kapresults, kapstats=kapstats,
                               metrics=reach.METRICS,
                               page_size=PAGE_SIZES.get(campaign.page_size, "A4"),
                               cover_height="279mm" if campaign.page_size == "Letter" else "297mm")


report_job.register_document("campaign", CampaignReport, lambda row: render_html(row.campaign))
WARM_TEMPLATES.extend(["campaigns/report/report.html", "campaigns/_carried.html", "campaigns/_charts.html",
                       "campaigns/_history.html"])


# --- the job: queue, state ---------------------------------------------------------------

def request(campaign: Campaign) -> CampaignReport:
    """Queue a new report of the campaign, unless one is being made already."""
    return report_job.queue(CampaignReport, campaign=campaign)


def newest(campaign: Campaign, done: bool = False) -> CampaignReport | None:
    """Return the campaign's newest report (`done`: the newest that rendered)."""
    query = select(CampaignReport).where(CampaignReport.campaign_id == campaign.id)
    if done:
        query = query.where(CampaignReport.status == "done")
    return db.session.scalar(query.order_by(CampaignReport.id.desc()).limit(1))
