"""Report a run: the result of one N against one server, the table's rows and ratios, the details."""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

KINDS = ("app", "bare", "before")  # the table's order: this checkout, the bare server, --compare DIR


@dataclass
class Result:
    """What one run (N phones against one server) measured."""

    n: int
    kind: str
    join_s: float | None = None
    join_fail: int = 0
    join_errors: Counter = field(default_factory=Counter)
    join_lat: list = field(default_factory=list)
    sockets_alone_s: float | None = None  # the bare server: N sockets connected, no HTTP join (the issue's)
    sockets_alone_fail: int = 0
    idea_lat: list = field(default_factory=list)
    idea_fail: int = 0
    open_vote_all_s: float | None = None
    open_vote_missing: int = 0
    votes_sent: int = 0
    votes_failed: Counter = field(default_factory=Counter)
    vote_window: float = 0.0
    ack: list = field(default_factory=list)
    to_projector: list = field(default_factory=list)
    # the same split at the vote's commit (the ack's `at`, the server's clock = this host's):
    to_commit: list = field(default_factory=list)        # phone sends -> server committed
    commit_to_ack: list = field(default_factory=list)    # committed -> phone has the ack
    commit_to_screen: list = field(default_factory=list)  # committed -> projector has it
    never_on_projector: int = 0
    reveal: list = field(default_factory=list)
    reveal_missing: int = 0
    lost: int | None = None
    duplicated: int | None = None
    pairs_mismatched: int | None = None
    tally_lost: int | None = None
    tally_dup: int | None = None
    progress_check: str = ""
    uncertain_phones: int = 0
    unacked_phones: int = 0
    tally_vs: str = ""
    client_log: Counter = field(default_factory=Counter)
    phone_view_kb: dict = field(default_factory=dict)
    dropped: int = 0
    drop_reasons: Counter = field(default_factory=Counter)
    server_cpu: float | None = None
    peak_rss_mb: float | None = None
    server_busiest: float | None = None
    phases: list = field(default_factory=list)
    client_busiest: tuple = ("", 0.0)
    loop_lag: dict = field(default_factory=dict)
    client_gc: dict = field(default_factory=dict)  # phase -> the load generator's full-GC pauses (s)
    console_views: int = 0
    console_max_kb: float = 0.0
    projector_views: int = 0
    projector_max_kb: float = 0.0
    profile: str = ""
    deflate: bool | None = None
    aborted: str = ""
    notes: list = field(default_factory=list)


def pct(values, p):
    """Nearest-rank percentile of a list (None when empty)."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


def ms3(values):
    """'p50/p95/p99' in milliseconds of a list of seconds."""
    if not values:
        return "n/a"
    return "/".join(f"{pct(values, p) * 1000:.0f}" for p in (50, 95, 99))


def fmt(v, spec=".1f", none="n/a"):
    """Format a number, or say it is missing."""
    return none if v is None else format(v, spec)


def row(r: Result) -> str:
    """Draw one run as a row of the table."""
    rev = f"{pct(r.reveal, 99) * 1000:.0f}" if r.reveal else "n/a"
    if r.reveal_missing:
        rev += f" ({r.reveal_missing} never)"
    ack, proj = ms3(r.ack), ms3(r.to_projector)
    if r.votes_sent and len(r.ack) < r.votes_sent:
        ack += f" ({r.votes_sent - len(r.ack)} of {r.votes_sent} unacked/refused)"
    if r.aborted:
        rev += " ABORTED"
    cells = [f"{r.n}" + ("" if r.kind == "app" else f" ({r.kind})"), fmt(r.join_s), str(r.join_fail),
             ack, proj, rev, fmt(r.lost, "d"), fmt(r.duplicated, "d"),
             fmt(r.server_cpu), fmt(r.peak_rss_mb, ".0f")]
    return "| " + " | ".join(cells) + " |"


HEADER = ("| N | join time (s) | join failures | ack p50/p95/p99 (ms) | vote->projector p50/p95/p99 (ms) "
          "| reveal->all phones p99 (ms) | lost | duplicated | server CPU s | peak RSS MB |\n"
          "|---|---|---|---|---|---|---|---|---|---|")


def ratio_row(app: Result, other: Result) -> str:
    """Draw the app's figures divided by another run's (bare or before) as a row."""
    def r(a, b):
        """Divide, or say n/a."""
        return "n/a" if a in (None, 0) or b in (None, 0) else f"{a / b:.1f}x"

    def r3(a, b):
        """Divide the p50, p95 and p99 of two lists."""
        if not a or not b:
            return "n/a"
        return "/".join(r(pct(a, p), pct(b, p)) for p in (50, 95, 99))

    cells = [f"{app.n} app/{other.kind}", r(app.join_s, other.join_s), "", r3(app.ack, other.ack),
             r3(app.to_projector, other.to_projector), r(pct(app.reveal, 99), pct(other.reveal, 99)), "", "",
             r(app.server_cpu, other.server_cpu), r(app.peak_rss_mb, other.peak_rss_mb)]
    return "| " + " | ".join(cells) + " |"


def details(r: Result) -> str:
    """Describe one run in a list of lines under a heading."""
    lines = [f"### N={r.n} ({r.kind})"]
    lines.append(f"- join: per phone p50/p95/p99 {ms3(r.join_lat)} ms"
                 + (f"; errors {dict(r.join_errors)}" if r.join_errors else ""))
    if r.sockets_alone_s is not None:
        lines.append(f"- sockets alone, before the run (no HTTP join, as the issue's bare figure): {r.n} "
                     f"connected in {r.sockets_alone_s:.1f} s, {r.sockets_alone_fail} failed")
    lines.append(f"- ideas: ack p50/p95/p99 {ms3(r.idea_lat)} ms, failures {r.idea_fail}")
    lines.append(f"- permessage-deflate offered by the phones (as browsers do), negotiated: {r.deflate}")
    lines.append(f"- open voting -> every phone has the ballot: {fmt(r.open_vote_all_s, '.2f')} s"
                 + (f" ({r.open_vote_missing} phones never got it)" if r.open_vote_missing else ""))
    lines.append(f"- votes: {r.votes_sent} actions over a {r.vote_window:g} s window "
                 f"(offered {r.votes_sent / r.vote_window if r.vote_window else 0:.0f}/s), "
                 f"failed {dict(r.votes_failed) or 0}, "
                 f"phones with an unacknowledged vote {r.uncertain_phones}, "
                 f"acked votes never seen on the projector {r.never_on_projector}")
    if r.ack:
        lines.append(f"- ack max {max(r.ack) * 1000:.0f} ms; vote->projector max "
                     f"{max(r.to_projector) * 1000 if r.to_projector else float('nan'):.0f} ms; "
                     f"reveal->all phones max {max(r.reveal) * 1000 if r.reveal else float('nan'):.0f} ms")
        lines.append(f"- where a vote's time goes, p50/p95/p99 ms: phone sends -> committed "
                     f"{ms3(r.to_commit)}; committed -> ack at the phone {ms3(r.commit_to_ack)}; "
                     f"committed -> on the projector {ms3(r.commit_to_screen)} (coalesced every "
                     f"PUSH_INTERVAL)")
    lines.append(f"- check: {r.pairs_mismatched} mismatched phone+idea pairs (acknowledged votes vs the "
                 f"database; {r.unacked_phones} phones whose last vote had no ack may show it or not); "
                 f"revealed tally vs "
                 f"{r.tally_vs or 'n/a'}: lost {fmt(r.tally_lost, 'd')}, extra {fmt(r.tally_dup, 'd')} dots; "
                 f"{r.progress_check}")
    if r.phone_view_kb:
        lines.append(f"- largest phone view per phase (KB of HTML): {r.phone_view_kb}")
    if r.client_log:
        lines.append(f"- client library warnings: {dict(r.client_log.most_common(5))}")
    lines.append(f"- phone sockets dropped during the run: {r.dropped}"
                 + (f" {dict(r.drop_reasons)}" if r.drop_reasons else "")
                 + f"; views received: console {r.console_views} "
                 f"(largest {r.console_max_kb:.0f} KB), projector {r.projector_views} "
                 f"(largest {r.projector_max_kb:.0f} KB)")
    ph = "; ".join(f"{name} {w:.1f}s wall, server {s:.1f} / client {c:.1f} CPU s"
                   for name, w, s, c in r.phases if name != "start")
    lines.append(f"- phases: {ph}")
    lag = "; ".join(f"{k} p99 {pct(v, 99) * 1000:.0f} ms / max {max(v) * 1000:.0f} ms"
                    for k, v in r.loop_lag.items() if v)
    pauses = "; ".join(f"{k} {len(v)} ({max(v) * 1000:.0f} ms longest)" for k, v in r.client_gc.items() if v)
    lines.append(f"- load generator's full garbage collections: {pauses or 'none'}")
    lines.append(f"- server busiest 2 s: {fmt(r.server_busiest, '.0%')} of a core; load generator busiest "
                 f"phase: {r.client_busiest[0]} at {r.client_busiest[1]:.0%} of a core; "
                 f"its event-loop lag: {lag}")
    if r.client_busiest[1] > 0.9:
        lines.append("- NOTE: the load generator saturated a core in that phase; its latencies include "
                     "client-side queueing (see the loop lag)")
    for note in r.notes:
        lines.append(f"- note: {note}")
    if r.profile:
        lines.append("- py-spy profile of the server: " + r.profile)
    return "\n".join(lines)


def print_report(args, results: list[dict[str, Result]]) -> None:
    """Print the load, the table (each kind's rows, then the ratios) and every run's details."""
    where = (f"{args.processes} app processes on PostgreSQL + Redis, phones spread over them, console and "
             "projector on the last; " if args.processes > 1
             else "one app process on PostgreSQL + Redis; " if args.scale_out else "")
    if args.checkout:
        where += f"app server from {args.checkout}; "
    if args.compare:
        where += f"'before' rows from {args.compare}; "
    print(f"\nLoad: {where}{' '.join(map(str, args.phones))} phones; "
          f"joins {args.join_concurrency} at a time; "
          f"ideas over {args.idea_window:g} s; 4 vote actions per phone over {args.vote_window:g} s; "
          f"one load-generator process (asyncio, python-socketio AsyncClient over WebSocket; phones skip "
          f"json-parsing the HTML of big views, which the server still renders, compresses and sends).\n")
    print(HEADER)
    for kind in KINDS:
        for runs in results:
            if kind in runs:
                print(row(runs[kind]))
    for kind in KINDS[1:]:
        for runs in results:
            if kind in runs:
                print(ratio_row(runs["app"], runs[kind]))
    for runs in results:
        app, bare = runs["app"], runs.get("bare")
        if bare is not None and app.join_s and bare.join_s and bare.sockets_alone_s:
            print(f"\n{app.n} phones, the issue's ratio: app join {app.join_s:.1f} s / the bare server's "
                  f"sockets alone {bare.sockets_alone_s:.1f} s = {app.join_s / bare.sockets_alone_s:.1f}x "
                  f"(against its whole join, {bare.join_s:.1f} s: {app.join_s / bare.join_s:.1f}x)")
    print("\nlost/duplicated: dots (acknowledged last value per phone and idea vs the database). "
          "Join: HTTP join + socket connected + first sync ack, all N phones.")
    print()
    for runs in results:
        for kind in KINDS:
            if kind in runs:
                print(details(runs[kind]))


def as_json(results: list[dict[str, Result]]) -> str:
    """Dump the raw results: per N [app, bare or null], and the before run when there is one."""
    out = []
    for runs in results:
        entry = [vars(runs["app"]), vars(runs["bare"]) if "bare" in runs else None]
        if "before" in runs:
            entry.append(vars(runs["before"]))
        out.append(entry)
    return json.dumps(out, default=str, indent=1)


def print_join_report(args, results: list[dict[str, list[Result]]]) -> None:
    """Print the join storm alone: each server's runs and their medians, then the ratios of the medians."""
    from statistics import median

    def join_cpu(r: Result) -> float | None:
        """The server's CPU seconds in the join phase."""
        return next((s for name, _w, s, _c in r.phases if name == "join"), None) if r.phases else None

    def med(values) -> float | None:
        values = [v for v in values if v is not None]
        return median(values) if values else None

    print(f"\nThe join storm alone: {' '.join(map(str, args.phones))} phones, "
          f"{args.join_concurrency} joining at a time (GET + POST /j/CODE, then the socket), every server "
          f"{args.repeat} time(s), taken in turn. Medians; each run's figure in brackets.\n")
    print("| N | server | join time (s) | server CPU in the join (s) | CPU per phone (ms) | join failures |")
    print("|---|---|---|---|---|---|")
    for runs in results:
        for kind in KINDS:
            if kind not in runs:
                continue
            rs = runs[kind]
            n = rs[0].n
            joins, cpus = [r.join_s for r in rs], [join_cpu(r) for r in rs]
            cpu = med(cpus)
            print(f"| {n} | {kind} | {fmt(med(joins))} [{', '.join(fmt(j) for j in joins)}] | {fmt(cpu)} "
                  f"[{', '.join(fmt(c) for c in cpus)}] | {fmt(cpu and cpu / n * 1000)} | "
                  f"{sum(r.join_fail for r in rs)} |")
            if kind == "bare":
                alone = [r.sockets_alone_s for r in rs]
                print(f"| {n} | bare, sockets alone | {fmt(med(alone))} [{', '.join(fmt(a) for a in alone)}] "
                      f"| | | {sum(r.sockets_alone_fail for r in rs)} |")
    print()
    for runs in results:
        app = med([r.join_s for r in runs["app"]])
        n = runs["app"][0].n
        for kind, label, figure in (("bare", "the bare server's whole join", "join_s"),
                                    ("bare", "its sockets alone (the issue's figure)", "sockets_alone_s"),
                                    ("before", "before", "join_s")):
            other = med([getattr(r, figure) for r in runs.get(kind, [])])
            if app and other:
                print(f"- {n} phones: app join / {label}: {app / other:.2f}x")
    for runs in results:
        for kind in KINDS:
            for r in runs.get(kind, []):
                if r.aborted or r.join_errors:
                    print(f"- {r.n} {kind}: {r.aborted or dict(r.join_errors)}")
