"""Getting a workshop's outcome out, and its data gone: the report file, share links, deletion.

Pure of HTTP like workshop/flow/: views translate, these functions decide. Every
function that changes something commits before it returns.
"""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update
from werkzeug.utils import secure_filename

from . import images, limits, mail, report
from .errors import Refused
from .extensions import db
from .flow.access import normalise_code
from .flow.invitations import revoke
from .models import Comment, Invitation, Item, Participant, Report, ShareLink, Stage, Vote, Workshop, utcnow

MAX_LINKS = 50          # live links per workshop: enough for every partner, not a token farm
MAX_LINK_DAYS = 365
TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


# --- the newest report ------------------------------------------------------------

def latest_report(workshop: Workshop) -> tuple[Report, Path] | None:
    """Return the newest finished report of a workshop and its PDF file, if there is one."""
    found = report.latest(workshop)
    path = report.file_path(found.pdf_file) if found is not None else None
    return (found, path) if path is not None else None


def report_html_path(rendered: Report) -> Path | None:
    """Return the HTML version of a report, if it was rendered."""
    return report.file_path(rendered.html_file)


def send_report(workshop: Workshop, sender, recipients: list[str], subject: str, text: str) -> None:
    """E-mail the newest report's PDF to partners with the facilitator's message, or refuse."""
    found = latest_report(workshop)
    if found is None:
        raise Refused(_l("No report is ready yet: render the report first, then send it."))
    _report, pdf = found
    # Not an open relay: each recipient is one send, counted per account and per workshop per day.
    if not limits.allowed_daily("MAIL_SENDS_PER_ACCOUNT_DAY", len(recipients), f"account-{sender.id}"):
        raise Refused(_l("This account may send the report to %(n)d addresses a day; that is used up "
                         "for today. Use a share link instead.",
                         n=current_app.config["MAIL_SENDS_PER_ACCOUNT_DAY"]), 429)
    if not limits.allowed_daily("MAIL_SENDS_PER_WORKSHOP_DAY", len(recipients), f"workshop-{workshop.id}"):
        raise Refused(_l("This workshop's report may be sent to %(n)d addresses a day; that is used up "
                         "for today. Use a share link instead.",
                         n=current_app.config["MAIL_SENDS_PER_WORKSHOP_DAY"]), 429)
    limits.spend_daily("MAIL_SENDS_PER_ACCOUNT_DAY", len(recipients), f"account-{sender.id}")
    limits.spend_daily("MAIL_SENDS_PER_WORKSHOP_DAY", len(recipients), f"workshop-{workshop.id}")
    signature = _("Sent by %(name)s with Charrette.", name=sender.name)
    message = mail.build(
        sender=current_app.config["SMTP_FROM"], recipients=recipients,
        reply_to=(sender.name, sender.email), subject=subject, text=f"{text}\n\n-- \n{signature}",
        pdf=pdf, filename=secure_filename(f"{workshop.title}.pdf") or "report.pdf")
    # Under gevent SQLite has one connection per process: give it back while the mail
    # server takes its time, or every phone would wait for this send.
    db.session.commit()
    mail.send(message)


# --- share links ------------------------------------------------------------------

def create_link(workshop: Workshop, label: str, days: int | None) -> ShareLink:
    """Create an unguessable link to the report, valid for `days` (None: until revoked)."""
    live = [link for link in workshop.share_links if link.usable]
    if len(live) >= MAX_LINKS:
        raise Refused(_l("This workshop already has %(n)d active links: revoke one first.", n=MAX_LINKS))
    if days is not None and not 1 <= days <= MAX_LINK_DAYS:
        raise Refused(_l("A link lasts from 1 to %(n)d days.", n=MAX_LINK_DAYS))
    link = ShareLink(workshop=workshop, label=label.strip(),
                     expires_at=utcnow() + timedelta(days=days) if days else None)
    db.session.add(link)
    db.session.commit()
    return link


def revoke_link(workshop: Workshop, link_id: int) -> ShareLink:
    """Stop one of this workshop's links from working (kept, so the list shows it was revoked)."""
    return revoke(ShareLink, workshop, link_id)


def get_shared(token: str) -> tuple[ShareLink, Report, Path]:
    """Load the report a share link points to, or refuse with one message for every failure.

    Unknown, revoked and expired links and a missing report look the same to
    the visitor, so a link never tells whether a workshop exists.
    """
    refusal = Refused(_l("This link does not work (any more). It may have expired or been revoked, "
                         "or the report is not ready yet. Ask the person who sent it for a new one."), 404)
    if not TOKEN.match(token or ""):
        raise refusal
    link = db.session.scalar(select(ShareLink).filter_by(token=token))
    if link is None or not link.usable:
        raise refusal
    found = latest_report(link.workshop)
    if found is None:
        raise refusal
    return link, *found


# --- deleting a workshop ------------------------------------------------------------

def delete_workshop(workshop: Workshop, confirm: str) -> None:
    """Delete a workshop, everything people gave in it, its images and its report files.

    `confirm` must be the workshop's code (typed by the facilitator). Rows go
    first, in one transaction; files only once that committed, so a failure
    leaves nothing half-deleted that the database still points to.
    """
    if normalise_code(confirm) != workshop.code:
        raise Refused(_l("Type the workshop code %(code)s to confirm.", code=workshop.code))
    wid = workshop.id
    stage_ids = select(Stage.id).where(Stage.workshop_id == wid).scalar_subquery()
    pictures = [item.image for stage in workshop.stages for item in stage.items if item.image]
    if isinstance(workshop.org_logo, dict) and {"name", "ext"} <= set(workshop.org_logo):
        pictures.append(workshop.org_logo)
    report_files = [name for report in workshop.reports for name in (report.pdf_file, report.html_file)]
    # Plain statements in dependency order: merged items point at each other and the
    # workshop at its current stage, which the ORM's cascade would trip over.
    db.session.execute(update(Workshop).where(Workshop.id == wid).values(current_stage_id=None))
    db.session.execute(delete(Vote).where(Vote.stage_id.in_(stage_ids)))
    db.session.execute(delete(Comment).where(Comment.stage_id.in_(stage_ids)))
    db.session.execute(update(Item).where(Item.stage_id.in_(stage_ids)).values(merged_into_id=None))
    db.session.execute(delete(Item).where(Item.stage_id.in_(stage_ids)))
    db.session.execute(delete(Participant).where(Participant.workshop_id == wid))
    db.session.execute(delete(Stage).where(Stage.workshop_id == wid))
    db.session.execute(delete(Report).where(Report.workshop_id == wid))
    db.session.execute(delete(ShareLink).where(ShareLink.workshop_id == wid))
    db.session.execute(delete(Invitation).where(Invitation.workshop_id == wid))
    db.session.execute(delete(Workshop).where(Workshop.id == wid))
    db.session.commit()
    db.session.expire_all()  # the deleted rows' objects must not be trusted any more
    for picture in pictures:
        images.delete(picture)
    for name in report_files:
        path = report.file_path(name)
        if path is not None:
            path.unlink(missing_ok=True)
