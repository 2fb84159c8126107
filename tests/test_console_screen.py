"""The console of every stage and phase: drawn, with its phase controls, the shortcuts it announces,
the phones' preview, and panels as tabs; the decision offers the items in ranked order with counts."""
import re

from tests.conftest import cast_vote, gen_ideas, gen_participant, gen_workshop, screens
from workshop.flow import phases


def test_every_stage_and_phase_draws_a_console_with_its_controls_and_tabs(app):
    w = gen_workshop()
    gen_ideas(w, "Alpha", "Beta", "Gamma")
    for stage in w.stages:
        phases.goto_stage(w, stage.id)
        for phase in ("collect", "vote", "results"):
            try:
                phases.set_phase(w, stage.id, phase)
            except Exception:  # noqa: BLE001 (a kind without this phase)
                continue
            html = screens(w)["console"]
            assert 'class="console-tabs"' in html and 'data-tab="notes"' in html, (stage.kind, phase)
            assert "<kbd>N</kbd>" in html and "data-preview" in html
            for target in re.findall(r'class="console-tabs".*?</nav>', html, re.S)[0].split('href="#')[1:]:
                assert f'id="{target.split(chr(34))[0]}"' in html  # every panel the bar names is there


def test_the_decision_lists_the_items_ranked_with_their_counts(app, client):
    w = gen_workshop()
    ideas = gen_ideas(w, "Least liked", "Most liked", "Middle")
    stage = w.stages[0]
    phases.set_phase(w, stage.id, "vote")
    for n, (idea, dots) in enumerate(((ideas[1], 3), (ideas[2], 2))):
        for p in range(2 - n):
            cast_vote(w, gen_participant(w), {"cid": f"v-{n}-{p}-000000", "item_id": idea.id, "dots": dots})
    phases.set_phase(w, stage.id, "results")
    html = screens(w)["console"]
    form = html[html.index('id="panel-decision"'):]
    order = re.findall(r'name="item_ids" value="(\d+)"', form)
    assert order == [str(ideas[1].id), str(ideas[2].id), str(ideas[0].id)]
    assert "score 6" in form and "score 2" in form


def test_the_phone_preview_is_the_room_s_phone_view_for_the_facilitator_only(app, client, browser):
    w = gen_workshop()
    phases.set_phase(w, w.stages[0].id, "collect")
    assert client.get(f"/w/{w.code}/preview").status_code in (302, 401, 403)
    laptop = browser()
    laptop.login()
    page = laptop.http.get(f"/w/{w.code}/preview")
    assert page.status_code == 200 and "Send idea" in page.get_data(as_text=True)
    assert page.headers["X-Frame-Options"] == "SAMEORIGIN" and "frame-ancestors 'self'" in page.headers[
        "Content-Security-Policy"]
    assert laptop.http.get(f"/w/{w.code}/console").headers["X-Frame-Options"] == "DENY"


def test_a_concept_nobody_rated_shows_no_mean_on_the_projector(app):
    from workshop.extensions import db
    from workshop.models import Item
    w = gen_workshop()
    stage = next(s for s in w.stages if s.kind == "concepts")
    rated, unrated = Item(stage_id=stage.id, title="Rated poster", data={}), Item(
        stage_id=stage.id, title="Poster nobody rated", data={})
    db.session.add_all([rated, unrated])
    db.session.commit()
    phases.goto_stage(w, stage.id)
    phases.set_phase(w, stage.id, "vote")
    cast_vote(w, gen_participant(w), {"cid": "rate-000000001", "item_id": rated.id, "criterion": "clear",
                                      "value": 4})
    phases.set_phase(w, stage.id, "results")
    phases.reveal(w, stage.id, True)
    html = screens(w)["projector"]
    row = html[html.index("Poster nobody rated"):].split("</tr>")[0]
    assert "0.0" not in row and "–" in row
