"""CSV zip and JSON export: every row present, formula-safe cells, names only when asked, owner only."""
import csv
import io
import json
import zipfile

import pytest

from tests.campaign_data import PEOPLE, gen_campaign
from tests.conftest import gen_facilitator, gen_workshop
from workshop.exports import safe_cell

FILES = {"stages.csv", "items.csv", "votes.csv", "ratings.csv", "comments.csv", "participants.csv",
         "groups.csv"}


def login(client, email="fac@example.org"):
    client.post("/login", data={"email": email, "password": "correct horse battery"})


def read_zip(data: bytes) -> dict[str, list[dict]]:
    """Open a CSV zip as Excel would: every file must start with the UTF-8 byte-order mark."""
    tables = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        for name in archive.namelist():
            raw = archive.read(name)
            assert raw.startswith(b"\xef\xbb\xbf"), name
            tables[name] = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    return tables


@pytest.fixture
def anonymous(app, client):
    w, people, counts = gen_campaign(named=False)
    login(client)
    r = client.get(f"/w/{w.code}/export.zip")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    assert f"charrette-{w.code}-data.zip" in r.headers["Content-Disposition"]
    assert "no-store" in r.headers["Cache-Control"]
    return w, counts, r.data


def test_the_zip_holds_every_item_vote_rating_and_comment(anonymous):
    w, counts, data = anonymous
    tables = read_zip(data)
    assert set(tables) == FILES
    items = tables["items.csv"]
    assert len(items) == counts["items"]
    by_title = {row["title"]: row for row in items}
    assert by_title["Fake job offers on Facebook"]["status"] == "merged"
    assert by_title["Fake job offers on Facebook"]["merged_into_id"] == by_title[
        "Fake job offers on social media"]["item_id"]
    assert by_title["'=HYPERLINK(\"http://evil.example\",\"click\")"]["status"] == "hidden"
    assert by_title["Debt bondage through travel loans"]["participant"] == "facilitator"
    assert by_title["Вербовка через Telegram"]["detail"] == "Каналы с вакансиями"
    audience = by_title["Women 18-25 seeking work abroad"]
    assert (audience["kind"], audience["age"], audience["place"]) == ("audience", "18-25", "Two provinces")
    concept = by_title["Check the job"]
    assert concept["message"] == "Ask 3 questions" and concept["image"].endswith("-1600.png")
    assert {row["kind"] for row in items} == {"trend", "audience", "concepts", "drafts", "strategy"}

    votes = tables["votes.csv"]
    assert len(votes) == (counts["dot_votes"] + counts["rank_votes"] + counts["verdicts"] + counts["fists"])
    dots = [row for row in votes if row["vote"] == "dots"]
    assert len(dots) == counts["dot_votes"]
    # The merged idea's dot moved to the survivor: 2 + 1 (moved) + 3 dots on it.
    assert sum(int(r["value"]) for r in dots if r["item_title"] == "Fake job offers on social media") == 6
    verdicts = sorted((r["item_title"], r["value"], r["note"]) for r in votes if r["vote"] == "verdict")
    assert verdicts == [("Bus-stop poster", "reject", "Nobody waits there"), ("Video script", "approve", ""),
                        ("Video script", "changes", "Subtitle it")]
    assert sorted(int(r["value"]) for r in votes if r["vote"] == "fist of five") == [1, 4, 5]
    assert sorted(int(r["value"]) for r in votes if r["vote"] == "rank") == [1, 1, 2]

    ratings = tables["ratings.csv"]
    assert len(ratings) == counts["ratings"]
    mine = sorted((r["item_title"], r["criterion"], r["score"]) for r in ratings if r["participant"] == "P1")
    assert mine == [("Check the job", "clear", "5"), ("Check the job", "relevant", "4")]

    comments = tables["comments.csv"]
    assert len(comments) == counts["comments"]
    assert {(c["tag"], c["text"]) for c in comments} == {
        ("keep", "The colours work; «ясно»"), ("change", "'-Add the hotline number"),
        ("concern", "Too long for radio")}

    stages = tables["stages.csv"]
    assert [s["kind"] for s in stages] == ["trend", "audience", "concepts", "drafts", "strategy"]
    assert stages[0]["decided_items"] == "Fake job offers on social media"
    assert stages[0]["minority_view"] == "Youth wanted Telegram recruitment"


def test_an_anonymous_workshop_exports_groups_never_names(anonymous):
    _w, counts, data = anonymous
    tables = read_zip(data)
    participants = tables["participants.csv"]
    assert len(participants) == counts["participants"]
    assert list(participants[0]) == ["participant", "group", "joined_at"]
    assert [p["participant"] for p in participants] == [f"P{n}" for n in range(1, 7)]
    assert [p["group"] for p in participants] == [group for _name, group in PEOPLE]
    groups = {row["group"]: int(row["participants"]) for row in tables["groups.csv"]}
    assert groups == {"Government": 1, "Civil society": 1, "UN / donor": 1, "Creative partner": 1, "Youth": 2,
                      "Other": 0}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        everything = "".join(archive.read(n).decode("utf-8-sig") for n in archive.namelist())
    for name, _group in PEOPLE:
        assert name not in everything
    assert all("name" not in table[0] for table in tables.values() if table)


def test_a_named_workshop_exports_names_in_utf8_for_excel(app, client):
    w, _people, _counts = gen_campaign(named=True)
    login(client)
    tables = read_zip(client.get(f"/w/{w.code}/export.zip").data)
    assert [p["name"] for p in tables["participants.csv"]] == [name for name, _group in PEOPLE]
    assert {c["name"] for c in tables["comments.csv"]} == {"Åsa Øberg", "Ольга Петрова", "Jonas Ærø"}


@pytest.mark.parametrize("value, cell", [
    ("=1+1", "'=1+1"), ("+31 6 1234", "'+31 6 1234"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=cmd", "'\t=cmd"), ("\r=cmd", "'\r=cmd"), ("plain = fine", "plain = fine"), (-2, -2), (None, ""),
    (True, "yes")])
def test_cells_a_spreadsheet_would_run_are_prefixed(value, cell):
    assert safe_cell(value) == cell


def test_json_export_holds_the_whole_workshop(app, client):
    w, _people, counts = gen_campaign(named=True)
    login(client)
    r = client.get(f"/w/{w.code}/export.json")
    assert r.mimetype == "application/json" and "no-store" in r.headers["Cache-Control"]
    data = json.loads(r.data)
    assert data["format"] == "charrette-workshop" and data["version"] == 1
    assert data["workshop"]["title"] == "Safe migration: Østfold & Київ"
    assert len(data["participants"]) == counts["participants"] and len(data["items"]) == counts["items"]
    assert len(data["votes"]) == 20 and len(data["comments"]) == counts["comments"]
    trend = data["stages"][0]
    assert trend["notes"] == "Ask the ministry about 2025 figures" and trend["minority_view"]
    concept = next(i for i in data["items"] if i["title"] == "Check the job")
    assert concept["image"]["format"] == "png" and concept["image"]["width"] == 1200
    assert "image" not in concept["data"]
    assert all("token" not in p for p in data["participants"])  # a phone's credential never leaves


def test_only_the_owner_downloads(app, client, browser):
    w = gen_workshop()
    gen_facilitator("other@example.org")
    for url in (f"/w/{w.code}/export.zip", f"/w/{w.code}/export.json", f"/w/{w.code}/share"):
        r = client.get(url)
        assert r.status_code == 302 and "/login" in r.headers["Location"], url
    phone = browser()
    phone.join(w.code)
    assert phone.http.get(f"/w/{w.code}/export.json").status_code == 302
    other = browser()
    other.login("other@example.org")
    for url in (f"/w/{w.code}/export.zip", f"/w/{w.code}/export.json", f"/w/{w.code}/share"):
        assert other.http.get(url).status_code == 403, url
