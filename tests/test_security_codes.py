"""The code-guess budget (issue 17, items 2 and 3), walked over every route that takes a code.

Every rule of the URL map with a `code` argument is tried from its own address: wrong
codes are counted and, once the budget is spent, refused with 429 (unknown and other
people's codes alike); the right code still opens its page from that same address, so
one person on the venue NAT cannot lock a room out.
"""
import pytest

from tests.conftest import gen_facilitator, gen_ideas, gen_workshop

BUDGET = 3


@pytest.fixture
def small_budget(app):
    app.config["RATE_LIMITS"] = {**app.config["RATE_LIMITS"], "code_guesses": f"{BUDGET} per minute"}
    return app


def code_rules(app):
    return [rule for rule in app.url_map.iter_rules() if "code" in rule.arguments]


def url(rule, code: str, ids: dict) -> str:
    from flask import current_app
    args = {name: ids.get(name, 1) for name in rule.arguments if name != "code"}
    return current_app.url_map.bind("localhost").build(rule.endpoint, {"code": code, **args})


def request(client, rule, path, addr):
    method = "GET" if "GET" in rule.methods else "POST"
    return client.open(path, method=method, data={"title": "x"}, environ_base={"REMOTE_ADDR": addr})


def test_every_code_route_refuses_only_failures_once_the_budget_is_spent(small_budget, client):
    app = small_budget
    me = gen_facilitator()
    theirs = gen_workshop(gen_facilitator("other@example.org"), title="Theirs")
    client.post("/login", data={"email": "fac@example.org", "password": "correct horse battery"})
    rules = code_rules(app)
    assert len(rules) >= 25
    for n, rule in enumerate(rules):
        mine = gen_workshop(me, title=f"Mine {n}")  # a fresh one: some routes close or delete it
        idea = gen_ideas(mine, "An idea")[0]
        ids = {"stage_id": mine.stages[0].id, "item_id": idea.id}
        addr = f"10.1.{n // 200}.{n % 200 + 1}"
        phone = rule.endpoint.startswith("participate.")  # any open workshop's code is right there
        for i in range(BUDGET):
            wrong = "ZZZZZZ" if i % 2 == 0 or phone else theirs.code  # unknown, or someone else's
            status = request(client, rule, url(rule, wrong, ids), addr).status_code
            assert status in (403, 404), (rule.rule, wrong, status)
        assert request(client, rule, url(rule, "ZZZZZZ", ids), addr).status_code == 429, rule.rule
        if not phone:
            assert request(client, rule, url(rule, theirs.code, ids), addr).status_code == 429, rule.rule
        right = request(client, rule, url(rule, mine.code, ids), addr).status_code
        # Only the code's own 404 is a refusal here: a route may 404 a stage or report it does not serve.
        # A phone route may answer 403 "join first" to a right code: not a guess, and not counted.
        refused = (403, 404, 429) if set(rule.arguments) == {"code"} else (403, 429)
        refused = (404, 429) if phone else refused
        assert right not in refused, (rule.rule, right)


def test_a_room_behind_one_address_still_joins_after_someone_spent_the_budget(small_budget, browser):
    w = gen_workshop()
    guesser = browser()
    for i in range(BUDGET + 5):
        guesser.http.get(f"/j/ZZZZ{i:02d}")
    assert guesser.http.get("/j/ZZZZZZ").status_code == 429
    for _ in range(5):  # new phones on the same NAT address, typing the right code
        phone = browser()
        assert phone.http.post("/", data={"code": w.code}).status_code == 302
        assert phone.http.post(f"/j/{w.code}", data={"group": w.groups[0]}).status_code == 200  # phone page
        assert phone.http.get(f"/j/{w.code}/ballot").status_code in (200, 302)
        assert phone.socket(w.code, "phone").is_connected()
    laptop = browser()
    laptop.login()
    for path in ("console", "present", "report"):
        assert laptop.http.get(f"/w/{w.code}/{path}").status_code == 200, path
    assert laptop.socket(w.code, "console").is_connected()
    assert not laptop.socket("ZZZZZZ", "console").is_connected()
