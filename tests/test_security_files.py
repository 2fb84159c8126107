"""Files in and out (issue 17, items 7 and 8): no formula reaches a spreadsheet from any CSV or XLSX
the app writes, headers included; imported files are checked for types against one declared schema,
and generated hostile files never cause a 500 nor a half-import."""
import csv
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import gen_ideas, gen_workshop
from workshop import exports
from workshop.extensions import db
from workshop.models import Comment, Item, Participant, Stage, Vote, Workshop

FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"x\")", "@SUM(1+1)*cmd|' /C calc'!A0", "+1+1", "-2+3",
            "\t=1", "\r=1", " =1+1", "\uff1d1+1"]
ROOT = Path(__file__).resolve().parent.parent


def dangerous(cell: str) -> bool:
    return cell.lstrip(" ").startswith(exports.FORMULA_STARTS)


def login(client):
    client.post("/login", data={"email": "fac@example.org", "password": "correct horse battery"})


def test_every_csv_header_and_cell_of_the_export_is_neutralised(app, client):
    w = gen_workshop()
    ideas = gen_ideas(w, *FORMULAS[:3])
    for n, item in enumerate(ideas):  # an import's extra-data keys become items.csv column names
        item.data = {FORMULAS[(n + k) % len(FORMULAS)]: FORMULAS[k] for k in range(len(FORMULAS))}
    db.session.commit()
    login(client)
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/w/{w.code}/export.zip").data))
    seen = 0
    for name in archive.namelist():
        if name.endswith(".csv"):
            rows = list(csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig"), newline="")))
            for row in rows:
                for cell in row:
                    assert not dangerous(cell), (name, cell)
                    seen += cell.startswith("'")
    assert seen >= 3 * len(FORMULAS)


def test_the_one_csv_writer_is_exports_write_csv():
    """Every CSV the app writes goes through exports.write_csv (headers and cells made safe)."""
    writers = [str(path.relative_to(ROOT)) for path in (ROOT / "workshop").rglob("*.py")
               if re.search(r"csv\.(writer|DictWriter)\(", path.read_text())]
    assert writers == ["workshop/exports.py"]


@pytest.mark.parametrize("cell", FORMULAS)
def test_xlsx_cells_stay_text(cell):
    from openpyxl import load_workbook

    from workshop import xlsform
    form = xlsform.Questionnaire(title=cell, form_id="f", version="1", questions=[],
                                 choices={"yn": [("yes", {"en": cell})]})
    book = load_workbook(io.BytesIO(xlsform.to_xlsx(form)))
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for c in row:
                assert c.data_type != "f", (sheet.title, c.value)


# --- imports ---------------------------------------------------------------------------

def counts():
    return tuple(db.session.query(m).count() for m in (Workshop, Stage, Participant, Item, Vote, Comment))


@pytest.fixture
def export(app, client):
    w = gen_workshop()
    gen_ideas(w, "One idea", "Another idea")
    login(client)
    return json.loads(exports.json_export(w))


def post(client, doc) -> "object":
    raw = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return client.post("/workshops/import", data={"file": (io.BytesIO(raw), "w.json")})


@pytest.mark.parametrize("path, value", [
    (("stages", 0, "settings", "dots"), "3"),
    (("workshop", "language"), "zz"),
    (("workshop", "title"), 12),
    (("items", 0, "title"), ["a list"]),
    (("participants", 0, "group"), {"an": "object"}),
])
def test_wrong_types_in_an_import_are_refused(client, export, path, value):
    target = export
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    before = counts()
    r = post(client, export)
    assert r.status_code == 200 and 'class="error"' in r.get_data(as_text=True)
    assert counts() == before


def paths(doc, prefix=()):
    """Every place in a JSON document, containers included."""
    yield prefix
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for n, value in enumerate(doc):
            yield from paths(value, (*prefix, n))


HOSTILE = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False), st.sampled_from(["3", "zz", "", "\u202e", "=1+1", "x" * 6000, "1999-13-40"]),
    st.text(max_size=30), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_generated_hostile_files_never_500_and_never_half_import(client, export, data):
    doc = json.loads(json.dumps(export))
    places = [p for p in paths(doc) if p]
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        place = data.draw(st.sampled_from(places))
        target = doc
        try:
            for key in place[:-1]:
                target = target[key]
            target[place[-1]] = data.draw(HOSTILE)
        except (KeyError, IndexError, TypeError):
            continue
    before = counts()
    r = post(client, doc)
    assert r.status_code in (200, 302), r.status_code
    after = counts()
    if r.status_code == 302:  # taken whole: one more workshop with all its rows
        assert after[0] == before[0] + 1 and after[1] > before[1]
        db.session.delete(db.session.query(Workshop).order_by(Workshop.id.desc()).first())
        db.session.commit()
    else:
        assert after == before
