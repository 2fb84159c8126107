"""Reach and engagement: each channel's results (impressions, reach, comments, shares, chatbot
conversations, hotline calls) against the strategy's targets, entered by hand or from a CSV file.

A change of a target is a change of the strategy: it goes into the strategy's history.
Files and forms are checked whole before anything is stored, with the row and column of
every problem named.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from . import campaign_strategy
from .campaign_models import Campaign, ReachEntry
from .errors import Refused
from .extensions import db
from .i18n import LANGUAGES
from .kapimport import FileRefused, column_letter, read_csv

METRICS = {"impressions": _l("Impressions"), "reach": _l("Reach (people)"), "comments": _l("Comments"),
           "shares": _l("Shares"), "chatbot": _l("Chatbot conversations"), "hotline": _l("Hotline calls")}
MAX_CHANNELS = 40
MAX_VALUE = 10**15
NUMBER = re.compile(r"^\d{1,3}([ ,.\u00a0\u202f_']\d{3})*$|^\d+$")


@dataclass
class Channel:
    name: str
    results: dict = field(default_factory=dict)  # metric -> int | None
    targets: dict = field(default_factory=dict)


def channels(campaign: Campaign) -> list[Channel]:
    """Return the campaign's channels in the order they were first entered, with their figures."""
    out: dict[str, Channel] = {}
    for entry in campaign.reach:
        channel = out.setdefault(entry.channel, Channel(entry.channel))
        channel.results[entry.metric], channel.targets[entry.metric] = entry.result, entry.target
    return list(out.values())


def totals(rows: list[Channel]) -> Channel:
    """Return the sums over channels (a metric nobody entered stays None)."""
    total = Channel(str(_l("All channels")))
    for metric in METRICS:
        for side, into in (("results", total.results), ("targets", total.targets)):
            values = [getattr(c, side).get(metric) for c in rows if getattr(c, side).get(metric) is not None]
            into[metric] = sum(values) if values else None
    return total


def number(text: str) -> int | None:
    """Read a whole number as people type it ("26 000 000", "26,000,000"); "" is None; else ValueError."""
    text = (text or "").strip()
    if not text:
        return None
    if not NUMBER.match(text):
        raise ValueError(text)
    value = int(re.sub(r"\D", "", text))
    if value > MAX_VALUE:
        raise ValueError(text)
    return value


def read_form(form: dict) -> tuple[list[Channel], dict[str, str]]:
    """Read the page's rows (`ch<n>.name`, `ch<n>.<metric>.result|target`); return channels and errors."""
    rows, errors, names = [], {}, set()
    for n in range(MAX_CHANNELS + 2):
        name = " ".join(form.get(f"ch{n}.name", "").split())[:120]
        channel = Channel(name)
        for metric in METRICS:
            for side, into in (("result", channel.results), ("target", channel.targets)):
                key = f"ch{n}.{metric}.{side}"
                try:
                    into[metric] = number(form.get(key, ""))
                except ValueError:
                    errors[key] = str(_l("A whole number, e.g. 26000000."))
        if not name:
            if any(v is not None for v in [*channel.results.values(), *channel.targets.values()]):
                errors[f"ch{n}.name"] = str(_l("Name the channel."))
            continue
        if name.casefold() in names:
            errors[f"ch{n}.name"] = str(_l("Each channel once."))
        names.add(name.casefold())
        rows.append(channel)
    return rows, errors


def save(campaign: Campaign, rows: list[Channel], author: str) -> None:
    """Store the channels' figures (replacing what was there); a changed target goes into the history."""
    campaign_strategy.sync(campaign)
    before = {(c.name, m): t for c in channels(campaign) for m, t in c.targets.items()}
    after = {(c.name, m): t for c in rows for m, t in c.targets.items()}
    campaign.reach.clear()
    db.session.flush()
    for channel in rows:
        for metric in METRICS:
            result, target = channel.results.get(metric), channel.targets.get(metric)
            if result is not None or target is not None:
                campaign.reach.append(ReachEntry(channel=channel.name, metric=metric, result=result,
                                                 target=target))
    with force_locale(campaign.language if campaign.language in LANGUAGES else "en"):
        for key in sorted(set(before) | set(after)):
            old, new = before.get(key), after.get(key)
            if old != new:
                label = str(_l("Target: %(channel)s, %(metric)s", channel=key[0], metric=METRICS[key[1]]))
                campaign_strategy.record(
                    campaign, f"reach.{key[0]}.{key[1]}", label,
                    "" if old is None else f"{old:,}", "" if new is None else f"{new:,}",
                    str(_l("Set on the campaign’s reach page.")), author)
    db.session.commit()


def import_csv(campaign: Campaign, raw: bytes, author: str) -> int:
    """Merge a CSV of results per channel (a `channel` column, one per measure, `target_<measure>`
    optional; an empty cell changes nothing) into the campaign's figures; return how many channels
    it held. All or nothing."""
    rows = [row for row in read_csv(raw, _l("The file is not UTF-8 text. Save it as CSV (UTF-8)."))
            if any(cell.strip() for cell in row)]
    if len(rows) < 2:
        raise FileRefused(_l("The file has no channels: a header row and a row per channel are needed."))
    header = [_column(h) for h in rows[0]]
    if "channel" not in header:
        raise FileRefused(_l("The file needs a column named “channel”."),
                          [str(_l("Its columns: %(names)s", names=", ".join(rows[0][:20])))])
    known = {h for h in header if h in METRICS or h.removeprefix("target_") in METRICS}
    if not known:
        raise FileRefused(_l("The file has none of the columns %(names)s.", names=", ".join(METRICS)))
    merged = {c.name.casefold(): c for c in channels(campaign)}
    problems = []
    for number_, row in enumerate(rows[1:], start=2):
        cells = dict(zip(header, [cell.strip() for cell in row], strict=False))
        name = " ".join(cells.get("channel", "").split())[:120]
        if not name:
            problems.append(str(_l("Row %(row)d: the channel has no name.", row=number_)))
            continue
        channel = merged.setdefault(name.casefold(), Channel(name))
        for column in known:
            index = header.index(column)
            try:
                value = number(cells.get(column, ""))
            except ValueError:
                problems.append(str(_l(
                    "Row %(row)d, column %(col)s (%(name)s): “%(value)s” is not a whole number.",
                    row=number_, col=column_letter(index), name=rows[0][index], value=cells[column][:40])))
                continue
            if value is None:
                continue  # an empty cell leaves what is there
            if column in METRICS:
                channel.results[column] = value
            else:
                channel.targets[column.removeprefix("target_")] = value
    if problems:
        raise FileRefused(_l("The file was not imported."), problems[:12])
    if len(merged) > MAX_CHANNELS:
        raise Refused(_l("At most %(n)d channels.", n=MAX_CHANNELS))
    save(campaign, list(merged.values()), author)
    return len(rows) - 1


def _column(header: str) -> str:
    """Return a header's measure key: `Chatbot conversations` -> chatbot, `Target reach` -> target_reach."""
    words = "_".join(header.strip().lower().replace("-", " ").split())
    aliases = {"chatbot_conversations": "chatbot", "hotline_calls": "hotline", "people_reached": "reach"}
    for prefix in ("target_", "target_for_"):
        if words.startswith(prefix):
            rest = words.removeprefix(prefix)
            return "target_" + aliases.get(rest, rest)
    return aliases.get(words, words)
