"""A demo facilitator and workshop, so a fresh install has something to run."""
from __future__ import annotations

import logging
import secrets
import textwrap

from flask import current_app
from sqlalchemy import select

from . import checks
from .auth import create_facilitator, end_sign_ins, find_facilitator
from .extensions import db
from .flow import items, workshops
from .models import Item, Participant, Workshop
from .stages import kind_of

log = logging.getLogger(__name__)

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


# Two concepts and two drafts from an imagined creative partner, with generated posters.
DEMO_CONCEPTS = [
    ("Ask three questions", "Before any job abroad, ask: who, where, what contract?",
     "Posters and short videos show a young woman asking three calm questions before she says yes.",
     "Posters, TikTok", (59, 46, 163)),
    ("Your passport stays with you", "No real employer keeps your passport.",
     "Bold typographic posters for bus stations and border towns; a radio spot with the same line.",
     "Posters, radio", (194, 65, 12)),
]
DEMO_DRAFTS = [
    ("30-second video script", "TikTok / Instagram Reels",
     "A phone buzzes: 'Hotel job in the city, great pay, leave Friday!'\n"
     "Aruna pauses. Who is the employer? Where exactly? Can I see the contract?\n"
     "Voice-over: Three questions keep you safe. Call the free helpline first."),
    ("Bus-stop poster", "Print, 120 x 175 cm", "Headline: YOUR PASSPORT STAYS WITH YOU.\n"
     "Small print: the helpline number and a QR code to the checklist."),
]


def poster(title: str, colour: tuple[int, int, int]):
    """Draw a simple poster image (PNG bytes) for a demo concept."""
    from io import BytesIO

    from PIL import Image, ImageDraw, ImageFont
    image = Image.new("RGB", (1200, 800), colour)
    draw = ImageDraw.Draw(image)
    draw.ellipse((760, 340, 1160, 740), fill=tuple(min(c + 60, 255) for c in colour))
    font = ImageFont.load_default(size=84)
    lines = textwrap.wrap(title.upper(), 16)
    for i, line in enumerate(lines):
        draw.text((70, 90 + i * 110), line, font=font, fill="white")
    out = BytesIO()
    image.save(out, "PNG")
    out.seek(0)
    return out


def lock_leftover_demo() -> None:
    """Production: a demo account still on the demo password gets an unknowable one, and is signed out."""
    cfg = current_app.config
    user = find_facilitator(cfg["DEMO_EMAIL"])
    if user is not None and user.check_password(cfg["DEMO_PASSWORD"]):
        user.set_password(secrets.token_urlsafe(32))
        end_sign_ins(user, everywhere=True)
        log.warning("the demo account %s was locked (production)", user.email)


def seed_demo() -> Workshop | None:
    """Create the demo facilitator and one workshop with a few ideas, once."""
    cfg = current_app.config
    user = find_facilitator(cfg["DEMO_EMAIL"])
    if user is None:
        user = create_facilitator(cfg["DEMO_EMAIL"], "Demo Facilitator", cfg["DEMO_PASSWORD"])
    existing = db.session.scalar(select(Workshop).filter_by(facilitator_id=user.id, title=DEMO_TITLE))
    if existing is not None:
        return existing
    workshop = workshops.create_workshop(
        user, title=DEMO_TITLE, topic="Trafficking in persons",
        description="Planning workshop with ministries, police, NGOs, youth representatives "
                    "and the creative agency: which trend do we tackle first, and for whom?")
    trend = workshop.stages[0]
    trend.phase = "collect"
    for group, title, detail in DEMO_IDEAS:
        person = Participant(workshop=workshop, group=group)
        db.session.add(Item(stage=trend, participant=person, title=title, detail=detail))
    db.session.commit()
    concepts, drafts = (next(s for s in workshop.stages if s.kind == k) for k in ("concepts", "drafts"))
    for title, message, detail, channel, colour in DEMO_CONCEPTS:
        form = checks.parse(kind_of(concepts).ItemForm, {"title": title, "message": message,
                                                         "detail": detail, "channel": channel})
        items.add_item(workshop, None, concepts, form, upload=poster(title, colour))
    for title, channel, text in DEMO_DRAFTS:
        form = checks.parse(kind_of(drafts).ItemForm, {"title": title, "channel": channel, "detail": text})
        items.add_item(workshop, None, drafts, form)
    return workshop
