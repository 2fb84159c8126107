"""What changed between the baseline and the endline: every KAP indicator, overall and per segment.

The indicators (all in percentage points, 0-100):
- an item's share: of the respondents who answered it, how many gave an answer that counts
  (% correct for knowledge, "don't know" counting as not correct; % favourable for
  attitudes; % practising for practices). A skipped question is left out, not counted wrong.
- a section's composite score: each respondent's share of that section's items, among those
  they answered, that they answered well; then the mean over respondents (a respondent who
  answered none of the section is left out).
Each is compared endline − baseline with its 95% interval (kapstats: Newcombe for shares,
Welch for scores), overall and within each answer of each segment question where both waves
have at least kapstats.MINIMUM respondents, and against the target the strategy set.
`compute` is pure; `Indicator.published` is the one rounded view every channel shows.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from . import kapform, kapstats

SCORE_LABELS = {"knowledge": _l("Knowledge score"), "attitude": _l("Attitude score"),
                "practice": _l("Practice score")}
MEASURES = {"knowledge": _l("share correct (%)"), "attitude": _l("share favourable (%)"),
            "practice": _l("share practising (%)"),
            "score": _l("mean of the respondents’ scores, 0–100")}
TARGET_KINDS = {"change": _l("a change of at least (points)"), "level": _l("an endline of at least (%)")}


@dataclass
class Wave:
    """One wave's estimate: how many answered, how many well (shares), the figure and its 95% interval."""

    n: int
    x: int | None
    value: float
    low: float
    high: float


@dataclass
class Indicator:
    key: str                 # item.<name> | score.<section>
    section: str
    label: str
    measure: str             # share | score
    segment: tuple | None    # (segment question name, answer name); None: every respondent
    segment_label: str = ""  # the answer's words
    segment_question: str = ""  # the segment question's words
    baseline: Wave | None = None
    endline: Wave | None = None
    change: tuple | None = None  # (difference, low, high) in points, when both waves are big enough
    target: dict | None = None   # {"kind": change | level, "value": points}

    @property
    def compared(self) -> bool:
        return self.change is not None

    @property
    def small(self) -> bool:
        """Either wave has fewer than kapstats.SMALL respondents: the report says so."""
        return any(w is not None and w.n < kapstats.SMALL for w in (self.baseline, self.endline))

    @property
    def significant(self) -> bool:
        return self.compared and (self.change[1] > 0 or self.change[2] < 0)

    def target_reached(self, sure: bool = False) -> bool | None:
        """Tell whether the target is met by the estimate (or, `sure`, by its whole interval)."""
        if not self.target or self.endline is None:
            return None
        if self.target["kind"] == "level":
            return kapstats.rounded(self.endline.low if sure else self.endline.value) >= self.target["value"]
        if not self.compared:
            return None
        return kapstats.rounded(self.change[1] if sure else self.change[0]) >= self.target["value"]

    @property
    def published(self) -> dict:
        """Return the indicator's figures as every channel shows them: rounded once, here."""
        r = kapstats.rounded
        out = {"key": self.key, "section": self.section, "label": self.label, "measure": self.measure,
               "segment": ":".join(self.segment) if self.segment else "",
               "segment_question": self.segment_question,
               "segment_label": self.segment_label}
        for name, wave in (("baseline", self.baseline), ("endline", self.endline)):
            out.update({f"{name}_n": wave.n if wave else 0, f"{name}_x": wave.x if wave else None,
                        name: r(wave.value) if wave else None, f"{name}_low": r(wave.low) if wave else None,
                        f"{name}_high": r(wave.high) if wave else None})
        diff, low, high = self.change or (None, None, None)
        out.update(change=r(diff), change_low=r(low), change_high=r(high), compared=self.compared,
                   significant=self.significant, small=self.small,
                   target_kind=(self.target or {}).get("kind"), target=(self.target or {}).get("value"),
                   target_met=self.target_reached(), target_certain=self.target_reached(sure=True))
        return out


@dataclass
class Sample:
    """One wave's respondents within a group: their answers, and the totals retention kept of answers
    it deleted (`totals`: per question the count of each answer, per section the scores)."""

    rows: list[dict]
    kept: list[dict] = field(default_factory=list)


def _answered(question: kapform.Question, sample: Sample) -> tuple[int, int]:
    """Return how many respondents answered a question and how many of them answered well."""
    answers = [row[question.name] for row in sample.rows if question.name in row]
    n, x = len(answers), sum(1 for a in answers if a in question.good)
    for part in sample.kept:
        counts = part.get("answers", {}).get(question.name, {})
        n, x = n + sum(counts.values()), x + sum(c for a, c in counts.items() if a in question.good)
    return n, x


def _scores(items: list[kapform.Question], rows: list[dict]) -> list[float]:
    """Return each respondent's composite score (0-100) over the items they answered."""
    out = []
    for row in rows:
        answered = [q for q in items if q.name in row]
        if answered:
            out.append(100 * sum(1 for q in answered if row[q.name] in q.good) / len(answered))
    return out


def _sample_scores(items: list[kapform.Question], sample: Sample) -> list[float]:
    """Return the composite scores of a sample's respondents: computed, then those kept as totals."""
    return _scores(items, sample.rows) + [v for part in sample.kept
                                           for v in part.get("scores", {}).get(items[0].section, [])]


def _share(question, sample: Sample) -> Wave | None:
    n, x = _answered(question, sample)
    if n == 0:
        return None
    low, high = kapstats.wilson(x, n)
    return Wave(n, x, 100 * x / n, 100 * low, 100 * high)


def _score(values: list[float]) -> Wave | None:
    if not values:
        return None
    interval = kapstats.mean_interval(values)
    mean, low, high = interval if interval else (values[0], values[0], values[0])
    return Wave(len(values), None, mean, max(0.0, low), min(100.0, high))


def _compare(ind: Indicator, base: Sample, end: Sample, question=None, items=None) -> Indicator:
    """Fill in an indicator's two waves and, when both are big enough, the change with its interval."""
    if question is not None:
        ind.baseline, ind.endline = _share(question, base), _share(question, end)
        if _enough(ind):
            diff = kapstats.newcombe(ind.endline.x, ind.endline.n, ind.baseline.x, ind.baseline.n)
            ind.change = tuple(100 * v for v in diff)
    else:
        base, end = _sample_scores(items, base), _sample_scores(items, end)
        ind.baseline, ind.endline = _score(base), _score(end)
        if _enough(ind):
            ind.change = kapstats.welch(end, base)
    return ind


def _enough(ind: Indicator) -> bool:
    return (ind.baseline is not None and ind.endline is not None
            and min(ind.baseline.n, ind.endline.n) >= kapstats.MINIMUM)


def label(question: kapform.Question, language: str) -> str:
    """Return a question's text in a language, else in English, else in any language it has."""
    return kapform.label(question.labels, language, question.name)


def _groups(questions: list[kapform.Question], language: str) -> list[tuple]:
    """Return the groups indicators are read in: everyone, then each answer of each segment question, as
    (segment (question, answer) or None, question's words, answer's words, which rows belong)."""
    out = [(None, "", "", lambda row: True)]
    for seg in (q for q in questions if q.section == "segment"):
        for choice in seg.choices:
            out.append(((seg.name, choice.name), label(seg, language),
                        choice.labels.get(language) or choice.labels.get("en") or choice.name,
                        lambda row, name=seg.name, value=choice.name: row.get(name) == value))
    return out


def _key(segment: tuple | None) -> str:
    return ":".join(segment) if segment else ""


def compute(questions: list[kapform.Question], baseline: list[dict], endline: list[dict],
            targets: dict | None = None, language: str = "en", kept: dict | None = None) -> list[Indicator]:
    """Return every indicator: the section scores and items for everyone, then within each segment.

    `kept` adds, per wave, the totals retention kept of answers it deleted (`totals`).
    """
    items = [q for q in questions if q.section != "segment" and q.good]
    targets, kept = targets or {}, kept or {}
    out = []
    for segment, question, segment_label, belongs in _groups(questions, language):
        base, end = (Sample([r for r in rows if belongs(r)], [part["groups"][_key(segment)]
                                                              for part in kept.get(wave, [])
                                                              if _key(segment) in part["groups"]])
                     for wave, rows in (("baseline", baseline), ("endline", endline)))
        for section in ("knowledge", "attitude", "practice"):
            these = [q for q in items if q.section == section]
            if these:
                key = f"score.{section}"
                target = None if segment else targets.get(key)
                out.append(_compare(Indicator(key, section, str(SCORE_LABELS[section]), "score", segment,
                                              segment_label, question, target=target),
                                    base, end, items=these))
        for q in items:
            key = f"item.{q.name}"
            out.append(_compare(Indicator(key, q.section, label(q, language), "share", segment, segment_label,
                                          question, target=None if segment else targets.get(key)),
                                base, end, question=q))
    return out


def totals(questions: list[kapform.Question], rows: list[dict]) -> dict:
    """Return what the indicators need of these responses, to keep once they are deleted (retention):
    per group ("" everyone, "age_band:18_24"...) the count of each answer of each item and each
    section's scores (a list of numbers, sorted: nobody's answers can be put back together)."""
    items = [q for q in questions if q.section != "segment"]
    out = {}
    for segment, _question, _words, belongs in _groups(questions, "en"):
        these = [r for r in rows if belongs(r)]
        if not these:
            continue
        answers = {}
        for q in items:
            counts: dict[str, int] = {}
            for r in these:
                if q.name in r:
                    counts[r[q.name]] = counts.get(r[q.name], 0) + 1
            if counts:
                answers[q.name] = counts
        scores = {section: sorted(values) for section in ("knowledge", "attitude", "practice")
                  if (values := _scores([q for q in items if q.section == section and q.good], these))}
        out[_key(segment)] = {"respondents": len(these), "answers": answers, "scores": scores}
    return out


def results(campaign) -> list[Indicator]:
    """Return the campaign's indicators from its baseline and endline (and what retention kept of them)."""
    surveys = {wave: campaign.survey(wave) for wave in ("baseline", "endline")}
    return compute(kapform.questions(campaign),
                   *([r.answers for r in survey.responses] if survey else [] for survey in surveys.values()),
                   targets=campaign.targets, language=campaign.language,
                   kept={wave: list(survey.kept or []) if survey else [] for wave, survey in surveys.items()})


def target_text(target: dict | None) -> str:
    """Return a target as words with its number, e.g. "+15.0 points" or "≥ 70.0%"."""
    if not target:
        return ""
    value = kapstats.rounded(target["value"])
    return f"+{value:.1f}" if target["kind"] == "change" else f"≥ {value:.1f}%"
