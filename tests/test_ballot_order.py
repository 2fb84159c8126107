"""No position bias: every ballot (dots, ranks, ratings) lists its items in the phone's own shuffled
order, the same after a reload and in every way the phone gets it (socket push, sync, HTTP page);
the projector, console and report keep theirs. A workshop may switch it off."""
import re

import pytest

from tests.conftest import gen_workshop, views
from workshop.extensions import db
from workshop.flow import agenda, phases
from workshop.models import Item, Participant
from workshop.stages import KINDS

ORDERED = re.compile(r'id="card-(\d+)"|data-rate-item="(\d+)"|data-item="(\d+)"')


def ballot(html: str) -> list[int]:
    """The item ids of a ballot, in the order the page lists them (first mention of each)."""
    seen = []
    for match in ORDERED.finditer(html):
        item_id = int(next(g for g in match.groups() if g))
        if item_id not in seen:
            seen.append(item_id)
    return seen


def _stage(w, key, n=8):
    stage = next((s for s in w.stages if s.kind == key), None) or agenda.add_stage(w, key)
    db.session.add_all(Item(stage_id=stage.id, title=f"Item {i} of {key}", data={}) for i in range(n))
    db.session.commit()
    phases.goto_stage(w, stage.id)
    phases.set_phase(w, stage.id, "vote")
    return stage


def _phones(browser, w, n):
    out = []
    for _ in range(n):
        phone = browser()
        assert phone.join(w.code, group=w.groups[0]).status_code == 200
        out.append((phone, phone.socket(w.code, "phone")))
    return out


@pytest.mark.parametrize("key", sorted(k for k in KINDS if KINDS[k].shuffles))
def test_each_phone_sees_its_own_stable_order_and_the_room_keeps_its_own(app, browser, key):
    w = gen_workshop()
    stage = _stage(w, key)
    ids = [i.id for i in stage.items]
    phones = _phones(browser, w, 7)
    orders = []
    for phone, sock in phones:
        order = ballot(sock.emit("sync", {}, callback=True)["view"]["html"])
        assert sorted(order) == sorted(ids), "every item, once"
        assert ballot(phone.http.get(f"/j/{w.code}").get_data(as_text=True)) == order  # the page, reloaded
        again = phone.socket(w.code, "phone")  # a new connection (a reload): the same order
        assert ballot(again.emit("sync", {}, callback=True)["view"]["html"]) == order
        orders.append(order)
    assert len({tuple(o) for o in orders}) > 1, "phones do not all share one order"
    assert any(o != ids for o in orders)
    # A facilitator's move pushes each phone its view in its own order.
    console = browser()
    console.login()
    console_sock = console.socket(w.code, "console")
    for _phone, sock in phones:
        sock.get_received()
    assert console_sock.emit("timer:start", {"seconds": 60}, callback=True)["ok"]
    for (_phone, sock), order in zip(phones, orders, strict=True):
        assert ballot(views(sock)[-1]["html"]) == order
    projector = browser()
    projector.login()
    html = projector.socket(w.code, "projector").emit("sync", {}, callback=True)["view"]["html"]
    assert ballot(html) in ([], ids)  # the projector lists in its order, if it lists at all
    people = Participant.query.count()
    assert people == 7


def test_a_workshop_can_switch_shuffling_off(app, browser):
    w = gen_workshop()
    stage = _stage(w, "trend")
    w.shuffle_ballots = False
    db.session.commit()
    ids = [i.id for i in stage.items]
    for _phone, sock in _phones(browser, w, 4):
        assert ballot(sock.emit("sync", {}, callback=True)["view"]["html"]) == ids


def test_only_an_open_ballot_is_shuffled(app, browser):
    """Collecting ideas, results and decisions list the room's order on every phone."""
    w = gen_workshop()
    stage = _stage(w, "trend")
    phases.set_phase(w, stage.id, "collect")
    (_phone, sock), = _phones(browser, w, 1)
    html = sock.emit("sync", {}, callback=True)["view"]["html"]
    assert ballot(html) in ([], [i.id for i in stage.items])
