"""Every route that takes a workshop code goes through guard.workshop_route (sign-in, ownership, the
count of wrong codes), and the no-JavaScript phone routes with it."""
import pytest

from tests.conftest import gen_facilitator, gen_workshop


def test_every_route_that_takes_a_code_goes_through_the_one_guard(app):
    routes = [rule for rule in app.url_map.iter_rules() if "code" in rule.arguments]
    assert len(routes) >= 20  # the walk sees the whole map, not an empty one
    unguarded = [rule.rule for rule in routes
                 if not getattr(app.view_functions[rule.endpoint], "workshop_route", False)]
    assert unguarded == []


@pytest.mark.parametrize("path", ["/j/ZZZZZZ/ballot", "/j/ZZZZZZ", "/ZZZZZZ"])
def test_wrong_codes_on_phone_routes_are_counted(client, path):
    from flask import current_app
    from limits import parse_many
    budget = parse_many(current_app.config["RATE_LIMITS"]["code_guesses"])[0].amount
    for _ in range(budget):
        assert client.get(path).status_code == 404
    assert client.get(path).status_code == 429


def test_wrong_codes_on_posted_phone_actions_are_counted(client):
    from flask import current_app
    from limits import parse_many
    budget = parse_many(current_app.config["RATE_LIMITS"]["code_guesses"])[0].amount
    for _ in range(budget):
        assert client.post("/j/ZZZZZZ/act", data={"event": "vote"}).status_code == 404
    assert client.post("/j/ZZZZZZ/act", data={"event": "vote"}).status_code == 429


def test_a_signed_in_facilitator_cannot_probe_others_items_and_stages(client):
    mine = gen_workshop()
    theirs = gen_workshop(gen_facilitator("other@example.org"), title="Theirs")
    client.post("/login", data={"email": "fac@example.org", "password": "correct horse battery"})
    stage = theirs.stages[2]
    for path in (f"/w/{theirs.code}/stages/{stage.id}/items", f"/w/{theirs.code}/items/1",
                 f"/w/{theirs.code}/partners"):
        assert client.post(path, data={"title": "x"}).status_code == 403, path
    assert client.get(f"/w/{mine.code}/console").status_code == 200
