"""Share links to the report (no account, revocable, expiring) and deleting a workshop with all its data."""
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.campaign_data import gen_campaign, gen_report, report_pdf
from tests.conftest import gen_facilitator, gen_workshop
from workshop import create_app
from workshop.extensions import db
from workshop.models import (
    Comment,
    Invitation,
    Item,
    Participant,
    Report,
    ShareLink,
    Stage,
    Vote,
    Workshop,
    utcnow,
)


@pytest.fixture(autouse=True)
def reports(app, tmp_path):
    """Keep this test's report files in its own folder."""
    app.config["REPORT_DIR"] = str(tmp_path / "reports")


def login(client, email="fac@example.org"):
    client.post("/login", data={"email": email, "password": "correct horse battery"})


def make_link(client, w, label="Ministry of Labour", days=""):
    r = client.post(f"/w/{w.code}/share/links", data={"label": label, "days": days})
    assert r.status_code == 302, r.get_data(as_text=True)
    return db.session.scalars(select(ShareLink).order_by(ShareLink.id.desc())).first()


def test_a_share_link_serves_the_newest_report_without_an_account(app, client, browser):
    w = gen_workshop()
    old = gen_report(w)
    old.finished_at = utcnow() - timedelta(hours=1)
    gen_report(w, status="failed")  # a newer failed rendering is never served
    newest = gen_report(w)
    Path(app.config["REPORT_DIR"], old.pdf_file).write_bytes(b"%PDF-1.4 old")
    login(client)
    link = make_link(client, w, days="30")
    assert len(link.token) >= 40 and link.label == "Ministry of Labour"
    assert link.expires_at - utcnow() > timedelta(days=29)
    page = client.get(f"/w/{w.code}/share").get_data(as_text=True)
    assert f"/r/{link.token}" in page and "Ministry of Labour" in page

    partner = browser().http  # no account, no session
    r = partner.get(f"/r/{link.token}")
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data == report_pdf()
    assert r.headers["Cache-Control"] == "private, no-store"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert "Safe_migration_planning.pdf" in r.headers["Content-Disposition"]
    html = partner.get(f"/r/{link.token}/html")
    assert html.status_code == 200 and html.mimetype == "text/html" and b"Agreed strategy" in html.data
    assert "sandbox" in html.headers["Content-Security-Policy"]
    assert html.headers["Cache-Control"] == "private, no-store"
    assert newest.html_file in (Path(app.config["REPORT_DIR"]) / newest.html_file).name


@pytest.mark.parametrize("case", ["unknown", "revoked", "expired", "no report", "bad token", "no html"])
def test_a_dead_link_gets_one_friendly_404(app, client, browser, case):
    w = gen_workshop()
    if case != "no report":
        gen_report(w, html=(case != "no html"))
    login(client)
    link = make_link(client, w, days="1")
    token = link.token
    if case == "unknown":
        token = "A" * 43
    elif case == "bad token":
        token = "x'or'1'='1"
    elif case == "revoked":
        client.post(f"/w/{w.code}/share/links/{link.id}/revoke")
        assert link.revoked_at is not None
    elif case == "expired":
        link.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    url = f"/r/{token}/html" if case == "no html" else f"/r/{token}"
    r = browser().http.get(url)
    text = r.get_data(as_text=True)
    assert r.status_code == 404 and r.mimetype == "text/html"
    assert ("no web version" if case == "no html" else "This link does not work") in text
    assert r.headers["Cache-Control"] == "private, no-store" and r.headers["Referrer-Policy"] == "no-referrer"


def test_link_forms_are_validated_and_owner_only(app, client, browser):
    w = gen_workshop()
    login(client)
    r = client.post(f"/w/{w.code}/share/links", data={"label": "x" * 201, "days": "400"})
    assert r.status_code == 200 and ShareLink.query.count() == 0
    html = r.get_data(as_text=True)
    assert "Field cannot be longer than 200 characters" in html and "between 1 and 365" in html
    link = make_link(client, w)
    assert link.expires_at is None
    gen_facilitator("other@example.org")
    other = browser()
    other.login("other@example.org")
    assert other.http.post(f"/w/{w.code}/share/links", data={"label": "mine"}).status_code == 403
    assert other.http.post(f"/w/{w.code}/share/links/{link.id}/revoke").status_code == 403
    theirs = gen_workshop(gen_facilitator("third@example.org"))
    other_link = ShareLink(workshop=theirs)
    db.session.add(other_link)
    db.session.commit()
    # The owner of w cannot revoke another workshop's link through w's address.
    assert client.post(f"/w/{w.code}/share/links/{other_link.id}/revoke").status_code == 404
    assert other_link.revoked_at is None and ShareLink.query.count() == 2


def table_counts():
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m))
            for m in (Workshop, Stage, Participant, Item, Vote, Comment, Report, ShareLink, Invitation)}


def test_deleting_a_workshop_removes_rows_files_and_its_code(app, client, browser):
    keep, _people, _counts = gen_campaign(gen_facilitator("keep@example.org"))  # someone else's, untouched
    keep_report = gen_report(keep)
    w, _people, _counts = gen_campaign(gen_facilitator())
    gen_report(w)
    db.session.add(ShareLink(workshop=w))
    db.session.add(Invitation(workshop=w, label="Studio North"))
    db.session.commit()
    code, wid = w.code, w.id
    uploads, reports = Path(app.config["UPLOAD_DIR"]), Path(app.config["REPORT_DIR"])
    mine = {p.name for p in uploads.iterdir()} - set()
    image = next(i.image for s in w.stages for i in s.items if i.image)
    assert (uploads / f"{image['name']}-800.png").exists()
    report_files = {r.pdf_file for r in w.reports} | {r.html_file for r in w.reports}
    assert all((reports / name).exists() for name in report_files)
    before = table_counts()

    phone = browser()
    assert 'data-role="phone"' in phone.join(code).get_data(as_text=True)
    live = phone.socket(code, "phone")
    assert live.is_connected()
    login(client)
    r = client.post(f"/w/{code}/delete", data={"confirm": "WRONG1"})
    assert r.status_code == 200 and f"Type the workshop code {code} to confirm" in r.get_data(as_text=True)
    assert table_counts() == {**before, "Participant": before["Participant"] + 1}

    r = client.post(f"/w/{code}/delete", data={"confirm": f" {code.lower()} "})
    assert r.status_code == 302 and r.headers["Location"].endswith("/workshops")
    assert "all its data were deleted" in client.get("/workshops").get_data(as_text=True)
    after = table_counts()
    assert after == {"Workshop": 1, "Stage": 5, "Participant": 6, "Item": 14, "Vote": 20, "Comment": 3,
                     "Report": 1, "ShareLink": 0, "Invitation": 0}
    assert db.session.scalar(select(func.count()).select_from(Item).join(Stage).where(
        Stage.workshop_id == wid)) == 0
    # Files: this workshop's images and reports are gone, the other workshop's stay.
    assert not (uploads / f"{image['name']}-800.png").exists()
    assert not any((reports / name).exists() for name in report_files)
    assert (reports / keep_report.pdf_file).exists()
    keep_concept = next(i.image for s in keep.stages for i in s.items if i.image)
    keep_images = (keep.org_logo["name"], keep_concept["name"])
    assert {p.name for p in uploads.iterdir()} == {n for n in mine if n.startswith(keep_images)}
    assert len(mine) == 8  # two images (a concept, the cover logo) in two widths, per workshop
    # The code stops working: joining, the phone page, sockets, the console.
    assert not live.is_connected()
    assert phone.http.get(f"/j/{code}").status_code == 404
    assert phone.join(code).status_code == 404
    assert not phone.socket(code, "phone").is_connected()
    assert client.get(f"/w/{code}/console").status_code == 404
    assert client.get(f"/w/{keep.code}/console").status_code == 403  # still there, not ours


def test_delete_is_owner_only_and_needs_csrf(app, client, browser, tmp_path):
    w = gen_workshop()
    gen_facilitator("other@example.org")
    other = browser()
    other.login("other@example.org")
    assert other.http.post(f"/w/{w.code}/delete", data={"confirm": w.code}).status_code == 403
    phone = browser()
    phone.join(w.code)
    assert phone.http.post(f"/w/{w.code}/delete", data={"confirm": w.code}).status_code == 302  # to sign-in
    assert Workshop.query.count() == 1

    guarded = create_app(_config(tmp_path, WTF_CSRF_ENABLED=True))
    with guarded.app_context():
        from workshop.auth import create_facilitator
        user = create_facilitator("fac@example.org", "Fac", "correct horse battery")
        from workshop.flow import workshops
        target = workshops.create_workshop(user, title="Guarded", topic="t")
        c = guarded.test_client()
        page = c.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        c.post("/login", data={"email": "fac@example.org", "password": "correct horse battery",
                               "csrf_token": token})
        for url in (f"/w/{target.code}/delete", f"/w/{target.code}/share/links",
                    f"/w/{target.code}/share/send", "/workshops/import"):
            r = c.post(url, data={"confirm": target.code})
            assert r.status_code == 400 and "CSRF" in r.get_data(as_text=True), url
        assert db.session.scalar(select(func.count()).select_from(Workshop)) == 1
        db.session.remove()
        db.engine.dispose()


def _config(tmp_path, **overrides):
    import config
    return config.TestingConfig(DATABASE_URL=f"sqlite:///{tmp_path / 'guarded.db'}",
                                UPLOAD_DIR=str(tmp_path / "guarded-uploads"), **overrides)
