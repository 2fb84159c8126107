"""The workshop report: the whole record in a real PDF (pdftotext), safe fetching, the job, the pages."""
from __future__ import annotations

import http.server
import re
import subprocess
import threading
import time
import zlib
from io import BytesIO

import pytest
from PIL import Image

from scripts.report_workshop import FOREIGN, LONG_WORD, build
from tests.conftest import add_item, gen_facilitator, gen_ideas, gen_participant, gen_workshop
from workshop import images, report, report_job
from workshop.extensions import db
from workshop.flow import phases
from workshop.models import Report

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def report_dir(app, tmp_path):
    """Keep rendered reports in the test's own folder."""
    app.config["REPORT_DIR"] = str(tmp_path / "reports")
    return tmp_path / "reports"


def pdf_text(pdf: bytes, *options: str) -> str:
    """Extract a PDF's text with poppler's pdftotext (pages separated by form feeds)."""
    return subprocess.run(["pdftotext", *options, "-", "-"], input=pdf, capture_output=True, check=True
                          ).stdout.decode("utf-8")


def flat(text: str) -> str:
    """Collapse all whitespace: lines wrapped by the layout read as one sentence."""
    return " ".join(text.split())


def pdf_info(pdf: bytes) -> str:
    """Return poppler's pdfinfo for a PDF."""
    return subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def pdf_objects(pdf: bytes) -> bytes:
    """Return the PDF with its compressed streams (object streams too) inflated, to read the catalog."""
    inflated = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:
            inflated.append(zlib.decompress(match[1]))
        except zlib.error:
            pass  # an image or font stream that is not Flate
    return b"\n".join(inflated)


def png(colour=(30, 90, 160), size=(400, 200)) -> BytesIO:
    """Return a real PNG file to upload."""
    out = BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    out.seek(0)
    return out


# --- the whole record, in the PDF --------------------------------------------------------------

@pytest.mark.slow
def test_the_report_of_a_large_workshop_holds_the_whole_record(app):
    truth = build(gen_facilitator(name="Amina Haddad"))
    w = truth.workshop
    assert len(w.participants) >= 100 and len(truth.comments) >= 200
    html = report.render_html(w)
    pdf, pages = report.render_pdf(html)
    text = pdf_text(pdf, "-layout")
    whole = flat(text)

    for title in truth.ideas:  # every idea, proposal, concept and draft, merged and hidden ones too
        assert flat(title) in whole, title
    for comment in truth.comments:
        if comment == LONG_WORD:  # wrapped at the page edge: read it back without the breaks
            assert LONG_WORD in "".join(text.split())
        else:
            assert flat(comment) in whole, comment
    for decision in truth.decisions:
        assert flat(decision) in whole, decision
    assert "merged into" in whole and "hidden by the facilitator" in whole and "not chosen" in whole

    # The counts, as the bars show them (computed by the generator, not by voting.py).
    for title, dots in truth.dots.items():
        assert re.search(rf"{re.escape(title)} {dots} dots?\b", whole), (title, dots)
    for title, points in truth.points.items():
        assert re.search(rf"{re.escape(title)} {points} points?\b", whole), (title, points)
    for title, (approve, changes, reject) in truth.verdicts.items():
        counts = (rf"Approve: {approve} \([^)]*\) Approve with changes: {changes} \([^)]*\) "
                  rf"Reject: {reject} ")
        total = approve + changes + reject
        plain = re.sub("[✓✎✗] ?", "", whole)  # the verdicts' symbols (colour is never the only sign)
        assert re.search(rf"{re.escape(title)} {total} votes .{{0,80}}?{counts}", plain), title
    for title, raters in truth.raters.items():
        assert f"{title} {truth.means[title]:.1f} " in whole and f"{raters} rated" in whole, title
    labels = ["Block: I cannot support this", "Serious concerns", "Some concerns", "OK, I can live with it",
              "Good", "Full support"]
    for value, (label, n) in enumerate(zip(labels, truth.fist, strict=True)):
        assert f"{value} {label} {n}" in whole
    assert "Participants per stakeholder group" in whole and "Police 16" in whole

    # Print quality: the table of contents points at the right pages; header, numbers, paper, tags.
    page_texts = text.split("\f")
    assert len(page_texts) - 1 == pages
    contents = flat(page_texts[1])
    for stage in w.stages:
        found = re.search(rf"{re.escape(stage.title)} (\d+)", contents)
        assert found, stage.title
        assert stage.title in page_texts[int(found[1]) - 1]
    for n, page in enumerate(page_texts[1:pages], start=2):
        assert page.lstrip().startswith(w.title), n  # running header
        assert f"Page {n} of {pages}" in page
    info = pdf_info(pdf)
    assert "Tagged:          yes" in info and "A4" in info
    assert re.search(rb"/Lang ?\(en\)", pdf_objects(pdf))  # the document language, for screen readers
    assert 20 <= pages <= 45

    # Nothing runs off the page: long unbroken strings wrap (every word box inside the paper).
    boxes = pdf_text(pdf, "-bbox")
    page_width = float(re.search(r'<page width="([\d.]+)"', boxes)[1])
    right_edges = [float(x) for x in re.findall(r'xMax="([\d.]+)"', boxes)]
    assert max(right_edges) <= page_width - 30

    # Nordic and Cyrillic text comes out as text, in a real font (not boxes of missing glyphs).
    for _tag, comment in FOREIGN:
        assert flat(comment) in whole
    fonts = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert "Noto-Sans" in fonts

    # The four concept images (and two drafts') are the sharp copy, bounded on the page.
    listing = subprocess.run(["pdfimages", "-list", "-"], input=pdf, capture_output=True, check=True
                             ).stdout.decode().splitlines()[2:]
    widths = [int(line.split()[3]) for line in listing if line.split()[2] == "image"]
    assert len(widths) >= 6 and set(widths) == {1200}  # the posters are 1200 px wide: never the 800 copy


def test_letter_paper_and_the_workshop_language(app):
    w = gen_workshop(title="Campus safety")
    gen_ideas(w, "Harassment at night buses")
    w.page_size, w.language = "Letter", "en"
    db.session.commit()
    html = report.render_html(w)
    assert '<html lang="en">' in html and "size: letter" in html
    pdf, _pages = report.render_pdf(html)
    assert "letter" in pdf_info(pdf)
    assert "Harassment at night buses" in flat(pdf_text(pdf))


def test_names_only_when_the_workshop_collected_them(app):
    w = gen_workshop(collect_names=True)
    phases.set_phase(w, w.stages[0].id, "collect")
    alice = gen_participant(w, group="Youth", name="Alice Jensen")
    add_item(w, alice, {"cid": "idea-0001", "title": "Offers through closed groups"})
    assert "Youth, Alice Jensen" in report.render_html(w)
    w.collect_names = False  # the group decided to stay anonymous: names stay out of the report
    db.session.commit()
    html = report.render_html(w)
    assert "Alice Jensen" not in html and "Youth" in html


# --- safe rendering: nothing outside the app's own files is fetched ---------------------------

class Recorder(http.server.BaseHTTPRequestHandler):
    """Answer every GET with a PNG, and remember that it was asked."""

    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        """Record the request and answer it."""
        Recorder.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        self.wfile.write(png().getvalue())

    def log_message(self, *args):
        """Keep the test output quiet."""


@pytest.fixture
def http_server():
    """A real local HTTP server that records every request it gets."""
    Recorder.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_hostile_user_text_is_escaped_and_never_fetched(app, http_server):
    w = gen_workshop()
    gen_ideas(w, f'<img src="{http_server}/idea.png">', '<img src="file:///etc/passwd">')
    html = report.render_html(w)
    assert f'&lt;img src=&#34;{http_server}/idea.png&#34;&gt;' in html
    assert '<img src="file:///etc/passwd">' not in html
    pdf, _pages = report.render_pdf(html)
    assert f'<img src="{http_server}/idea.png">' in flat(pdf_text(pdf))  # shown as text
    assert Recorder.hits == []


def test_the_fetcher_is_the_second_wall(app, http_server):
    """Even markup that reaches WeasyPrint unescaped fetches nothing outside the app's files."""
    (tmp := app.config["UPLOAD_DIR"])
    stored = images.save(png())
    hostile = (f'<html><body><p>x</p><img src="{http_server}/direct.png">'
               f'<link rel="stylesheet" href="{http_server}/style.css">'
               '<img src="file:///etc/passwd"><img src="https://charrette.invalid/static/../config.py">'
               f'<img src="https://charrette.invalid/media/{images.filename(stored, 1600)}"></body></html>')
    pdf, _pages = report.render_pdf(hostile)
    assert Recorder.hits == []
    listing = subprocess.run(["pdfimages", "-list", "-"], input=pdf, capture_output=True, check=True).stdout
    assert len(listing.decode().splitlines()) == 3  # header, rule, and our own upload only
    fetcher = report.Fetcher()
    for url in (f"{http_server}/x.png", "file:///etc/passwd", "https://charrette.invalid/static/../../config.py",
                "https://charrette.invalid/static/%2e%2e/config.py", "https://charrette.invalid/media/../x.png",
                "https://charrette.invalid/media/config.py", "https://charrette.invalid.evil.org/static/x.css"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    assert Recorder.hits == []
    assert fetcher.fetch("https://charrette.invalid/static/css/report.css").read().startswith(b"/*")
    assert tmp and report.file_path("../charrette.db") is None and report.file_path("x/y.pdf") is None


# --- the pages: settings, generate, progress, downloads; the owner only --------------------------

def login(client, email="fac@example.org"):
    """Sign a facilitator in on a test client."""
    client.post("/login", data={"email": email, "password": PASSWORD})


def test_only_the_workshops_facilitator_reaches_the_report(app, client):
    w = gen_workshop()
    gen_facilitator(email="other@example.org")
    urls = [f"/w/{w.code}/report", f"/w/{w.code}/report/status", f"/w/{w.code}/report/1.pdf"]
    for url in urls:
        assert client.get(url).status_code == 302  # to sign in
    login(client, "other@example.org")
    for url in urls:
        assert client.get(url).status_code == 403
    assert client.post(f"/w/{w.code}/report/generate").status_code == 403
    assert client.post(f"/w/{w.code}/report", data={"org_name": "Evil", "page_size": "A4"}).status_code == 403
    assert db.session.scalars(db.select(Report)).all() == [] and w.org_name == ""


def test_the_cover_settings_are_validated_with_clear_errors(app, client):
    w = gen_workshop()
    login(client)
    page = client.get(f"/w/{w.code}/report").get_data(as_text=True)
    assert "Organisation name" in page and "Paper size" in page and "Make the report" in page
    reply = client.post(f"/w/{w.code}/report", data={"org_name": "x" * 201, "page_size": "A3"})
    body = reply.get_data(as_text=True)
    assert reply.status_code == 200 and "Field cannot be longer than 200 characters." in body
    assert "Not a valid choice" in body
    reply = client.post(f"/w/{w.code}/report", data={
        "org_name": "IOM", "page_size": "A4", "logo": (BytesIO(b"%PDF-1.4 not an image"), "logo.png")})
    assert "not a readable image" in reply.get_data(as_text=True)
    db.session.refresh(w)
    assert w.org_name == "" and w.org_logo is None  # a refused upload changes nothing
    reply = client.post(f"/w/{w.code}/report", data={
        "org_name": "Coalition", "page_size": "Letter", "logo": (png(), "logo.png")}, follow_redirects=True)
    assert "Report settings saved." in reply.get_data(as_text=True)
    db.session.refresh(w)
    assert (w.org_name, w.page_size) == ("Coalition", "Letter") and w.org_logo
    logo = images.file_path(images.filename(w.org_logo, 1600))
    assert logo is not None
    assert "Coalition" in report.render_html(w)
    client.post(f"/w/{w.code}/report", data={"org_name": "Coalition", "page_size": "A4", "remove_logo": "y"})
    db.session.refresh(w)
    assert w.org_logo is None and not logo.exists()


def wait_for(client, code, timeout=180, url=None):
    """Poll the status route (a workshop's, or `url`) as the page does, until the report is done or failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.get(url or f"/w/{code}/report/status").get_json()
        if state["status"] in ("done", "failed"):
            return state
        time.sleep(0.3)
    raise AssertionError("the report never finished")


@pytest.mark.slow
def test_generating_runs_in_a_child_process_and_offers_both_files(app, client, report_dir):
    w = gen_workshop(title="Safe migration planning")
    concepts = next(s for s in w.stages if s.kind == "concepts")
    add_item(w, None, {"stage_id": concepts.id, "title": "Ask three questions",
                            "message": "Who, where, what contract?"}, upload=png())
    gen_ideas(w, "Closed chat groups")
    phases.set_phase(w, concepts.id, "vote")
    login(client)
    assert client.get(f"/w/{w.code}/report/status").get_json() == {"status": "none"}
    reply = client.post(f"/w/{w.code}/report/generate")
    assert reply.status_code == 302  # returns at once; the child renders
    again = client.post(f"/w/{w.code}/report/generate", follow_redirects=True).get_data(as_text=True)
    assert "being made already" in again or "Download PDF" in again
    state = wait_for(client, w.code)
    assert state["status"] == "done", state
    assert state["pages"] >= 3 and state["seconds"] > 0
    row = report.latest(w)
    assert row.id == state["id"] and report.file_path(row.pdf_file).parent == report_dir
    page = client.get(f"/w/{w.code}/report").get_data(as_text=True)
    assert "Download PDF" in page and "Open as a web page" in page
    pdf = client.get(f"/w/{w.code}/report/{row.id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "attachment" in pdf.headers["Content-Disposition"]
    assert "Closed chat groups" in flat(pdf_text(pdf.data))
    pdf.close()
    page = client.get(f"/w/{w.code}/report/{row.id}.html")
    html = page.get_data(as_text=True)
    assert page.mimetype == "text/html" and "script-src" not in page.headers["Content-Security-Policy"]
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "data:image/png;base64," in html and "charrette.invalid" not in html  # stands on its own
    page.close()
    assert client.get(f"/w/{w.code}/report/{row.id}.exe").status_code == 404
    assert client.get(f"/w/{w.code}/report/{row.id + 1}.pdf").status_code == 404


@pytest.mark.slow
def test_the_report_page_starts_a_spare_renderer_that_takes_the_next_report(app, client):
    app.config["REPORT_SPARE"] = True
    w = gen_workshop(title="Warm start")
    gen_ideas(w, "Closed chat groups")
    login(client)
    try:
        client.get(f"/w/{w.code}/report")
        spare = report_job._spare[1]
        client.get(f"/w/{w.code}/report")
        assert report_job._spare[1] is spare  # one spare, however often the page is opened
        client.post(f"/w/{w.code}/report/generate")
        state = wait_for(client, w.code)
        assert state["status"] == "done", state
        assert spare.wait(timeout=30) == 0 and report_job._spare is None  # the spare rendered it, used up
        pdf = client.get(f"/w/{w.code}/report/{state['id']}.pdf")
        assert "Closed chat groups" in flat(pdf_text(pdf.data))
        pdf.close()
        client.get(f"/w/{w.code}/report")
        stale = report_job._spare[1]
        app.config["REPORT_MEMORY_MB"] = 1024  # settings changed: a spare started with the old ones goes
        client.get(f"/w/{w.code}/report")
        assert report_job._spare[1] is not stale and stale.poll() is not None
    finally:
        if report_job._spare is not None:
            report_job._discard(report_job._spare[1])
            report_job._spare = None


def test_a_render_over_its_time_limit_is_stopped_and_shown_as_failed(app, client):
    w = gen_workshop()
    login(client)
    app.config["REPORT_TIMEOUT"] = 0.05  # the child cannot even start in that time
    client.post(f"/w/{w.code}/report/generate")
    state = wait_for(client, w.code)
    assert state["status"] == "failed" and "longer than" in state["error"]
    page = client.get(f"/w/{w.code}/report").get_data(as_text=True)
    assert "could not be made" in page and "longer than" in page


def test_a_render_over_its_memory_limit_fails_alone(app, client):
    w = gen_workshop()
    login(client)
    app.config["REPORT_MEMORY_MB"] = 40  # far below what Python and WeasyPrint need
    client.post(f"/w/{w.code}/report/generate")
    state = wait_for(client, w.code)
    assert state["status"] == "failed" and state["error"]
    assert report.latest(w) is None


def test_a_report_left_behind_by_a_restart_does_not_block_a_new_one(app):
    w = gen_workshop()
    stale = Report(workshop=w, status="rendering")
    db.session.add(stale)
    db.session.commit()
    with pytest.raises(Exception, match="being made already"):
        report_job.request(w)
    stale.requested_at = stale.requested_at.replace(year=stale.requested_at.year - 1)
    db.session.commit()
    fresh = report_job.request(w)
    assert fresh.status == "queued" and stale.status == "failed" and "stopped" in stale.error


def test_the_console_links_to_the_report(app, client):
    w = gen_workshop()
    login(client)
    assert f'href="/w/{w.code}/report"' in client.get(f"/w/{w.code}/console").get_data(as_text=True)


@pytest.mark.parametrize("queued_for", [0, 4.3])
def test_made_in_is_the_wait_from_the_click_to_the_files_ready(app, client, report_dir, queued_for):
    """The report page says how long the facilitator waited: queued (a renderer starting up, another
    report first) plus rendering, not the rendering alone."""
    from datetime import timedelta

    from workshop import report_child
    w = gen_workshop(gen_facilitator(), title="Waited for")
    row = report_job.request(w)
    row.requested_at -= timedelta(seconds=queued_for)
    db.session.commit()
    started = time.monotonic()
    done = report_child.run(row.id)
    rendering = time.monotonic() - started
    assert done.status == "done"
    waited = queued_for + rendering
    assert waited - 0.3 <= done.seconds <= waited + 0.5, (done.seconds, rendering)
    login(client)
    page = client.get(f"/w/{w.code}/report").get_data(as_text=True)
    assert f"made in {done.seconds} s" in page
