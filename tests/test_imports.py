"""Importing a JSON export: a round trip into a fresh app, and hostile files refused with nothing stored."""
import base64
import copy
import gc
import io
import json
import warnings
from pathlib import Path

import pytest
from flask import g
from PIL import Image

import config
from tests.campaign_data import gen_campaign
from tests.conftest import gen_facilitator
from workshop import create_app, exports
from workshop.auth import create_facilitator
from workshop.extensions import db
from workshop.models import Comment, Item, Participant, Stage, Vote, Workshop

ID_FIELDS = {"id", "stage_id", "participant_id", "item_id", "merged_into_id", "current_stage_id"}


def login(client, email="fac@example.org"):
    client.post("/login", data={"email": email, "password": "correct horse battery"})


def normalise(data: dict) -> dict:
    """Replace ids (which must differ between servers) by positions; drop the code and export time."""
    data = copy.deepcopy(data)
    data.pop("exported_at")
    data["workshop"].pop("code")
    maps = {table: {row["id"]: n for n, row in enumerate(data[table])}
            for table in ("stages", "participants", "items")}
    refs = {"stage_id": "stages", "participant_id": "participants", "item_id": "items",
            "merged_into_id": "items", "current_stage_id": "stages"}

    def fix(row: dict, own: str | None):
        for key in list(row):
            if key == "id" and own:
                row[key] = maps[own][row[key]]
            elif key in refs and row[key] is not None:
                row[key] = maps[refs[key]][row[key]]

    fix(data["workshop"], None)
    for table in ("stages", "participants", "items", "votes", "comments"):
        for row in data[table]:
            fix(row, table if table in maps else None)
    for stage in data["stages"]:
        decision = stage["decision"] or {}
        items = maps["items"]
        if decision:
            decision["item_ids"] = [items[i] for i in decision["item_ids"]]
            if "primary_id" in decision:
                decision["primary_id"] = items[decision["primary_id"]]
            if "verdicts" in decision:
                decision["verdicts"] = {str(items[int(k)]): v for k, v in decision["verdicts"].items()}
        if stage["settings"].get("focus") is not None:
            stage["settings"]["focus"] = items[stage["settings"]["focus"]]
    return data


EXPORT: dict[str, bytes] = {}


@pytest.fixture(autouse=True)
def _collect_spooled_bodies():
    """Close the test client's spooled request bodies now, not in some later test.

    Werkzeug's test client writes bodies over 500 kB (an export with images) to
    temporary files it never closes; their ResourceWarning would surface, as an
    error, in whichever test the garbage collector happens to run.
    """
    yield
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


@pytest.fixture
def exported(app, client):
    """The JSON export of a full, named campaign workshop (with a concept image), built once."""
    if "raw" not in EXPORT:
        w, _people, _counts = gen_campaign(named=True)
        login(client)
        EXPORT["raw"] = client.get(f"/w/{w.code}/export.json").data
    else:
        gen_facilitator()
        login(client)
    return EXPORT["raw"]


def test_round_trip_into_a_fresh_app_gives_the_same_workshop(app, exported, tmp_path):
    other = create_app(config.TestingConfig(DATABASE_URL=f"sqlite:///{tmp_path / 'other.db'}",
                                     UPLOAD_DIR=str(tmp_path / "other-uploads")))
    with other.app_context():
        g.pop("_login_user", None)
        create_facilitator("importer@example.org", "Importer", "correct horse battery")
        client = other.test_client()
        login(client, "importer@example.org")
        page = client.get("/workshops/import")
        assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.get_data(as_text=True)
        r = client.post("/workshops/import", data={"file": (io.BytesIO(exported), "backup.json")})
        assert r.status_code == 302, r.get_data(as_text=True)
        imported = db.session.scalars(db.select(Workshop)).one()
        assert imported.facilitator.email == "importer@example.org"
        original = json.loads(exported)
        assert imported.code != original["workshop"]["code"]
        assert r.headers["Location"].endswith(f"/w/{imported.code}/share")
        again = json.loads(client.get(f"/w/{imported.code}/export.json").data)
        # The image was decoded and re-encoded into the new server's upload folder.
        concept = next(i for i in imported.stages[2].items if i.title == "Check the job")
        stored = Path(other.config["UPLOAD_DIR"]) / f"{concept.image['name']}-1600.png"
        with Image.open(stored) as picture:
            assert picture.size == (1200, 800)
        assert normalise(again) == normalise(original)
        assert original["workshop"]["org_logo"]["width"] == 400 and imported.org_name == "IOM Norway"
        assert (Path(other.config["UPLOAD_DIR"]) / f"{imported.org_logo['name']}-800.png").exists()
        # The phones of the old server hold no token that works here.
        assert all(p.token for p in imported.participants)
        db.session.remove()
        db.engine.dispose()


def post(client, data: bytes | str, name="w.json"):
    raw = data.encode() if isinstance(data, str) else data
    return client.post("/workshops/import", data={"file": (io.BytesIO(raw), name)})


def counts():
    models = (Workshop, Stage, Participant, Item, Vote, Comment)
    return tuple(db.session.query(model).count() for model in models)


def mutate(path, value):
    """Return a function that sets data[path...] = value in a copy of the export."""
    def apply(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        if value is DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value(data) if callable(value) else value
        return data
    return apply


DELETE = object()


def other_stage_item(data):
    """Return the id of an item that is not in the first vote's stage."""
    vote = data["votes"][0]
    return next(i["id"] for i in data["items"] if i["stage_id"] != vote["stage_id"])


def merged_index(data):
    """Return the index of an unmerged idea followed by another of the same stage (the first two trends)."""
    return next(n for n, i in enumerate(data["items"][:-1]) if i["merged_into_id"] is None
                and data["items"][n + 1]["stage_id"] == i["stage_id"])


def concept_index(data):
    return next(n for n, i in enumerate(data["items"]) if i["image"])


HOSTILE = [
    ("version", mutate(["version"], 2), "newer version"),
    ("version type", mutate(["version"], "1"), "no valid format version"),
    ("format", mutate(["format"], "something-else"), "not a Charrette workshop export"),
    ("title type", mutate(["workshop", "title"], 42), "workshop.title: should be text"),
    ("title length", mutate(["workshop", "title"], "x" * 201), "longer than 200"),
    ("groups type", mutate(["workshop", "groups"], "Government"), "workshop.groups: should be a list"),
    ("unknown field", mutate(["workshop", "is_admin"], True), "unknown field is_admin"),
    ("missing field", mutate(["workshop", "title"], DELETE), "lacks the field title"),
    ("stages type", mutate(["stages"], {"0": {}}), "stages: should be a list"),
    ("unknown kind", mutate(["stages", 0, "kind"], "exec"), "not a kind of stage"),
    ("bad phase", mutate(["stages", 0, "phase"], "collect-all"), "not a phase"),
    ("bool as id", mutate(["participants", 0, "id"], True), "participants[0].id"),
    ("duplicate id", mutate(["participants", 1, "id"], lambda d: d["participants"][0]["id"]),
     "appears twice"),
    ("vote value type", mutate(["votes", 0, "value"], "5"), "votes[0].value"),
    ("vote value range", mutate(["votes", 0, "value"], 10**9), "votes[0].value"),
    ("item in no stage", mutate(["items", 0, "stage_id"], 999_999), "items[0].stage_id: points to nothing"),
    ("vote item of another stage", mutate(["votes", 0, "item_id"], other_stage_item), "another stage"),
    ("vote by nobody", mutate(["votes", 0, "participant_id"], 999_999), "points to nothing"),
    ("comment on nothing", mutate(["comments", 0, "item_id"], 999_999), "points to nothing"),
    ("merge across stages", mutate(["items", 1, "merged_into_id"], lambda d: d["items"][-1]["id"]),
     "another stage"),
    ("merge loop", lambda d: mutate(["items", merged_index(d) + 1, "merged_into_id"],
                                    d["items"][merged_index(d)]["id"])(
        mutate(["items", merged_index(d), "merged_into_id"], d["items"][merged_index(d) + 1]["id"])(d)),
     "not merged itself"),
    ("setting type", mutate(["stages", 1, "settings"], {"top": "three"}), "stages[1].settings.top"),
    ("setting range", mutate(["stages", 0, "settings"], {"dots": 10**6}), "stages[0].settings.dots"),
    ("setting bool", mutate(["stages", 0, "settings"], {"show_groups": 1}), "wrong type"),
    ("setting unknown", mutate(["stages", 0, "settings"], {"admin": True}), "unknown field admin"),
    ("decision elsewhere", mutate(["stages", 0, "decision", "item_ids"], lambda d: [d["items"][-1]["id"]]),
     "stages[0].decision"),
    ("current stage", mutate(["workshop", "current_stage_id"], 999_999), "current_stage_id"),
    ("settings too deep", mutate(["stages", 0, "settings"], {"a": {"b": {"c": {"d": 1}}}}),
     "nested too deeply"),
    ("bad date", mutate(["participants", 0, "joined_at"], "yesterday"), "not a date"),
    ("not base64", lambda d: mutate(["items", concept_index(d), "image", "data"], "@@not base64@@")(d),
     "not base64"),
    ("svg as image", lambda d: mutate(["items", concept_index(d), "image", "data"], base64.b64encode(
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>").decode())(d),
     "not a readable image"),
    ("second image bad", lambda d: mutate(["items", concept_index(d) + 1, "image"], {"data": base64.b64encode(
        b"\x89PNG\r\n\x1a\n" + b"\0" * 100).decode()})(d),
     "items[11].image: This file is not a readable image"),
    ("gif as image", lambda d: mutate(["items", concept_index(d), "image", "data"], base64.b64encode(
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;").decode())(d), "image"),
]


def stored_files(app) -> list[Path]:
    folder = Path(app.config["UPLOAD_DIR"])
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize("label, change, message", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_files_are_refused_and_nothing_is_stored(app, client, exported, label, change, message):
    before, uploads = counts(), stored_files(app)
    r = post(client, json.dumps(change(json.loads(exported))))
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and message in html.replace("&#39;", "'").replace("&#34;", '"'), label
    assert 'class="error"' in html
    assert counts() == before
    assert stored_files(app) == uploads


@pytest.mark.parametrize("raw, message", [
    (b"not json at all", "not valid JSON"),
    (b'{"format": "charrette-workshop", "version": NaN}', "not valid JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
    (b'{"format": "charrette-workshop", "version": 1, "n": ' + b"9" * 5000 + b"}", "not valid JSON"),
    (b"\xff\xfe\x00garbage", "not valid JSON"),
    (b"[]", "not a Charrette workshop export"),
])
def test_files_that_are_not_exports_are_refused(app, client, raw, message):
    gen_facilitator()
    login(client)
    r = post(client, raw)
    assert message in r.get_data(as_text=True) and counts() == (0, 0, 0, 0, 0, 0)


def test_an_oversized_file_is_refused(app, client):
    gen_facilitator()
    login(client)
    app.config["IMPORT_MAX_MB"] = 1
    r = post(client, b" " * (1024 * 1024 + 10) + b"{}")
    assert r.status_code in (200, 413) and Workshop.query.count() == 0
    if r.status_code == 200:
        assert "larger than 1 MB" in r.get_data(as_text=True)
    big = post(client, b" " * (3 * 1024 * 1024))  # beyond the request limit itself
    assert big.status_code == 413 and Workshop.query.count() == 0


def test_import_needs_a_signed_in_facilitator_and_a_file(app, client):
    r = client.get("/workshops/import")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    gen_facilitator()
    login(client)
    r = client.post("/workshops/import", data={})
    assert "Choose a workshop file" in r.get_data(as_text=True) and Workshop.query.count() == 0


def test_names_are_dropped_when_the_file_says_anonymous(app, client, exported):
    data = json.loads(exported)
    data["workshop"]["collect_names"] = False
    r = post(client, json.dumps(data))
    assert r.status_code == 302
    imported = Workshop.query.order_by(Workshop.id.desc()).first()
    assert {p.name for p in imported.participants} == {""}
    assert exports.workshop_dict(imported)["participants"][0]["name"] == ""
