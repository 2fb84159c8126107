"""The workshop report: its data (pure), rendered as HTML and PDF with WeasyPrint.

`collect` gathers everything the report shows from the database, one read model
per stage (views.stage_view, the same as the live screens'); `render_html` and `render_pdf` turn it into a
document. WeasyPrint only ever sees the app's static files and uploads
(`Fetcher`): nothing on the network, no other file. The job that renders a
report outside the live session is in `report_job.py`.
"""
from __future__ import annotations

import base64
import functools
import mimetypes
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

import pyphen
from flask import abort, current_app, render_template, send_file
from flask_babel import force_locale, format_date
from flask_babel import lazy_gettext as _l
from PIL import Image
from sqlalchemy import func, select
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse
from werkzeug.utils import secure_filename

from . import images
from .errors import Refused
from .extensions import db
from .i18n import LANGUAGES, workshop_locale
from .models import Comment, Item, Participant, Report, Stage, Vote, Workshop, utcnow
from .stages import KINDS, kind_of
from .views import View, stage_view

# The document's base URL: a name no network resolves, which only `Fetcher` answers.
ORIGIN = "https://charrette.invalid"
PAGE_SIZES = {"A4": "A4", "Letter": "letter"}
# What a spare renderer compiles while it waits (warm_up); another document adds its own (campaign_report.py).
WARM_TEMPLATES = ["_macros.html", "report/report.html", "report/_parts.html", "report/_document.html"]
# A report file name as report_job writes it: random, with no path in it.
FILE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}\.(pdf|html)$")


@dataclass
class Cover:
    """The first page: what the workshop was, who ran it, who took part."""

    title: str
    topic: str
    description: str
    dates: str
    facilitator: str
    org_name: str
    org_logo: dict | None
    groups: list[tuple[str, int]]
    participants: int
    anonymous: bool


@dataclass
class ReportData:
    """Everything the report shows: the cover, the agreed strategy and one view per stage."""

    workshop: Workshop
    cover: Cover
    stages: list[View] = field(default_factory=list)
    strategy: View | None = None
    generated: str = ""


def collect(workshop: Workshop) -> ReportData:
    """Gather the report's data from the database (every stage, item, vote and comment)."""
    counts = Counter(db.session.scalars(select(Participant.group).where(
        Participant.workshop_id == workshop.id)))
    order = list(workshop.groups) + sorted(g for g in counts if g not in workshop.groups)
    cover = Cover(
        title=workshop.title, topic=workshop.topic, description=workshop.description,
        dates=_dates(workshop), facilitator=workshop.facilitator.name, org_name=workshop.org_name,
        org_logo=workshop.org_logo, groups=[(g, counts[g]) for g in order if counts.get(g)],
        participants=sum(counts.values()), anonymous=not workshop.collect_names)
    data = ReportData(workshop=workshop, cover=cover, generated=format_date(utcnow(), "long"))
    participants = cover.participants
    for stage in workshop.stages:
        if not kind_of(stage).playable:
            continue
        view = stage_view(workshop, stage, participants)
        data.stages.append(view)
        if view.kind.holds_strategy:
            data.strategy = view  # the last strategy stage is the one agreed
    return data


def _dates(workshop: Workshop) -> str:
    """Return the day(s) the workshop ran, from its first to its last recorded activity."""
    moments = [workshop.created_at]
    for column, model in ((Item.created_at, Item), (Vote.updated_at, Vote), (Comment.created_at, Comment)):
        first, last = db.session.execute(select(func.min(column), func.max(column)).join(
            Stage, model.stage_id == Stage.id).where(Stage.workshop_id == workshop.id)).one()
        moments += [m for m in (first, last) if m is not None]
    moments += [s.decided_at for s in workshop.stages if s.decided_at]
    start, end = min(moments).date(), max(moments).date()
    if start == end:
        return format_date(start, "long")
    return f"{format_date(start, 'long')} – {format_date(end, 'long')}"


# --- rendering ---------------------------------------------------------------------

def _css() -> str:
    """Return the report's stylesheet, to inline: the document then stands on its own."""
    return (Path(current_app.static_folder) / "css" / "report.css").read_text(encoding="utf-8")


def image_src(image: dict) -> str:
    """Return the URL of an image's sharp (1600 px) copy, as the report document names it."""
    return f"{ORIGIN}/media/{images.filename(image, images.WIDTHS[-1])}"


def render_html(workshop: Workshop) -> str:
    """Render the report as one HTML document, in the workshop's language."""
    with workshop_locale(workshop):
        data = collect(workshop)
        return render_template("report/report.html", r=data, css=_css(), image_src=image_src,
                               page_size=PAGE_SIZES.get(workshop.page_size, "A4"),
                               cover_height="279mm" if workshop.page_size == "Letter" else "297mm")


MEDIA_URL = re.compile(re.escape(ORIGIN) + r"/media/([A-Za-z0-9_.-]+)")


def inline_images(html: str) -> str:
    """Embed the report's images as data: URIs, so the HTML file stands on its own."""
    def data_uri(match: re.Match) -> str:
        path = images.file_path(match[1])
        if path is None:
            return ""
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"
    return MEDIA_URL.sub(data_uri, html)


class Fetcher(URLFetcher):
    """Serve WeasyPrint the app's static files and uploads by name, from disk; refuse anything else.

    User text is autoescaped, so markup in it never reaches WeasyPrint as markup:
    this is the second wall. No network, no file:// URL, no path outside the two folders.
    """

    def fetch(self, url, headers=None):
        """Return a static file or an upload under ORIGIN; raise for any other URL."""
        path = self.resolve(url)
        if path is None:
            raise ValueError(f"Refused to fetch {url[:200]!r}: not one of the app's own files.")
        if path.suffix in (".png", ".webp") and url.startswith(ORIGIN + "/media/"):
            return URLFetcherResponse(url, print_copy(path), {"Content-Type": "image/jpeg"})
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})

    @staticmethod
    def resolve(url: str) -> Path | None:
        """Return the file a URL names, if it is one of the app's static files or uploads."""
        if not url.startswith(ORIGIN + "/"):
            return None
        parts = urlsplit(url)
        path = unquote(parts.path)
        if parts.query or ".." in path or "\\" in path or "\x00" in path:
            return None
        if path.startswith("/media/"):
            return images.file_path(path.removeprefix("/media/"))
        if path.startswith("/static/"):
            root = Path(current_app.static_folder).resolve()
            target = (root / path.removeprefix("/static/")).resolve()
            if target.is_relative_to(root) and target.is_file():
                return target
        return None


def print_copy(source: Path | BinaryIO) -> bytes:
    """Return an uploaded PNG or WebP image as a JPEG for the PDF, transparency on white paper.

    WeasyPrint embeds a JPEG as it is, but decodes a PNG or WebP and compresses it again as
    PNG: 50 ms for each 1200 x 800 poster, a third of a second for the six in a 28-page report.
    The same pixels as a JPEG cost 20 ms. Quality 92 without chroma subsampling keeps text and
    edges sharp at the printed size (240 dpi for the 1600 px copy).
    """
    with Image.open(source) as image:
        image.load()
        if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            rgba = image.convert("RGBA")
            image = Image.new("RGB", rgba.size, "white")
            image.paste(rgba, mask=rgba.getchannel("A"))
        elif image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        out = BytesIO()
        image.save(out, "JPEG", quality=92, subsampling=0)
    return out.getvalue()


@functools.lru_cache(maxsize=2)
def _stylesheet(css: str) -> CSS:
    """Return report.css parsed by WeasyPrint: once per process (a spare renderer, while it waits)."""
    return CSS(string=css, base_url=ORIGIN + "/", url_fetcher=Fetcher())


def _split_style(html: str) -> tuple[str, list[CSS] | None]:
    """Take the report's <style> out of its HTML, as stylesheets: report.css parsed once, the page rules.

    Both go in as WeasyPrint's "user" stylesheets, which a document's own <style> would override:
    so the page rules after report.css (page size, page numbers) leave the <style> too, and keep
    their order and precedence (@page :first still hides the number on the cover).
    """
    css = _css()
    start = html.find(f"<style>\n{css}")
    if start == -1:
        return html, None
    rules_at = start + len("<style>\n") + len(css)
    end = html.index("</style>", rules_at)
    page_rules = CSS(string=html[rules_at:end], base_url=ORIGIN + "/", url_fetcher=Fetcher())
    return html[:start] + html[end + len("</style>"):], [_stylesheet(css), page_rules]


def render_pdf(html: str) -> tuple[bytes, int]:
    """Render report HTML to a tagged PDF (PDF/UA-1); return the bytes and the page count.

    report.css is handed to WeasyPrint parsed (_split_style): 1% of the render, done once.
    """
    html, stylesheets = _split_style(html)
    document = HTML(string=html, base_url=ORIGIN + "/", url_fetcher=Fetcher()).render(stylesheets=stylesheets)
    pdf = document.write_pdf(pdf_variant="pdf/ua-1")
    return pdf, len(document.pages)


def warm_up() -> None:
    """Load what every render needs before a report is asked for: templates, fonts, hyphenation.

    A spare renderer (report_job) calls this while it waits, so a report's own seconds go to
    its pages: compiling the templates, loading each language's dates and numbers, reading its
    hyphenation patterns and opening the fonts (every weight, the fallback for symbols,
    Cyrillic) by laying out a page of everything a report uses (report/warm_up.html) happen once.
    Measured on the scale-1 report (28 pages): a spare warmed with the old three-line page
    still spent about 0.4 CPU seconds on these in the real render.
    """
    env = current_app.jinja_env
    for name in (*WARM_TEMPLATES, *sorted({k.template for k in KINDS.values()})):
        env.get_template(name)
    for code in LANGUAGES:
        with force_locale(code):
            format_date(utcnow(), "long")
        # The patterns WeasyPrint hyphenates table headings with (hyphens: auto), cached by pyphen:
        # loading them took 0.1 s in the render, as no warm-up heading was long enough to need them.
        pyphen.Pyphen(lang=pyphen.language_fallback(code) or "en")
    tiny = BytesIO()
    Image.new("RGBA", (8, 8)).save(tiny, "PNG")
    print_copy(tiny)  # Pillow's PNG decoder and JPEG encoder
    _stylesheet(_css())  # parsed once, for every render in this process (render_pdf)
    render_pdf(render_template("report/warm_up.html", css=_css(), languages=LANGUAGES))


# --- the cover settings ----------------------------------------------------------------

def set_cover(workshop: Workshop, org_name: str, page_size: str, logo=None,
              remove_logo: bool = False) -> None:
    """Store the report's organisation name, paper size and logo (checked and re-encoded by images.py)."""
    if page_size not in PAGE_SIZES:
        raise Refused(_l("Choose A4 or US Letter."))
    new_logo = images.save(logo) if logo is not None else None  # refuses a bad file before any change
    if new_logo or remove_logo:
        images.delete(workshop.org_logo)
        workshop.org_logo = new_logo
    workshop.org_name = org_name
    workshop.page_size = page_size
    db.session.commit()


# --- the files, for the download routes and for sharing -------------------------------

def folder() -> Path:
    """Return REPORT_DIR, created if missing."""
    path = Path(current_app.config["REPORT_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_path(name: str | None) -> Path | None:
    """Return the path of a rendered report file inside REPORT_DIR, or None for any other name."""
    if not name or not FILE_NAME.match(name):
        return None
    path = folder() / name
    return path if path.is_file() else None


def latest(workshop: Workshop) -> Report | None:
    """Return the workshop's newest report that rendered successfully (its files exist)."""
    return db.session.scalar(select(Report).where(
        Report.workshop_id == workshop.id, Report.status == "done").order_by(Report.id.desc()).limit(1))


def newest(workshop: Workshop) -> Report | None:
    """Return the workshop's newest report in any state (what the report page shows)."""
    return db.session.scalar(select(Report).where(Report.workshop_id == workshop.id)
                             .order_by(Report.id.desc()).limit(1))


def download(row, fmt: str, title: str):
    """Send a finished report's PDF (as a file) or its self-contained HTML page; 404 for anything else.

    `row` is a Report or another document's row (campaign_report.py) that the caller checked is
    the signed-in facilitator's.
    """
    if row is None or row.status != "done" or fmt not in ("pdf", "html"):
        abort(404)
    path = file_path(row.pdf_file if fmt == "pdf" else row.html_file)
    if path is None:
        abort(404)
    name = f"{secure_filename(title) or 'report'}.{fmt}"
    response = send_file(path, mimetype="application/pdf" if fmt == "pdf" else "text/html",
                         as_attachment=fmt == "pdf", download_name=name, max_age=0)
    if fmt == "html":
        # The page is self-contained: its own styles and data: images, no script at all.
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox")
    response.headers["Cache-Control"] = "private, no-store"
    return response


def status(report: Report | None) -> dict:
    """Return a report's state for the status JSON and the page."""
    if report is None:
        return {"status": "none"}
    return {"id": report.id, "status": report.status, "pages": report.pages, "seconds": report.seconds,
            "error": report.error, "requested_at": _iso(report.requested_at),
            "finished_at": _iso(report.finished_at)}


def _iso(moment: datetime | None) -> str | None:
    """Format a stored (naive UTC) time as ISO 8601 with its zone."""
    return moment.isoformat(timespec="seconds") + "Z" if moment else None
