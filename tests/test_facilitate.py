"""Facilitator pages: own workshops only, creation form, console, closing, QR."""
from tests.conftest import gen_facilitator, gen_workshop
from workshop.models import Workshop


def login(client, email="fac@example.org"):
    client.post("/login", data={"email": email, "password": "correct horse battery"})


def test_pages_need_a_login(client, app):
    w = gen_workshop()
    for url in ("/workshops", "/workshops/new", f"/w/{w.code}/console", f"/w/{w.code}/present",
                f"/w/{w.code}/qr.svg"):
        r = client.get(url)
        assert r.status_code == 302 and "/login" in r.headers["Location"], url


def test_a_facilitator_sees_only_their_own_workshops(client):
    mine = gen_workshop(title="Mine")
    theirs = gen_workshop(gen_facilitator("other@example.org"), title="Theirs")
    login(client)
    html = client.get("/workshops").get_data(as_text=True)
    assert "Mine" in html and "Theirs" not in html
    assert client.get(f"/w/{mine.code}/console").status_code == 200
    for url in (f"/w/{theirs.code}/console", f"/w/{theirs.code}/present", f"/w/{theirs.code}/qr.svg"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/w/{theirs.code}/status").status_code == 403


def test_create_workshop_with_groups_and_names_setting(client):
    gen_facilitator()
    login(client)
    form = client.get("/workshops/new").get_data(as_text=True)
    assert "Government\nCivil society\nUN / donor\nCreative partner\nYouth\nOther" in form
    r = client.post("/workshops/new", data={
        "title": "Campus safety", "topic": "Campus sexual violence", "description": "",
        "groups": "Students\n  Staff \n\nStudents\nCampus police", "collect_names": "y"})
    assert r.status_code == 302
    w = Workshop.query.filter_by(title="Campus safety").one()
    assert w.groups == ["Students", "Staff", "Campus police"] and w.collect_names
    assert r.headers["Location"].endswith(f"/w/{w.code}/console")


def test_create_workshop_rejects_bad_input_visibly(client):
    gen_facilitator()
    login(client)
    r = client.post("/workshops/new", data={"title": "", "topic": "x" * 300, "groups": "\n \n"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and Workshop.query.count() == 0
    assert "Fill in this field" in html and "at least one stakeholder group" in html


def test_console_and_projector_pages_show_the_join_details(client):
    w = gen_workshop()
    login(client)
    console = client.get(f"/w/{w.code}/console").get_data(as_text=True)
    assert w.code in console and f"/{w.code}" in console
    projector = client.get(f"/w/{w.code}/present").get_data(as_text=True)
    assert w.code in projector and "<svg" in projector and 'data-role="projector"' in projector
    svg = client.get(f"/w/{w.code}/qr.svg")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data


def test_closing_a_workshop_stops_its_code(client):
    w = gen_workshop()
    login(client)
    client.post(f"/w/{w.code}/status")
    assert not w.is_open
    assert client.get(f"/j/{w.code}").status_code == 410
    client.post(f"/w/{w.code}/status")
    assert w.is_open
