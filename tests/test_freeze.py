"""No single request freezes the room (issue 17): CPU work in workers, bounded images, limits, queues.

Families, not cases: every route that takes a file is walked; images are refused from their header
whatever their shape (too long a side, too many pixels, too narrow) without a pixel decoded; the
worker path is proven on a real gevent server by stopping the worker mid-job and watching the
room's votes still being acknowledged; the caps (jobs, report renderers) and the per-account
limits are driven to their edge.
"""
from __future__ import annotations

import inspect
import io
import json
import os
import re
import signal
import threading
from pathlib import Path

import pytest
import requests
from PIL import Image, ImageCms, ImageFile
from sqlalchemy import func, select

from scripts.bench_freeze import png
from tests.conftest import gen_facilitator, gen_workshop
from tests.support import AppProcess
from workshop import images, offload, report_job
from workshop.errors import Refused
from workshop.extensions import db
from workshop.models import Invitation, Item, Report, Workshop

pytestmark = [pytest.mark.filterwarnings("ignore::ResourceWarning"),
              pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")]

# Every route whose view takes a file, and what it takes. A new one fails the walk until listed here.
IMAGE_ROUTES = {"facilitate.add_item", "facilitate.edit_item", "partners.add", "partners.edit",
                "reports.report_page", "data.import_workshop"}
NOT_IMAGES = {  # files that are no images: read as tables, never decoded as pictures
    "data.import_answers": "a KoboToolbox / ODK CSV or XLSX of answers",
    "kap.surveys": "a baseline or endline CSV / XLSX",
    "kap.reach_import": "a reach CSV",
}
TAKES_A_FILE = re.compile(r"request\.files|upload|\.file\.data|\.logo\.data")
# 1 x 39,999,999 (the issue's), a side too long, too many pixels, too narrow at a small size.
HOSTILE = {"line": (1, 39_999_999), "wide": (13_000, 2_000), "pixels": (7_000, 7_000), "narrow": (11, 1_000)}
REFUSED = re.compile(r"The image is too (large|narrow)")


def stage_of(w, kind):
    return next(s for s in w.stages if s.kind == kind)


def good_png(size=(1200, 800), **info) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 120, 90)).save(out, "PNG", **info)
    return out.getvalue()


@pytest.fixture(scope="module")
def hostile() -> dict[str, bytes]:
    return {name: png(*size) for name, size in HOSTILE.items()}


@pytest.fixture
def no_decoding(monkeypatch):
    """Fail the test if any image's pixels are decoded in this process."""
    def refuse(self, *args, **kwargs):
        raise AssertionError(f"decoded a {self.size} image")
    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


def stored_files(app) -> list[Path]:
    folder = Path(app.config["UPLOAD_DIR"])
    return sorted(folder.glob("*")) if folder.exists() else []


def test_every_route_that_takes_a_file_is_known(app):
    taking = set()
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods and TAKES_A_FILE.search(
                inspect.getsource(inspect.unwrap(app.view_functions[rule.endpoint]))):
            taking.add(rule.endpoint)
    assert taking == IMAGE_ROUTES | set(NOT_IMAGES)


def _posts(app, browser, w):
    """Yield (route, send(image bytes) -> response text) for every route that takes an image."""
    owner = browser()
    owner.login()
    concepts = stage_of(w, "concepts")
    item = Item(stage_id=concepts.id, title="Poster", data={})
    db.session.add(item)
    invitation = Invitation(workshop=w, label="Studio")
    db.session.add(invitation)
    db.session.commit()
    token, item_id = invitation.token, item.id
    partner = browser()
    as_json = {"Accept": "application/json"}

    def form(blob, field="image", **fields):
        return {"title": "Poster", "message": "Ask first", **fields, field: (io.BytesIO(blob), "picture.png")}

    def text(r):
        return f"{r.status_code} {r.get_data(as_text=True)}"

    def export_with(blob):
        data = json.loads(owner.http.get(f"/w/{w.code}/export.json").data)
        data["items"] = [{"id": 1, "stage_id": concepts.id, "participant_id": None, "title": "Poster",
                          "detail": "", "data": {}, "hidden": False, "merged_into_id": None,
                          "image": {"width": 1, "height": 1, "format": "png",
                                    "data": __import__("base64").b64encode(blob).decode()}}]
        data.pop("results", None)
        return json.dumps(data).encode()

    yield "facilitate.add_item", lambda blob: text(owner.http.post(
        f"/w/{w.code}/stages/{concepts.id}/items", data=form(blob), headers=as_json))
    yield "facilitate.edit_item", lambda blob: text(owner.http.post(
        f"/w/{w.code}/items/{item_id}", data=form(blob), headers=as_json))
    yield "partners.add", lambda blob: text(partner.http.post(
        f"/p/{token}/stages/{concepts.id}/items", data=form(blob)))
    yield "partners.edit", lambda blob: text(partner.http.post(
        f"/p/{token}/items/{item_id}", data=form(blob)))
    yield "reports.report_page", lambda blob: text(owner.http.post(
        f"/w/{w.code}/report", data=form(blob, "logo", org_name="Org", page_size="A4")))
    yield "data.import_workshop", lambda blob: text(owner.http.post(
        "/workshops/import", data=form(export_with(blob), "file")))


def test_every_image_route_refuses_extreme_images_from_the_header(app, browser, hostile, no_decoding):
    w = gen_workshop()
    routes = dict(_posts(app, browser, w))
    items_before = db.session.scalar(select(func.count(Item.id)))
    assert set(routes) == IMAGE_ROUTES
    for route, send in routes.items():
        for name, blob in hostile.items():
            answer = send(blob)
            assert REFUSED.search(answer), f"{route} took the {name} image: {answer[:300]}"
    assert stored_files(app) == []  # nothing decoded, nothing stored
    assert db.session.scalar(select(func.count(Item.id))) == items_before
    assert db.session.scalar(select(func.count(Workshop.id))) == 1  # no import went through
    assert db.session.get(Workshop, w.id).org_logo is None


@pytest.mark.parametrize("size", [(1, 2), (400, 40), (4000, 400), (12_000, 3_000)])
def test_images_within_the_bounds_are_kept_and_stored_small(app, size):
    with app.test_request_context():
        stored = images.save(io.BytesIO(good_png(size)))
    for width in images.WIDTHS:
        with Image.open(images.file_path(images.filename(stored, width))) as copy:
            assert copy.width <= width and copy.height <= width * images.MAX_ASPECT


def test_stored_copies_carry_no_colour_profile(app):
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    with app.test_request_context():
        for kind in ("sRGB", "junk"):
            icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes() if kind == "sRGB" \
                else profile[:40] + os.urandom(400)
            stored = images.save(io.BytesIO(good_png(icc_profile=icc)))
            for width in images.WIDTHS:
                raw = images.file_path(images.filename(stored, width)).read_bytes()
                assert b"iCCP" not in raw
                with Image.open(io.BytesIO(raw)) as copy:
                    assert "icc_profile" not in copy.info


def test_an_import_up_to_import_max_mb_passes_the_csrf_check(tmp_path):
    from config import TestingConfig
    from workshop import create_app

    app = create_app(TestingConfig(DATABASE_URL=f"sqlite:///{tmp_path / 'c.db'}", WTF_CSRF_ENABLED=True,
                                   UPLOAD_DIR=str(tmp_path / "uploads")))
    with app.app_context():
        gen_facilitator()
        http = app.test_client()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                          http.get("/login").get_data(as_text=True)).group(1)
        http.post("/login", data={"csrf_token": token, "email": "fac@example.org",
                                  "password": "correct horse battery"})
        page = http.get("/workshops/import").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        big = b" " * (12 * 1024 * 1024) + b"[]"  # past the app-wide 10 MB, within IMPORT_MAX_MB
        r = http.post("/workshops/import", data={"csrf_token": token, "file": (io.BytesIO(big), "w.json")})
        assert r.status_code == 200 and "not a Charrette workshop export" in r.get_data(as_text=True)
        app.config["IMPORT_MAX_MB"] = 11
        r = http.post("/workshops/import", data={"csrf_token": token, "file": (io.BytesIO(big), "w.json")})
        assert r.status_code == 413
        db.session.remove()
        db.engine.dispose()


def poster() -> dict:
    return {"title": "P", "message": "Ask", "image": (io.BytesIO(good_png((40, 30))), "p.png")}


LIMITED = {"uploads": "2 per minute", "exports": "2 per minute", "imports": "1 per minute"}


def test_uploads_imports_and_exports_are_limited_per_account_and_per_partner_link(app, browser):
    app.config["RATE_LIMITS"] = {**app.config["RATE_LIMITS"], **LIMITED}
    me = gen_facilitator()
    other = gen_facilitator("other@example.org", "Other")
    w = gen_workshop(me)
    mine = gen_workshop(other, title="Other's")
    concepts = stage_of(w, "concepts")
    owner = browser()
    owner.login()
    as_json = {"Accept": "application/json"}

    def upload(client, url):
        return client.http.post(url, data=poster(), headers=as_json)

    url = f"/w/{w.code}/stages/{concepts.id}/items"
    assert [upload(owner, url).status_code for _ in range(3)] == [200, 200, 429]
    assert "Too many" in upload(owner, url).get_json()["error"]
    second_laptop = browser()  # the same account elsewhere: the same budget
    second_laptop.login()
    assert upload(second_laptop, url).status_code == 429
    someone_else = browser()
    someone_else.login("other@example.org")
    theirs = stage_of(mine, "concepts").id
    assert upload(someone_else, f"/w/{mine.code}/stages/{theirs}/items").status_code == 200
    for label in ("Studio A", "Studio B"):  # each partner link has its own budget
        invitation = Invitation(workshop=w, label=label)
        db.session.add(invitation)
        db.session.commit()
        partner = browser()
        codes = [partner.http.post(f"/p/{invitation.token}/stages/{concepts.id}/items",
                                   data=poster()).status_code for _ in range(3)]
        assert codes == [302, 302, 429]
    assert [owner.http.get(f"/w/{w.code}/export.zip").status_code for _ in range(2)] == [200, 200]
    refused = owner.http.get(f"/w/{w.code}/export.json")
    assert refused.status_code == 429 and "Too many" in refused.get_data(as_text=True)
    exported = someone_else.http.get(f"/w/{mine.code}/export.json")
    assert exported.status_code == 200
    for expected in (302, 200):
        r = owner.http.post("/workshops/import", data={"file": (io.BytesIO(exported.data), "w.json")})
        assert r.status_code == expected
    assert "Too many" in r.get_data(as_text=True)


def test_jobs_are_capped_and_the_rest_wait_in_turn_or_are_refused(app):
    app.config.update(WORKER_JOBS=1, WORKER_QUEUE=1)
    release, inside = threading.Event(), threading.Event()
    results = []

    def job(name):
        try:
            with offload._turn(app):
                inside.set()
                results.append(name)
                release.wait(30)
        except Refused as refusal:
            results.append(f"{name}: {refusal.status}")

    first = threading.Thread(target=job, args=("first",))
    first.start()
    assert inside.wait(10)
    second = threading.Thread(target=job, args=("second",))
    second.start()
    while offload.load()["waiting"] < 1:  # the second waits its turn
        second.join(0.01)
    job("third")  # the queue is full: refused at once, not stacked up
    assert results == ["first", "third: 503"] and offload.load() == {"waiting": 1, "running": 1}
    release.set()
    first.join(10)
    second.join(10)
    assert results == ["first", "third: 503", "second"] and offload.load() == {"waiting": 0, "running": 0}


def test_report_renderers_are_capped_and_a_queued_report_shows_its_place(app, browser, monkeypatch):
    app.config["REPORT_RENDERERS"] = 1
    me = gen_facilitator()
    workshops = [gen_workshop(me, title=f"W{n}") for n in range(3)]
    rows = [Report(workshop=w, status="queued", page_size="A4", language="en") for w in workshops]
    db.session.add_all(rows)
    db.session.commit()
    release, running = threading.Event(), []
    monkeypatch.setattr(report_job, "_render", lambda _app, job: (running.append(job), release.wait(30)))
    threads = [threading.Thread(target=report_job.watch, args=(app, report_job.job_of(row))) for row in rows]
    threads[0].start()
    while not running:
        threads[0].join(0.01)
    for thread in threads[1:]:
        thread.start()
    while len(report_job._waiting) < 2:
        threads[1].join(0.01)
    assert running == [report_job.job_of(rows[0])]
    owner = browser()
    owner.login()
    waiting = owner.http.get(f"/w/{workshops[2].code}/report/status").get_json()
    assert waiting["status"] == "queued" and "1 report is ahead of this one" in waiting["waiting"]
    assert "1 report is ahead of this one" in owner.http.get(f"/w/{workshops[2].code}/report").get_data(
        as_text=True)
    assert "waiting" not in owner.http.get(f"/w/{workshops[0].code}/report/status").get_json()
    release.set()
    for thread in threads:
        thread.join(10)
    assert sorted(running) == sorted(report_job.job_of(row) for row in rows) and report_job._waiting == []


# --- on a real server: the work happens in a worker, and the room goes on -----------------

def _worker_of(server_pid: int) -> int | None:
    """Return the pid of the server's worker process, if it has one."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"workshop.worker_child" in cmdline and f"\nPPid:\t{server_pid}\n" in status:
                return int(entry.name)
    return None


@pytest.fixture
def room(tmp_path):
    from tests.test_faults import Room

    server = AppProcess(tmp_path, "freeze", WORKER_JOBS="1", LOG_LEVEL="WARNING")
    base = server.start()
    try:
        room = Room(base, "Freeze", ["Clean water", "Safe routes", "Jobs"])
        room.go("vote")
        room.server = server
        yield room
    finally:
        for screen in room.screens if "room" in locals() else []:
            try:
                screen.close()
            except Exception:  # noqa: BLE001 - the server may be gone already
                pass
        server.stop()


def _while_the_worker_is_stopped(room, request):
    """Stop the server's worker, run `request` in a thread; count the room's acknowledged votes meanwhile.

    Returns (votes acknowledged while the request waited, the request's response)."""
    worker = _worker_of(room.server.proc.pid)
    assert worker is not None, "the server has a worker process"
    os.kill(worker, signal.SIGSTOP)
    answer = []
    thread = threading.Thread(target=lambda: answer.append(request()))
    try:
        thread.start()
        phone, beats = room.phones[0], 0
        while beats < 20:  # the heartbeat: a vote acknowledged (the database answered) and a page served
            reply = phone.call("vote", {"cid": f"beat-{os.urandom(4).hex()}", "dots": 1,
                                        "item_id": room.item_ids[beats % 3]})
            assert reply["ok"], reply
            assert requests.get(f"{room.base}/j/{room.code}", timeout=10).status_code == 200
            beats += 1
        assert thread.is_alive(), "the job waited for the stopped worker all along"
    finally:
        os.kill(worker, signal.SIGCONT)
    thread.join(120)
    return beats, answer[0]


def test_imports_and_exports_run_in_a_worker_while_the_room_votes(room):
    room.join(1)
    first = room.http.get(f"{room.base}/w/{room.code}/export.zip", timeout=60)  # starts the worker
    assert first.status_code == 200 and first.content[:2] == b"PK"
    beats, exported = _while_the_worker_is_stopped(
        room, lambda: room.http.get(f"{room.base}/w/{room.code}/export.json", timeout=120))
    assert beats == 20 and exported.status_code == 200
    data = exported.json()
    assert data["format"] == "charrette-workshop" and len(data["votes"]) >= 1
    page = room.http.get(f"{room.base}/workshops/import", timeout=10).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    beats, imported = _while_the_worker_is_stopped(room, lambda: room.http.post(
        f"{room.base}/workshops/import", data={"csrf_token": token}, allow_redirects=False, timeout=120,
        files={"file": ("w.json", exported.content, "application/json")}))
    assert beats == 20 and imported.status_code == 302 and "/share" in imported.headers["Location"]


def test_a_hostile_image_through_a_partner_link_is_refused_on_a_real_server(room):
    page = room.http.post(f"{room.base}/w/{room.code}/partners", timeout=10, data={
        "csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', room.http.get(
            f"{room.base}/w/{room.code}/partners", timeout=10).text).group(1), "label": "Agency"}).text
    token = re.search(r"/p/([A-Za-z0-9_-]{20,})", page).group(1)
    partner = requests.Session()
    form = partner.get(f"{room.base}/p/{token}", timeout=10).text
    stage = re.search(r"/p/[A-Za-z0-9_-]+/stages/(\d+)/items", form).group(1)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    r = partner.post(f"{room.base}/p/{token}/stages/{stage}/items", timeout=30, data={
        "csrf_token": csrf, "title": "Line", "message": "Look"},
        files={"image": ("line.png", png(1, 39_999_999), "image/png")})
    assert r.status_code == 413 and "The image is too" in r.text
    uploads = Path(room.server.env["UPLOAD_DIR"])
    before = sorted(uploads.glob("*"))  # the demo's images
    r = partner.post(f"{room.base}/p/{token}/stages/{stage}/items", timeout=30, data={
        "csrf_token": csrf, "title": "Line", "message": "Look"},
        files={"image": ("line.png", png(11, 1_000), "image/png")})
    assert r.status_code == 413 and "The image is too narrow" in r.text
    assert sorted(uploads.glob("*")) == before
