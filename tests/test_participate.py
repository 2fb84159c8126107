"""Phones: enter a code, join with a group, stay the same participant."""
from tests.conftest import gen_workshop
from workshop.models import Participant


def test_enter_code_redirects_and_wrong_code_says_so(client):
    w = gen_workshop()
    r = client.post("/", data={"code": w.code.lower()})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/j/{w.code}")
    html = client.post("/", data={"code": "ZZZ ZZZ"}).get_data(as_text=True)
    assert "No workshop has the code ZZZZZZ" in html


def test_short_url_is_the_join_page_itself_and_its_forms_post_to_the_join_url(client):
    w = gen_workshop()
    r = client.get(f"/{w.code}")  # the QR code's URL: no redirect, one request less per phone
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and all(f'value="{g}"' in html for g in w.groups)
    assert f'action="/j/{w.code}"' in html
    assert client.get("/login").status_code == 200  # not swallowed by the short URL
    assert client.post(f"/j/{w.code}", data={"group": "Youth"}).status_code == 200
    assert 'data-role="phone"' in client.get(f"/{w.code}").get_data(as_text=True)  # joined: the live page


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
    joined = r.get_data(as_text=True)  # the live page at once, not a redirect to it
    assert r.status_code == 200 and 'data-role="phone"' in joined and "Youth" in joined
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


def test_phones_share_the_page_but_each_gets_its_own_token_group_and_name(app):
    import re

    from workshop.flow import phases
    w = gen_workshop(title="Named", collect_names=True)
    phases.set_phase(w, w.current_stage.id, "collect")  # the phone's view has a form
    app.config["WTF_CSRF_ENABLED"] = True
    seen = []
    for name, group in (("Aino", "Youth"), ("<b>Bo</b>", "Government")):
        phone = app.test_client()
        with app.app_context():  # its own `g`, as on a server (the fixture's would keep one CSRF token)
            form = phone.get(f"/j/{w.code}").get_data(as_text=True)
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
            phone.post(f"/j/{w.code}", data={"group": group, "name": name, "csrf_token": token})
            page = phone.get(f"/j/{w.code}").get_data(as_text=True)
        assert re.search(r'name="csrf_token" value="([^"]+)"', page).group(1) == token
        seen.append((token, page))
    (first_token, first), (second_token, second) = seen
    assert first_token != second_token
    assert "Youth · Aino" in first and "Government" not in first
    assert "Government · &lt;b&gt;Bo&lt;/b&gt;" in second and "Aino" not in second
    assert "<!--fill:" not in first + second


def test_unknown_code_page_is_a_clear_404(client):
    r = client.get("/j/ZZZZZZ")
    assert r.status_code == 404 and "No workshop has the code" in r.get_data(as_text=True)


# --- the same actions as plain form posts (no JavaScript, or no socket) -------------------

def _form_tokens(html):
    """Return the client ids the server filled into a page's phone forms."""
    import re
    return re.findall(r'name="cid" value="([0-9a-f]+)"', html)


def test_phone_page_is_drawn_by_the_server_with_fresh_ids_per_form(client):
    from tests.conftest import gen_ideas
    from workshop.flow import phases
    w = gen_workshop()
    gen_ideas(w, "Recruiters at bus stations", "Fake visa agents")
    client.post(f"/j/{w.code}", data={"group": "Youth"})
    html = client.get(f"/j/{w.code}").get_data(as_text=True)
    assert 'id="idea-title"' in html and f'action="/j/{w.code}/act"' in html
    assert "__cid__" not in html and "__csrf__" not in html
    phases.set_phase(w, w.current_stage.id, "vote")
    html = client.get(f"/j/{w.code}").get_data(as_text=True)
    cids = _form_tokens(html)
    assert len(cids) == 2 and len(set(cids)) == 2  # one per dot form, never shared
    assert "Refresh to see the next step" in html


def test_form_posts_vote_with_the_socket_rules_once_per_form(client):
    from tests.conftest import gen_ideas
    from workshop.flow import phases
    from workshop.stages import kind_of
    w = gen_workshop()
    idea, _other = gen_ideas(w, "Recruiters at bus stations", "Fake visa agents")
    phases.set_phase(w, w.current_stage.id, "vote")
    client.post(f"/j/{w.code}", data={"group": "Youth"})
    me = Participant.query.filter_by(group="Youth").order_by(Participant.id.desc()).first()
    post = {"event": "vote", "item_id": idea.id, "step": "1", "cid": "form-000000001"}
    r = client.post(f"/j/{w.code}/act", data=post)
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/j/{w.code}#card-{idea.id}")
    client.post(f"/j/{w.code}/act", data=post)  # the same form sent twice (a double tap, a resend)
    stage = w.current_stage
    assert kind_of(stage).mine(stage, me)["dots"] == {idea.id: 1}
    client.post(f"/j/{w.code}/act", data={**post, "cid": "form-000000002"})
    client.post(f"/j/{w.code}/act", data={**post, "cid": "form-000000003"})
    html = client.post(f"/j/{w.code}/act", data={**post, "cid": "form-000000004"},
                       follow_redirects=True).get_data(as_text=True)
    assert "You have 0 of 3 dots left." in html and 'class="flash flash-error" role="alert"' in html
    assert kind_of(stage).mine(stage, me)["dots"] == {idea.id: 3}
    html = client.get(f"/j/{w.code}").get_data(as_text=True)
    assert f'data-dots-for="{idea.id}">3</output>' in html  # this phone's dots, drawn by the server


def test_form_posts_are_refused_clearly(client, app):
    from tests.conftest import gen_ideas
    w = gen_workshop()
    gen_ideas(w, "Recruiters at bus stations")
    act = f"/j/{w.code}/act"
    stranger = client.post(act, data={"event": "idea:add", "title": "x", "cid": "form-00000001"},
                           follow_redirects=True).get_data(as_text=True)
    assert "Join the workshop first." in stranger
    client.post(f"/j/{w.code}", data={"group": "Youth"})
    bad = client.post(f"/j/{w.code}/act", data={"event": "item:hide", "cid": "form-00000002"},
                      follow_redirects=True).get_data(as_text=True)
    assert "Invalid request." in bad  # only a phone's own three actions
    empty = client.post(f"/j/{w.code}/act", data={"event": "idea:add", "title": "", "cid": "form-00000003"},
                        follow_redirects=True).get_data(as_text=True)
    assert "flash-error" in empty
    app.config["RATE_LIMITS"] = {**app.config["RATE_LIMITS"], "ideas": "2 per minute"}
    for n in range(2):
        client.post(act, data={"event": "idea:add", "title": f"Idea {n}", "cid": f"form-1000000{n}"})
    html = client.post(act, data={"event": "idea:add", "title": "One too many", "cid": "form-10000009"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Too many in a short time" in html and "One too many" not in html


def test_form_posts_need_the_csrf_token(app):
    from tests.conftest import gen_ideas
    w = gen_workshop()
    gen_ideas(w, "Recruiters at bus stations")
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    page = client.get(f"/j/{w.code}").get_data(as_text=True)
    import re
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post(f"/j/{w.code}", data={"group": "Youth", "csrf_token": token})
    html = client.get(f"/j/{w.code}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    post = {"event": "idea:add", "title": "With a token", "cid": "form-00000001"}
    assert client.post(f"/j/{w.code}/act", data=post).status_code == 400
    r = client.post(f"/j/{w.code}/act", data={**post, "csrf_token": token}, follow_redirects=True)
    assert "Saved ✓" in r.get_data(as_text=True) and "With a token" in r.get_data(as_text=True)


def test_a_new_phones_join_page_is_the_drawn_one_in_one_statement_and_follows_every_change(app):
    """A join storm: after the first phone, each new phone gets the join page as drawn, with its own
    CSRF token, for one SQL statement (the workshop's head, no ORM load); a change of the workshop (its
    version), another language or URL draws it afresh; a phone that joined, posts or has a message
    waiting gets its own page; a closed workshop is refused, a safeguarding one is never cached."""
    import re

    from sqlalchemy import event

    from workshop.extensions import db
    from workshop.flow import workshops
    from workshop.flow.access import lock_workshop
    from workshop.models import Workshop
    app.config["WTF_CSRF_ENABLED"] = True
    w = gen_workshop(title="Before")
    token = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')

    def new_phone(url=f"/{w.code}", **headers):
        """A phone that never came: its join page, its CSRF token and the statements it cost."""
        statements, loads = [], []

        def count(*_args):
            statements.append(1)

        def loaded(*_args):
            loads.append(1)
        def traced(dbapi_connection, *_args):  # SQLite's own trace: SQLAlchemy's and batch.first's
            dbapi_connection.set_trace_callback(count)
        phone = app.test_client()
        event.listen(db.engine, "checkout", traced)
        event.listen(Workshop, "load", loaded)
        try:
            with app.app_context():  # its own `g`, as on a server
                r = phone.get(url, headers=headers)
        finally:
            event.remove(db.engine, "checkout", traced)
            event.remove(Workshop, "load", loaded)
            with app.app_context():
                connection = db.engine.raw_connection()
                connection.driver_connection.set_trace_callback(None)
                connection.close()
        html = r.get_data(as_text=True)
        found = token.search(html)
        return phone, r, html, found and found[1], (len(statements), len(loads))

    for url in (f"/{w.code}", f"/j/{w.code}"):
        _, _, first, first_token, _ = new_phone(url)  # each URL drawn once
        phone, r, html, own_token, statements = new_phone(url)
        assert statements == (1, 0) and own_token != first_token and "Before" in html  # no ORM load
        assert token.sub("", html) == token.sub("", first)  # the same page, its own token
        assert phone.post(f"/j/{w.code}", data={"group": "Youth", "csrf_token": own_token}).status_code == 200
        assert 'data-role="phone"' in phone.get(url).get_data(as_text=True)  # joined: its live page
    assert "Bli med" in new_phone(**{"Accept-Language": "nb-NO,nb;q=0.9"})[2]  # its language
    assert "Bli med" not in new_phone()[2]
    with app.app_context():
        lock_workshop(w)  # as every facilitator change: the version moves
        db.session.get(Workshop, w.id).title = "After"
        db.session.commit()
    assert "After" in new_phone()[2] and "Before" not in new_phone()[2]
    with app.test_client() as phone, app.app_context():  # a message waiting: drawn for it alone
        with phone.session_transaction() as session:
            session["_flashes"] = [("info", "A message for this phone")]
        assert "A message for this phone" in phone.get(f"/{w.code}").get_data(as_text=True)
    with app.app_context():
        workshops.set_open(db.session.get(Workshop, w.id), False)
    assert new_phone()[1].status_code == 410
    guarded = gen_workshop(w.facilitator, title="Guarded", safeguarding=True)
    for _ in range(2):
        assert new_phone(f"/{guarded.code}")[1].headers["Cache-Control"] == "no-store"
