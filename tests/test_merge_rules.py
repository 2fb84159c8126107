"""Merging is the server's rule, whatever a screen sends: every kind x merge over Socket.IO, and undo.

A console socket may send `item:merge` for any stage; the kind decides (`mergeable`, `can_merge`),
and a refusal says so and changes nothing. A merge is recorded, so undoing it puts every dot and
rank back where it was (within the kind's rules for what changed since).
"""

import pytest

from tests.conftest import gen_workshop
from tests.stages.test_kinds import stage_in_vote
from workshop.extensions import db
from workshop.flow import phases
from workshop.models import Item, Participant
from workshop.stages import KINDS


def _room(browser, w):
    console = browser()
    console.login()
    phone = browser()
    assert phone.join(w.code, group=w.groups[0]).status_code == 200
    return console.socket(w.code, "console"), phone, phone.socket(w.code, "phone")


def _voted_stage(w, key, n_items=2):
    """A stage of kind `key` in its vote with `n_items` prepared items."""
    stage, items, module = stage_in_vote(
        w, key, [f"{key} item {n} " + "with a long title " * 5 for n in range(n_items)])
    return stage, items, module.sample_vote


def _mine(sock):
    reply = sock.emit("sync", {}, callback=True)
    return reply.get("mine")


@pytest.mark.parametrize("key", sorted(KINDS))
def test_every_kind_merges_only_by_its_own_rule_over_a_socket(app, browser, key):
    w = gen_workshop()
    stage, (source, target), sample = _voted_stage(w, key)
    console, phone, phone_sock = _room(browser, w)
    for n, item in enumerate((source, target)):
        reply = phone_sock.emit("vote", {"cid": f"{key}-merge-{n:04d}", **sample(item.id, n)}, callback=True)
        assert reply["ok"], reply
    before = _mine(phone_sock)
    # A phone may never merge, whatever the kind.
    reply = phone_sock.emit("item:merge", {"source_id": source.id, "target_id": target.id}, callback=True)
    assert not reply.get("ok")
    reply = console.emit("item:merge", {"source_id": source.id, "target_id": target.id}, callback=True)
    kind = KINDS[key]
    db.session.expire_all()
    if kind.mergeable:
        assert reply["ok"], reply
        assert db.session.get(Item, source.id).merged_into_id == target.id
        assert _mine(phone_sock) != before
        assert phone.http.get(f"/j/{w.code}").status_code == 200
        reply = console.emit("item:unmerge", {"item_id": source.id}, callback=True)
        assert reply["ok"], reply
        db.session.expire_all()
        assert db.session.get(Item, source.id).merged_into_id is None
        assert _mine(phone_sock) == before  # every dot and rank back where it was
        assert "merge" not in db.session.get(Item, source.id).data
    else:
        assert reply["ok"] is False and str(kind.label) in reply["error"], reply
        assert db.session.get(Item, source.id).merged_into_id is None
        assert _mine(phone_sock) == before
        reply = console.emit("item:unmerge", {"item_id": source.id}, callback=True)
        assert reply["ok"] is False and "not merged" in reply["error"]
    # Every screen still draws, the phone page too.
    assert phone.http.get(f"/j/{w.code}").status_code == 200
    assert console.emit("sync", {}, callback=True)["view"]["html"]


@pytest.mark.parametrize("key", sorted(k for k in KINDS if KINDS[k].mergeable))
def test_no_merge_and_no_undo_once_voting_has_closed(app, browser, key):
    w = gen_workshop()
    stage, (a, b, c), _sample = _voted_stage(w, key, 3)
    console, _phone, _sock = _room(browser, w)
    assert console.emit("item:merge", {"source_id": a.id, "target_id": b.id}, callback=True)["ok"]
    phases.set_phase(w, stage.id, "results")
    reply = console.emit("item:merge", {"source_id": c.id, "target_id": b.id}, callback=True)
    assert reply["ok"] is False and "closed" in reply["error"]
    reply = console.emit("item:unmerge", {"item_id": a.id}, callback=True)
    assert reply["ok"] is False and "closed" in reply["error"]


def test_undoing_a_merge_of_dots_gives_back_what_the_duplicate_brought(app, browser):
    """Dots: a phone with dots on both gets them split back; one taken off since comes off the duplicate's."""
    w = gen_workshop()
    stage, (a, b, c), _sample = _voted_stage(w, "trend", 3)
    console, phone, sock = _room(browser, w)
    for n, (item, dots) in enumerate(((a, 2), (b, 1))):
        vote = {"cid": f"dots-{n:05d}", "item_id": item.id, "dots": dots}
        assert sock.emit("vote", vote, callback=True)["ok"]
    assert console.emit("item:merge", {"source_id": c.id, "target_id": b.id}, callback=True)["ok"]  # c into b
    assert console.emit("item:merge", {"source_id": a.id, "target_id": b.id}, callback=True)["ok"]
    assert _mine(sock)["dots"] == {str(b.id): 3}
    reply = console.emit("item:unmerge", {"item_id": a.id}, callback=True)
    assert reply["ok"], reply
    assert _mine(sock)["dots"] == {str(a.id): 2, str(b.id): 1}
    assert console.emit("item:merge", {"source_id": a.id, "target_id": b.id}, callback=True)["ok"]
    assert sock.emit("vote", {"cid": "dots-00007", "item_id": b.id, "dots": 2}, callback=True)["ok"]
    assert console.emit("item:unmerge", {"item_id": a.id}, callback=True)["ok"]
    assert _mine(sock)["dots"] == {str(a.id): 2}  # never more than the phone holds now
    db.session.expire_all()
    # the idea merged into the duplicate earlier is still recorded under the survivor it went to
    assert db.session.get(Item, c.id).merged_into_id == b.id
    assert phone.http.get(f"/j/{w.code}").status_code == 200


def test_undoing_a_rank_merge_never_gives_a_rank_twice(app, browser):
    """Ranking: both ranks come back when the freed one is still free; a rank given away since is not."""
    w = gen_workshop()
    stage, (a, b, c), _sample = _voted_stage(w, "audience", 3)
    console, _phone, sock = _room(browser, w)
    for n, (item, place) in enumerate(((a, 1), (b, 2))):
        vote = {"cid": f"rank-{n:05d}", "item_id": item.id, "value": place}
        assert sock.emit("vote", vote, callback=True)["ok"]
    before = _mine(sock)
    assert console.emit("item:merge", {"source_id": b.id, "target_id": a.id}, callback=True)["ok"]
    assert console.emit("item:unmerge", {"item_id": b.id}, callback=True)["ok"]
    assert _mine(sock) == before
    # Merge again; the phone gives the freed rank 2 to c; undo cannot give rank 2 to b as well.
    assert console.emit("item:merge", {"source_id": b.id, "target_id": a.id}, callback=True)["ok"]
    assert sock.emit("vote", {"cid": "rank-00009", "item_id": c.id, "value": 2}, callback=True)["ok"]
    assert console.emit("item:unmerge", {"item_id": b.id}, callback=True)["ok"]
    choices = _mine(sock)["choices"]
    assert sorted(choices.values()) == [1, 2] and choices[f"{a.id}:"] == 1
    assert Participant.query.count() == 1
