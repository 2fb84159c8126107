"""The campaign's indicators as CSV and JSON: the same rounded figures the console and the report show.

Every KAP figure comes from `Indicator.published` (rounded once, kapstats.rounded); reach
figures are whole numbers as entered. Percentages are points on 0-100, with a dot for decimals.
"""
from __future__ import annotations

import json

from . import kapresults, kapstats, reach
from .campaign_models import Campaign
from .exports import write_csv
from .models import utcnow

COLUMNS = ["segment", "segment_question", "segment_label", "key", "section", "measure", "label",
           "baseline_n", "baseline_x", "baseline", "baseline_low", "baseline_high",
           "endline_n", "endline_x", "endline", "endline_low", "endline_high",
           "change", "change_low", "change_high", "compared", "significant", "small",
           "target_kind", "target", "target_met", "target_certain"]
METHOD = {
    "share": "respondents who gave an answer that counts / respondents who answered the question, in %; "
             "95% interval: Wilson score",
    "score": "mean over respondents of the share (in %) of the section's items they answered that they "
             "answered well; 95% interval: Student's t",
    "change_share": "endline - baseline in percentage points; "
                    "95% interval: Newcombe's hybrid score (method 10)",
    "change_score": "endline - baseline mean in points; 95% interval: Welch",
    "significant": "the 95% interval of the change leaves out 0",
    "small": f"a wave has fewer than {kapstats.SMALL} respondents",
    "compared": f"both waves have at least {kapstats.MINIMUM} respondents",
    "rounding": "one decimal, halves away from zero, once",
}


def rows(campaign: Campaign) -> list[dict]:
    """Return every indicator's published figures, overall first, then per segment."""
    return [ind.published for ind in kapresults.results(campaign)]


def indicators_csv(campaign: Campaign) -> bytes:
    """Return the indicators as one CSV file (UTF-8 with a byte-order mark, for spreadsheets)."""
    return write_csv(COLUMNS, [[row[name] for name in COLUMNS] for row in rows(campaign)])


def reach_rows(campaign: Campaign) -> list[dict]:
    """Return each channel's result and target per measure, and the totals."""
    channels = reach.channels(campaign)
    out = []
    for channel in [*channels, reach.totals(channels)]:
        for metric in reach.METRICS:
            result, target = channel.results.get(metric), channel.targets.get(metric)
            if result is not None or target is not None:
                out.append({"channel": channel.name, "metric": metric, "result": result, "target": target,
                            "share_of_target": kapstats.rounded(100 * result / target)
                            if result is not None and target else None,
                            "total": channel not in channels})
    return out


def indicators_json(campaign: Campaign) -> bytes:
    """Return the indicators, the method and reach as one JSON document."""
    document = {
        "campaign": campaign.title, "generated": utcnow().isoformat(timespec="seconds") + "Z",
        "surveys": {wave: {"responses": survey.respondents, "file": survey.filename}
                    for wave in ("baseline", "endline") if (survey := campaign.survey(wave))},
        "method": METHOD, "indicators": rows(campaign), "reach": reach_rows(campaign)}
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")


def reach_csv(campaign: Campaign) -> bytes:
    """Return reach and engagement per channel as CSV."""
    names = ["channel", "metric", "result", "target", "share_of_target", "total"]
    return write_csv(names, [[row[name] for name in names] for row in reach_rows(campaign)])
