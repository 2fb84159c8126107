"""The campaign's KAP survey on phones: the baseline or endline questionnaire, self-paced, for small samples.

A field team shows the join QR code (the laptop's hotspot, no internet needed) to people one by
one; each answers on the phone in their own language, one part of the questionnaire per screen
(about you, knowledge, attitudes, practices: kapform's sections), every question optional, then
hands the phone on ("Next person"). The questions are the campaign's (kapform.questions); each
person becomes one response of the campaign's baseline or endline (the stage's `wave` setting),
stored as an imported export's are (collect.py), so the campaign's results, report and exports
read them with nothing of their own. The stage's own figures are that wave's, from its answers.
Safeguarding is the workshop's, as in a pre-test: consent before joining, the quick exit, no free
text (nothing to mask), and retention: the answers are deleted, the totals the indicators need kept.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from ... import i18n, kapform, kapresults, kapstats
from ...errors import Refused
from ..base import StageKind
from ..registry import register
from . import collect
from .forms import WAVE_CHOICES, SurveySettingsForm, answers_form, field

NOT_LINKED = _l("This survey is not ready: its workshop is not part of a campaign yet.")
NO_QUESTIONS = _l("This survey is not ready: the campaign has no questionnaire yet.")
WAVES = dict(WAVE_CHOICES)


@dataclass(frozen=True)
class Line:
    """One figure of the answers given in a stage: a section's mean score or an item's share (0-100)."""

    key: str
    section: str
    label: str
    measure: str  # score | share
    n: int
    x: int | None
    value: float
    low: float
    high: float


@dataclass(frozen=True)
class Asked:
    """One question as a phone shows it, in its language."""

    field: str
    name: str
    text: str
    options: tuple  # (answer name, words)


class KapSurveyStage(StageKind):
    key = "kapsurvey"
    label = _l("KAP survey on phones")
    prompt = _l("A few questions about what you know, think and do. Every question is optional.")
    noun = _l("answer")
    phases = ("pending", "vote", "results")
    defaults = {"wave": "baseline"}
    template = "stages/kapsurvey/screens.html"
    vote_meaning = "answer"
    SettingsForm = SurveySettingsForm
    self_paced = True
    answers_apart = True
    collects_survey = True
    waves = WAVES

    # --- the questionnaire, as this stage asks it -----------------------------------------

    def campaign(self, stage):
        """Return the campaign whose questionnaire the stage asks, or refuse (not linked, no questions)."""
        campaign = collect.campaign_of(stage.id)
        if campaign is None:
            raise Refused(NOT_LINKED)
        if not campaign.questions:
            raise Refused(NO_QUESTIONS)
        return campaign

    def asked(self, stage) -> dict:
        """Return the questionnaire in the current language, a part per section: {"parts": [(section,
        words, [Asked])], "count": questions} or {"problem": why it cannot be asked yet}."""
        try:
            campaign = self.campaign(stage)
        except Refused as refusal:
            return {"problem": refusal.message, "parts": [], "count": 0}
        lang = i18n.current()
        parts: dict[str, list] = {}
        for q in kapform.questions(campaign):
            options = tuple((c.name, kapform.label(c.labels, lang, c.name)) for c in q.choices)
            parts.setdefault(q.section, []).append(
                Asked(field(q.name), q.name, kapform.label(q.labels, lang, q.name), options))
        return {"parts": [(section, str(kapform.SECTION_LABELS[section]), these)
                          for section, these in parts.items()],
                "count": sum(len(these) for these in parts.values())}

    def intro(self, stage) -> str:
        """Return the first screen's words: the kind's own in the phone's language, unless the facilitator
        reworded the prompt (their words are in the workshop's language)."""
        with force_locale(stage.workshop.language):
            default = str(self.prompt)
        return str(self.prompt) if stage.prompt == default else stage.prompt

    def status(self, stage) -> dict:
        """Return what the console says of the survey: its campaign, the wave, who answered, what to fix."""
        campaign = collect.campaign_of(stage.id)
        out = {"campaign": campaign, "wave": self.setting(stage, "wave"), "here": collect.in_waves(stage.id)}
        if campaign is not None:
            survey = campaign.survey(out["wave"])
            out["wave_total"] = survey.respondents if survey else 0
            out["drafts"] = sum(1 for q in campaign.questions if q.draft)
            out["no_good"] = sum(1 for q in campaign.questions if q.section != "segment" and not q.good)
            out["missing"] = sorted({lang for q in campaign.questions for lang in kapform.missing_labels(q)},
                                    key=list(i18n.LANGUAGES).index)
        return out

    def form_for(self, stage, name):
        if name != "VoteForm":
            return super().form_for(stage, name)
        return answers_form(kapform.questions(self.campaign(stage)))

    # --- answers ----------------------------------------------------------------------------

    def vote(self, stage, participant, form, client_id):
        """Add one screen's answers to this person's response (a question left empty keeps its answer)."""
        answers = {name.removeprefix("q_"): value for name, value in form.data.items() if value}
        collect.store(self.campaign(stage), stage.id, self.setting(stage, "wave"), participant.id, answers)
        return self.mine(stage, participant)

    def mine(self, stage, participant):
        campaign = collect.campaign_of(stage.id)
        response = collect.response_of(campaign, stage.id, participant.id) if campaign else None
        return {"choices": {field(k): v for k, v in response.answers.items()}} if response else {}

    def progress(self, stage):
        return {"voters": collect.count(stage.id)}

    def decision_choices(self, stage):
        return []  # a survey collects answers; the campaign's results page reads them

    # --- results ------------------------------------------------------------------------------

    def results(self, stage):
        """The figures of the answers given here: each section's mean score, then each item's share."""
        campaign = collect.campaign_of(stage.id)
        if campaign is None:
            return []
        indicators = kapresults.compute(kapform.questions(campaign), collect.rows(stage.id), [],
                                        language=i18n.current())
        return [Line(ind.key, ind.section, ind.label, ind.measure, w.n, w.x, w.value, w.low, w.high)
                for ind in indicators if ind.segment is None and (w := ind.baseline) is not None]

    def aggregate(self, stage):
        with force_locale(stage.workshop.language):
            return {"results": [asdict(line) for line in self.results(stage)],
                    "progress": self.progress(stage)}

    def thaw(self, aggregate):
        return [Line(**line) for line in aggregate.get("results", [])]

    def delete_raw(self, stage):
        """Delete the answers given here; each survey keeps the totals its indicators need."""
        gone = collect.delete_raw(stage, stage.workshop.title)
        return {"survey answers": gone} if gone else {}

    def export_tables(self, stage):
        """One row per figure of the answers given here, as the console and the report show them."""
        r = kapstats.rounded
        lines = self.thaw(stage.aggregate) if stage.aggregate else self.results(stage)
        header = ["wave", "key", "section", "label", "measure", "n", "x", "value", "ci_low", "ci_high"]
        rows = [[self.setting(stage, "wave"), line.key, line.section, line.label, line.measure, line.n,
                 "" if line.x is None else line.x, r(line.value), r(line.low), r(line.high)]
                for line in lines]
        return {"kap_survey": (header, rows)}


# People answering a KAP survey are the campaign's audience: the template starts in safeguarding mode,
# self-paced (a field team hands one phone on, or people answer on their own), with one group.
register(KapSurveyStage(), templates={
    "kapsurvey": (_l("KAP survey on phones (self-paced, with safeguarding)"), ["kapsurvey"],
                  {"safeguarding": True, "self_paced": True, "groups": [_l("Respondents")]}),
})
