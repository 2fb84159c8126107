"""A demo facilitator and workshop, so a fresh install has something to run."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from . import flow
from .auth import create_facilitator, find_facilitator
from .extensions import db
from .models import Item, Participant, Workshop

DEMO_TITLE = "Safe labour migration: campaign planning"

# Written for the demo; the situations are typical of labour-migration campaigns.
DEMO_IDEAS = [
    ("Civil society", "Job offers abroad spread through closed social-media groups",
     "Adverts promise hotel or care work with high pay and free travel; no company name, "
     "only a phone number to message."),
    ("Government", "Recruiters visit rural districts after the harvest",
     "They approach families when money is short and offer to arrange everything."),
    ("Youth", "Young women are contacted directly by 'friends of friends' in chat apps",
     ""),
    ("UN / donor", "Migrants pay large upfront fees and arrive already in debt",
     "The debt is then used to keep them working and stop them from leaving."),
    ("Civil society", "People travel on tourist visas and work without a contract", ""),
]


def seed_demo() -> Workshop | None:
    """Create the demo facilitator and one workshop with a few ideas, once."""
    cfg = current_app.config
    user = find_facilitator(cfg["DEMO_EMAIL"])
    if user is None:
        user = create_facilitator(cfg["DEMO_EMAIL"], "Demo Facilitator", cfg["DEMO_PASSWORD"])
    existing = db.session.scalar(select(Workshop).filter_by(facilitator_id=user.id, title=DEMO_TITLE))
    if existing is not None:
        return existing
    workshop = flow.create_workshop(
        user, title=DEMO_TITLE, topic="Trafficking in persons",
        description="Planning workshop with ministries, police, NGOs, youth representatives "
                    "and the creative agency: which trend do we tackle first, and for whom?")
    trend = workshop.stages[0]
    trend.phase = "collect"
    for group, title, detail in DEMO_IDEAS:
        person = Participant(workshop=workshop, group=group)
        db.session.add(Item(stage=trend, participant=person, title=title, detail=detail))
    db.session.commit()
    return workshop
