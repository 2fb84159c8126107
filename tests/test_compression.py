"""Gzip: assets and large pages are compressed; a page that arrives in one round trip either way, and
a large download (it would hold the event loop), go as they are."""
from __future__ import annotations

import gzip
from pathlib import Path

from flask import Response

from workshop.compression import FIRST_FLIGHT, MAX_SIZE, MIN_SIZE, gzip_response

GZIP = {"Accept-Encoding": "gzip"}


def _sent(app, size: int, mimetype: str = "application/json") -> Response:
    with app.test_request_context("/w/ABC234/export.json", headers=GZIP):
        return gzip_response(Response(b"x" * size, mimetype=mimetype))


def test_pages_between_the_bounds_are_gzipped(app):
    for size in (FIRST_FLIGHT, 50_000, MAX_SIZE):
        response = _sent(app, size)
        assert response.headers.get("Content-Encoding") == "gzip", size
        assert gzip.decompress(response.get_data()) == b"x" * size


def test_pages_of_one_first_flight_and_large_bodies_go_as_they_are(app):
    for size in (MIN_SIZE, FIRST_FLIGHT - 1, MAX_SIZE + 1, 28_000_000):
        response = _sent(app, size)
        assert "Content-Encoding" not in response.headers, size
        assert len(response.get_data()) == size


def test_a_small_asset_is_gzipped_once_per_version(client):
    """Assets are cached by the phone and compressed once here, so small ones are compressed too."""
    path = Path("static/js/join.js")
    assert MIN_SIZE <= path.stat().st_size < FIRST_FLIGHT
    first, again = (client.get("/static/js/join.js", headers=GZIP) for _ in range(2))
    assert first.headers["Content-Encoding"] == "gzip" and first.data == again.data
    assert gzip.decompress(first.data) == path.read_bytes()


def test_a_new_phones_pages_go_uncompressed_and_a_long_ballot_compressed(client):
    """The join page and a new phone's page fit in a first flight; a ballot of many ideas does not."""
    from tests.conftest import gen_ideas, gen_workshop
    from workshop.flow import phases
    w = gen_workshop()
    join = client.get(f"/{w.code}", headers=GZIP)
    joined = client.post(f"/j/{w.code}", data={"group": "Youth"}, headers=GZIP)
    for page in (join, joined):
        assert page.status_code == 200 and "Content-Encoding" not in page.headers
        assert len(page.data) < FIRST_FLIGHT and b"<html" in page.data
    gen_ideas(w, *[f"Idea {n}: young people follow creators who talk about money online" for n in range(60)])
    phases.set_phase(w, w.current_stage.id, "vote")
    ballot = client.get(f"/j/{w.code}", headers=GZIP)
    assert ballot.headers["Content-Encoding"] == "gzip"
    assert b"talk about money online" in gzip.decompress(ballot.data)


def test_other_types_are_never_gzipped(app):
    assert "Content-Encoding" not in _sent(app, 50_000, "application/pdf").headers
