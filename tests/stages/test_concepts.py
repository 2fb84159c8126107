"""Review concepts: uploads with verified images, 1-5 ratings on five criteria, tagged comments, focus."""
import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.conftest import (
    add_comment,
    add_item,
    cast_vote,
    decide,
    edit_item,
    gen_facilitator,
    gen_ideas,
    gen_participant,
    gen_workshop,
    goto,
    screens,
)
from workshop.errors import Refused
from workshop.extensions import db
from workshop.flow import phases
from workshop.models import Comment, Item, Vote
from workshop.stages import kind_of


def sample_vote(item_id: int, n: int) -> dict:
    """A vote on the n-th of two items, for the family tests of every kind (test_kinds.py)."""
    return {"item_id": item_id, "criterion": "clear", "value": 4 - n}


def sample_comment(item_id: int, n: int) -> dict:
    """A comment on an item, for the family tests of every kind that takes comments (test_kinds.py)."""
    return {"item_id": item_id, "tag": ("keep", "change", "concern")[n % 3], "text": f"Comment {n}"}



def png(width=1200, height=800, fmt="PNG", color=(200, 80, 40)) -> io.BytesIO:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, fmt)
    buf.seek(0)
    return buf


def concept(w, title, image=None, **fields):
    stage = next(s for s in w.stages if s.kind == "concepts")
    payload = {"stage_id": stage.id, "title": title, "message": f"{title}: ask before you go",
               "detail": "A poster series", "channel": "Posters, TikTok", **fields}
    return add_item(w, None, payload, upload=image)


@pytest.fixture
def rating(app):
    w = gen_workshop()
    a = concept(w, "Check the job", png())
    b = concept(w, "Your passport is yours")
    stage = goto(w, "concepts", "vote")
    return w, stage, a, b


def rate(w, person, item, criterion, value, cid):
    return cast_vote(w, person, {"cid": cid, "item_id": item.id, "criterion": criterion, "value": value})


def test_concepts_are_prepared_before_the_stage_with_a_reencoded_image(app):
    w = gen_workshop()
    item = concept(w, "Check the job", png(3000, 2000, "JPEG"))
    assert item.stage.phase == "pending"
    image = item.image
    assert image["ext"] == "jpg" and image["width"] == 3000 and image["widths"] == [800, 1600]
    with Image.open(app.config["UPLOAD_DIR"] + f"/{image['name']}-1600.jpg") as stored:
        assert stored.size == (1600, 1067)


@pytest.mark.parametrize("data, message", [
    (b"GIF89a not really", "not a readable image"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "not a readable image"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "not a readable image"),
])
def test_fake_images_are_refused_and_nothing_is_stored(app, data, message):
    w = gen_workshop()
    with pytest.raises(Refused, match=message):
        concept(w, "Bad", io.BytesIO(data))
    assert db.session.scalar(select(func.count(Item.id)).where(Item.title == "Bad")) == 0


def test_gif_and_decompression_bombs_are_refused(app):
    w = gen_workshop()
    with pytest.raises(Refused, match="PNG, JPEG or WebP"):
        concept(w, "Gif", png(10, 10, "GIF"))
    bomb = io.BytesIO()
    Image.new("1", (10000, 10000)).save(bomb, "PNG")  # 100 megapixels in a few kB
    bomb.seek(0)
    assert len(bomb.getvalue()) < 100_000
    with pytest.raises(Refused, match="too large"):
        concept(w, "Bomb", bomb)


def test_upload_route_checks_owner_size_and_type(app, client, browser):
    w = gen_workshop()
    stage = next(s for s in w.stages if s.kind == "concepts")
    owner = browser()
    owner.login()
    url = f"/w/{w.code}/stages/{stage.id}/items"
    ok = owner.http.post(url, headers={"Accept": "application/json"}, data={
        "title": "Ask first", "message": "Ask three questions", "image": (png(), "poster.png")},
        content_type="multipart/form-data")
    assert ok.status_code == 200 and ok.json["ok"]
    bad = owner.http.post(url, headers={"Accept": "application/json"}, data={
        "title": "Script", "message": "x", "image": (io.BytesIO(b"#!/bin/sh\nrm -rf /"), "../../evil.png")},
        content_type="multipart/form-data")
    assert bad.status_code == 415 and "not a readable image" in bad.json["error"]
    missing = owner.http.post(url, headers={"Accept": "application/json"}, data={"title": "No message"})
    assert missing.status_code == 400 and "Key message" in missing.json["error"]
    gen_facilitator("other@example.org")
    other = browser()
    other.login("other@example.org")
    r = other.http.post(url, data={"title": "Intruder", "message": "x"})
    assert r.status_code == 403, r.headers
    names = db.session.scalars(select(Item.title).where(Item.stage_id == stage.id)).all()
    assert names == ["Ask first"]
    item = db.session.scalar(select(Item).where(Item.title == "Ask first"))
    media = client.get(f"/media/{item.image['name']}-800.png")
    assert media.status_code == 200 and media.mimetype == "image/png"
    assert media.headers["X-Content-Type-Options"] == "nosniff" and "sandbox" in media.headers[
        "Content-Security-Policy"]
    media.close()
    assert client.get("/media/..%2Fsecret_key").status_code == 404
    assert client.get("/media/abc-800.svg").status_code == 404


def test_ratings_per_criterion_are_stored_once_and_refused_out_of_range(rating):
    w, stage, a, b = rating
    me = gen_participant(w)
    rate(w, me, a, "clear", 4, "cid-00001")
    mine = rate(w, me, a, "clear", 5, "cid-00002")  # changing one's mind
    rate(w, me, a, "clear", 5, "cid-00002")  # replay
    mine = rate(w, me, a, "action", 2, "cid-00003")
    assert mine["choices"] == {f"{a.id}:clear": 5, f"{a.id}:action": 2}
    for bad in ({"item_id": a.id, "criterion": "clear", "value": 6},
                {"item_id": a.id, "criterion": "clear", "value": 0},
                {"item_id": a.id, "criterion": "beauty", "value": 3},
                {"item_id": a.id, "value": 3}):
        with pytest.raises(Refused):
            cast_vote(w, me, {"cid": "cid-00009", **bad})
    assert db.session.scalar(select(func.count(Vote.id))) == 2


def test_results_average_each_criterion_with_counts(rating):
    w, stage, a, b = rating
    p1, p2 = gen_participant(w, group="Youth"), gen_participant(w, group="Government")
    rate(w, p1, a, "clear", 5, "cid-00001")
    rate(w, p2, a, "clear", 3, "cid-00002")
    rate(w, p2, a, "appealing", 4, "cid-00003")
    rows = {r.item_id: r for r in kind_of(stage).results(stage)}
    assert rows[a.id].detail["clear"] == (4.0, 2) and rows[a.id].detail["appealing"] == (4.0, 1)
    assert rows[a.id].count == 2 and rows[a.id].by_group == {"Youth": 5.0, "Government": 3.5}
    assert rows[b.id].count == 0
    phases.reveal(w, stage.id)
    html = screens(w)["projector"]
    assert "4.0" in html and "Culturally fitting" in html and "2 rated" in html


def test_comments_are_tagged_idempotent_and_only_while_voting(rating):
    w, stage, a, _b = rating
    me = gen_participant(w)
    payload = {"cid": "com-00001", "item_id": a.id, "tag": "change", "text": "Use a local face"}
    add_comment(w, me, payload)
    add_comment(w, me, payload)
    for bad in ({"cid": "com-00002", "item_id": a.id, "tag": "love", "text": "x"},
                {"cid": "com-00003", "item_id": a.id, "tag": "keep", "text": "  "},
                {"cid": "com-00004", "item_id": a.id, "tag": "keep", "text": "x" * 1001}):
        with pytest.raises(Refused):
            add_comment(w, me, bad)
    assert db.session.scalar(select(func.count(Comment.id))) == 1
    assert kind_of(stage).mine(stage, me)["comments"] == [
        {"item_id": a.id, "tag": "change", "text": "Use a local face"}]
    html = screens(w)
    assert "Use a local face" in html["console"] and "Use a local face" not in html["projector"]
    phases.reveal(w, stage.id)
    with pytest.raises(Refused, match="closed"):
        add_comment(w, me, {**payload, "cid": "com-00005"})


def test_focus_puts_one_concept_on_every_screen(rating):
    w, stage, a, b = rating
    html = screens(w)
    assert "Concept 1 of 2" in html["phone"] and "Your passport is yours" in html["phone"]
    phases.focus(w, stage.id, b.id)
    html = screens(w)
    assert "Concept 1 of 2" not in html["phone"] and "Check the job" not in html["phone"]
    assert "Your passport is yours" in html["projector"] and "Let phones browse" in html["console"]
    phases.focus(w, stage.id, None)
    assert "Concept 1 of 2" in screens(w)["phone"]


def test_images_are_on_phone_and_projector_in_two_sizes(rating):
    w, _stage, a, _b = rating
    html = screens(w)
    name = a.image["name"]
    for audience in ("phone", "projector"):
        assert f"/media/{name}-800.png 800w" in html[audience] and f"/media/{name}-1600.png 1200w" in html[
            audience]


def test_decision_picks_one_concept_or_a_combination(rating):
    w, stage, a, b = rating
    phases.reveal(w, stage.id)
    decide(w, stage, item_ids=[a.id, b.id], rationale="Combine the two: the face of one, the words of other")
    assert stage.decision == {"item_ids": [a.id, b.id]} and stage.phase == "decided"


def test_a_prepared_concept_is_corrected_and_its_image_replaced(app, client, browser):
    w = gen_workshop()
    first = concept(w, "Ask frist", image=png())
    old_files = [f"{first.image['name']}-{width}.png" for width in (800, 1600)]
    owner = browser()
    owner.login()
    url = f"/w/{w.code}/items/{first.id}"
    r = owner.http.post(url, headers={"Accept": "application/json"}, data={
        "title": "Ask first", "message": "Ask before you go", "channel": "Posters",
        "image": (png(color=(20, 90, 200)), "v2.png")}, content_type="multipart/form-data")
    assert r.status_code == 200 and r.json == {"ok": True, "item": {"id": first.id, "title": "Ask first"}}
    db.session.expire_all()
    item = db.session.get(Item, first.id)
    assert (item.title, item.field("message"), item.field("channel")) == (
        "Ask first", "Ask before you go", "Posters")
    assert item.image["name"] != old_files[0].rsplit("-", 1)[0]
    assert all(client.get(f"/media/{name}").status_code == 404 for name in old_files)  # old files gone
    new = client.get(f"/media/{item.image['name']}-800.png")
    assert new.status_code == 200
    new.close()
    # The console lists it with an edit form filled with its current values.
    goto(w, "concepts")
    console = screens(w)["console"]
    assert f'action="/w/{w.code}/items/{first.id}"' in console and 'value="Ask before you go"' in console


def test_editing_refuses_bad_input_phones_words_and_other_facilitators(app, browser):
    w = gen_workshop()
    item = concept(w, "Ask first", image=png())
    name = item.image["name"]
    owner = browser()
    owner.login()
    url = f"/w/{w.code}/items/{item.id}"
    empty = owner.http.post(url, headers={"Accept": "application/json"}, data={"title": "", "message": "x"})
    assert empty.status_code == 400 and "Give the concept a name" in empty.json["error"]
    bad = owner.http.post(url, headers={"Accept": "application/json"}, data={
        "title": "New", "message": "x", "image": (io.BytesIO(b"<svg/>"), "x.png")},
        content_type="multipart/form-data")
    assert bad.status_code == 415
    gen_facilitator("other@example.org")
    other = browser()
    other.login("other@example.org")
    assert other.http.post(url, data={"title": "Mine now", "message": "x"}).status_code == 403
    db.session.expire_all()
    kept = db.session.get(Item, item.id)
    assert (kept.title, kept.image["name"]) == ("Ask first", name)  # nothing changed
    # What a phone wrote stays as written.
    (idea,) = gen_ideas(w, "Phones at night")
    with pytest.raises(Refused, match="as they wrote them"):
        edit_item(w, idea.id, {"title": "Something else"})


def test_group_means_are_rounded_once_the_same_on_every_channel(rating):
    """63/20 = 3.15 is 3.2 and 236/75 = 3.1467 is 3.1 on console, projector, phone and report (the PDF's
    HTML); a concept nobody rated shows a dash, never a mean of 0.0."""
    import re

    from workshop import report
    w, stage, a, b = rating
    crits = [key for key, _label in kind_of(stage).criteria]
    n = 0
    for group, values in (("Youth", [3] * 17 + [4] * 3), ("Government", [3] * 64 + [4] * 11)):
        for start in range(0, len(values), 5):
            person = gen_participant(w, group=group)
            for crit, value in zip(crits, values[start:start + 5], strict=True):
                n += 1
                rate(w, person, a, crit, value, f"cid-{n:05d}")
    events_settings = {"stage_id": stage.id, "show_groups": True}
    from tests.actions import update_settings
    update_settings(w, events_settings)
    phases.reveal(w, stage.id)
    shown = screens(w)
    shown["report"] = report.render_html(w)
    for channel in ("console", "projector"):
        html = re.sub(r"\s+", " ", shown[channel])
        assert "<span>Youth</span> 3.2<" in html and "<span>Government</span> 3.1<" in html, channel
        assert "3.15" not in html and "3.147" not in html, channel
    for channel in ("console", "projector", "phone", "report"):
        html = shown[channel]
        assert "3.1" in html, channel  # overall: 299/95 = 3.147
        assert not re.search(r">\s*0\.0\s*<", html), channel  # the concept nobody rated
        assert "–" in html, channel
    html = re.sub(r"\s+", " ", shown["report"])
    row = re.search(r"<tr><th scope=\"row\" class=\"name\">Check the job</th>(.*?)</tr>", html).group(1)
    assert re.findall(r"<td[^>]*>([^<]*)</td>", row) == ["3.1", "3.1", "3.2"]  # all, Government, Youth
