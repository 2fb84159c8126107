"""Creative partners: an invitation link to prepare concepts and drafts, and nothing else."""
import io

from PIL import Image
from sqlalchemy import select

from tests.conftest import gen_facilitator, gen_ideas, gen_workshop, screens, views
from workshop.extensions import db
from workshop.flow import phases
from workshop.models import Invitation, Item


def png() -> io.BytesIO:
    buf = io.BytesIO()
    Image.new("RGB", (1200, 800), (30, 120, 90)).save(buf, "PNG")
    buf.seek(0)
    return buf


def stage_of(w, kind):
    return next(s for s in w.stages if s.kind == kind)


def invited(browser, w, label="Studio North"):
    """Make a link as the workshop's facilitator; return (partner client, invitation)."""
    owner = browser()
    owner.login()
    r = owner.http.post(f"/w/{w.code}/partners", data={"label": label}, follow_redirects=True)
    assert r.status_code == 200 and label in r.get_data(as_text=True)
    invitation = db.session.scalar(select(Invitation).filter_by(workshop_id=w.id, label=label))
    assert f"/p/{invitation.token}" in r.get_data(as_text=True)  # the link is on the page to copy
    return browser(), invitation


def test_a_partner_prepares_concepts_that_the_console_shows_live(app, browser):
    w = gen_workshop()
    partner, invitation = invited(browser, w)
    page = partner.http.get(f"/p/{invitation.token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in page.headers["Cache-Control"]
    assert stage_of(w, "concepts").title in html and stage_of(w, "drafts").title in html
    assert stage_of(w, "trend").title not in html  # only the stages a partner prepares
    owner = browser()
    owner.login()
    console = owner.socket(w.code, "console")
    console.get_received()
    concepts = stage_of(w, "concepts")
    r = partner.http.post(f"/p/{invitation.token}/stages/{concepts.id}/items", data={
        "title": "Ask three questions", "message": "Ask before you sign", "image": (png(), "poster.png")},
        content_type="multipart/form-data")
    assert r.status_code == 302
    assert r.headers["Location"].endswith(f"/p/{invitation.token}#stage-{concepts.id}")
    item = db.session.scalar(select(Item).filter_by(stage_id=concepts.id))
    assert item.field("prepared_by") == "Studio North" and item.image and item.participant_id is None
    assert views(console), "the console refreshed"
    # The partner corrects it before the stage starts; the image stays.
    image = item.image["name"]
    r = partner.http.post(f"/p/{invitation.token}/items/{item.id}", data={
        "title": "Ask three questions", "message": "Ask three questions before you sign"})
    assert r.status_code == 302
    db.session.expire_all()
    assert (item.field("message"), item.image["name"]) == ("Ask three questions before you sign", image)
    phases.goto_stage(w, concepts.id)
    assert "Studio North" in screens(w)["console"]
    # Once the stage has started in the room its concepts are frozen for the partner, image included.
    r = partner.http.post(f"/p/{invitation.token}/items/{item.id}", data={
        "title": "Swapped", "message": "x", "image": (png(), "other.png")},
        content_type="multipart/form-data")
    assert r.status_code == 409 and "frozen" in r.get_data(as_text=True)
    r = partner.http.post(f"/p/{invitation.token}/stages/{concepts.id}/items",
                          data={"title": "Late", "message": "x"})
    assert r.status_code == 409
    db.session.expire_all()
    assert (item.title, item.image["name"]) == ("Ask three questions", image)
    assert "frozen" in partner.http.get(f"/p/{invitation.token}").get_data(as_text=True)


def test_a_refused_entry_is_shown_again_with_what_was_typed(app, browser):
    w = gen_workshop()
    partner, invitation = invited(browser, w)
    drafts = stage_of(w, "drafts")
    r = partner.http.post(f"/p/{invitation.token}/stages/{drafts.id}/items",
                          data={"title": "", "detail": "Radio script, 30 seconds, kept word for word"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and 'role="alert"' in html
    assert "Radio script, 30 seconds, kept word for word" in html  # nothing typed is lost
    assert db.session.scalar(select(Item).filter_by(stage_id=drafts.id)) is None


def test_a_partner_can_do_nothing_but_prepare(app, browser):
    w = gen_workshop()
    (idea,) = gen_ideas(w, "Phones at night")
    partner, invitation = invited(browser, w)
    token = invitation.token
    trend = stage_of(w, "trend")
    r = partner.http.post(f"/p/{token}/stages/{trend.id}/items", data={"title": "Planted idea"})
    assert r.status_code == 403
    r = partner.http.post(f"/p/{token}/items/{idea.id}", data={"title": "Rewritten"})
    assert r.status_code == 403 or "as they wrote them" in r.get_data(as_text=True)
    other = gen_workshop(gen_facilitator("other@example.org"), title="Someone else's")
    r = partner.http.post(f"/p/{token}/stages/{stage_of(other, 'concepts').id}/items",
                          data={"title": "Wrong place", "message": "x"})
    assert r.status_code == 404
    # The link opens no facilitator page, and no other workshop's partner page.
    assert partner.http.get(f"/w/{w.code}/console").status_code == 302
    assert partner.http.get(f"/w/{w.code}/partners").status_code == 302
    assert partner.http.get("/p/not-a-real-token").status_code == 404
    db.session.expire_all()
    assert idea.title == "Phones at night"
    assert "Planted idea" not in db.session.scalars(select(Item.title)).all()


def test_stopped_links_and_closed_workshops_refuse_and_only_the_owner_manages_links(app, browser):
    w = gen_workshop()
    partner, invitation = invited(browser, w)
    gen_facilitator("other@example.org")
    intruder = browser()
    intruder.login("other@example.org")
    assert intruder.http.get(f"/w/{w.code}/partners").status_code == 403
    assert intruder.http.post(f"/w/{w.code}/partners/{invitation.id}/revoke").status_code == 403
    owner = browser()
    owner.login()
    assert owner.http.post(f"/w/{w.code}/partners", data={"label": ""}).status_code == 400
    r = owner.http.post(f"/w/{w.code}/partners/{invitation.id}/revoke", follow_redirects=True)
    assert r.status_code == 200 and "no longer works" in r.get_data(as_text=True)
    r = partner.http.get(f"/p/{invitation.token}")
    assert r.status_code == 404 and "Ask the facilitator for a new one" in r.get_data(as_text=True)
    _, fresh = invited(browser, w, label="Studio South")
    owner.http.post(f"/w/{w.code}/status")  # close the workshop
    assert partner.http.get(f"/p/{fresh.token}").status_code == 410


def test_a_partner_page_shows_no_other_partners_label_and_no_hidden_item(app, browser):
    w = gen_workshop()
    north, north_link = invited(browser, w, "Studio North")
    south, south_link = invited(browser, w, "Agency South")
    concepts = stage_of(w, "concepts")
    for client, link, title in ((north, north_link, "North concept"), (south, south_link, "South concept"),
                                (south, south_link, "Withdrawn concept")):
        assert client.http.post(f"/p/{link.token}/stages/{concepts.id}/items",
                                data={"title": title, "message": "m"}).status_code == 302
    withdrawn = db.session.scalar(select(Item).filter_by(title="Withdrawn concept"))
    withdrawn.hidden = True
    db.session.commit()
    html = north.http.get(f"/p/{north_link.token}").get_data(as_text=True)
    assert "North concept" in html and "Studio North" in html and "South concept" in html
    assert "Agency South" not in html and "Another partner" in html
    assert "Withdrawn concept" not in html
    r = north.http.post(f"/p/{north_link.token}/items/{withdrawn.id}", data={"title": "Back", "message": "m"})
    assert r.status_code == 403
