"""Time the campaign report through the real job (a benchmark, not a test).

    python scripts/bench_campaign_report.py                  # about 40 pages, three runs
    python scripts/bench_campaign_report.py --participants 40 --runs 5
    python scripts/bench_campaign_report.py --runs 1 --keep out/    # and keep the PDF

Builds the generated campaign (scripts/report_campaign.py: three linked workshops with
`--participants` each, concept images, a 14-question KAP survey with 300 + 300 respondents,
reach) in a fresh SQLite file, then renders its report as the report page does: a spare
renderer (`python -m workshop.report_child --spare`) that has loaded everything is handed the
job "campaign:<id>". Printed per run: pages, the child's own render time (HTML, PDF and files
written), the wall time from the hand-over, and the child's CPU seconds from the hand-over
(user + system: what the render costs on an idle machine, whatever the load).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.bench_report import run_child  # noqa: E402


def build(tmp: Path, participants: int):
    """Create the campaign in tmp/charrette.db and queue a report row; return the app and the row's id."""
    from config import DevelopmentConfig
    from scripts.report_campaign import build as build_campaign
    from workshop import campaign_report, create_app
    from workshop.auth import create_facilitator
    from workshop.extensions import db

    app = create_app(DevelopmentConfig(DATABASE_URL=f"sqlite:///{tmp / 'charrette.db'}", DEMO=False,
                                       UPLOAD_DIR=str(tmp / "uploads"), REPORT_DIR=str(tmp / "reports"),
                                       SECRET_KEY="bench-secret", LOG_LEVEL="WARNING"))
    with app.app_context():
        campaign = build_campaign(create_facilitator("bench@example.org", "Bench", "bench-facilitator"),
                                  participants=participants)
        row = campaign_report.request(campaign)
        report_id = row.id
        db.session.remove()
    return app, report_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=280)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", metavar="DIR", help="copy the PDF into DIR (to read it page by page)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app, report_id = build(Path(tmp), args.participants)
        runs = []
        for n in range(args.runs):
            result = run_child(app, report_id, spare=True, kind="campaign")
            runs.append(result)
            print(f"run {n + 1}: {result['status']}, {result['pages']} pages, render {result['render_s']} s, "
                  f"wall {result['wall_s']:.2f} s, CPU {result['cpu_s']:.2f} s, "
                  f"peak {result['peak_rss_mb']:.0f} MB {result['error'][:200]}")
        render = statistics.median(r["render_s"] or 0 for r in runs)
        cpu = statistics.median(r["cpu_s"] for r in runs)
        print(f"median: render {render:.2f} s, CPU {cpu:.2f} s; load average {os.getloadavg()[0]:.2f}")
        if args.keep:
            Path(args.keep).mkdir(parents=True, exist_ok=True)
            for pdf in Path(tmp, "reports").rglob("*.pdf"):
                shutil.copy(pdf, Path(args.keep) / pdf.name)
                print(f"kept {Path(args.keep) / pdf.name}")


if __name__ == "__main__":
    main()
