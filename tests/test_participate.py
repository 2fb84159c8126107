"""Phones: enter a code, join with a group, stay the same participant."""
from tests.conftest import gen_workshop
from workshop.models import Participant


def test_enter_code_redirects_and_wrong_code_says_so(client):
    w = gen_workshop()
    r = client.post("/", data={"code": w.code.lower()})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/j/{w.code}")
    html = client.post("/", data={"code": "ZZZ ZZZ"}).get_data(as_text=True)
    assert "No workshop has the code ZZZZZZ" in html


def test_short_url_leads_to_the_join_page(client):
    w = gen_workshop()
    assert client.get(f"/{w.code}").headers["Location"].endswith(f"/j/{w.code}")
    assert client.get("/login").status_code == 200  # not swallowed by the short URL


def test_join_page_lists_groups_and_hides_the_name_field_when_anonymous(client):
    w = gen_workshop()
    html = client.get(f"/j/{w.code}").get_data(as_text=True)
    assert all(f'value="{g}"' in html for g in w.groups)
    assert 'name="name"' not in html and "anonymous" in html
    named = gen_workshop(w.facilitator, title="Named", collect_names=True)
    assert 'name="name"' in client.get(f"/j/{named.code}").get_data(as_text=True)


def test_join_then_reload_keeps_the_same_participant(client):
    w = gen_workshop()
    r = client.post(f"/j/{w.code}", data={"group": "Youth"})
    assert r.status_code == 302
    page = client.get(f"/j/{w.code}").get_data(as_text=True)
    assert 'data-role="phone"' in page and "Youth" in page
    client.post(f"/j/{w.code}", data={"group": "Government"})  # changing group, not a new person
    assert Participant.query.count() == 1 and Participant.query.one().group == "Government"
    other_phone = client.application.test_client()
    other_phone.post(f"/j/{w.code}", data={"group": "Youth"})
    assert Participant.query.count() == 2


def test_join_refuses_a_group_not_offered(client):
    w = gen_workshop()
    r = client.post(f"/j/{w.code}", data={"group": "Hackers"})
    assert r.status_code == 200 and "Choose your stakeholder group" in r.get_data(as_text=True)
    assert Participant.query.count() == 0


def test_unknown_code_page_is_a_clear_404(client):
    r = client.get("/j/ZZZZZZ")
    assert r.status_code == 404 and "No workshop has the code" in r.get_data(as_text=True)
