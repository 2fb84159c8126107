"""Gzip: pages and assets are compressed; a large download is not (it would hold the event loop)."""
from __future__ import annotations

import gzip

from flask import Response

from workshop.compression import MAX_SIZE, MIN_SIZE, gzip_response


def _sent(app, size: int, mimetype: str = "application/json") -> Response:
    with app.test_request_context("/w/ABC234/export.json", headers={"Accept-Encoding": "gzip"}):
        return gzip_response(Response(b"x" * size, mimetype=mimetype))


def test_pages_between_the_bounds_are_gzipped(app):
    for size in (MIN_SIZE, 50_000, MAX_SIZE):
        response = _sent(app, size)
        assert response.headers.get("Content-Encoding") == "gzip", size
        assert gzip.decompress(response.get_data()) == b"x" * size


def test_tiny_and_large_bodies_go_as_they_are(app):
    for size in (MIN_SIZE - 1, MAX_SIZE + 1, 28_000_000):
        response = _sent(app, size)
        assert "Content-Encoding" not in response.headers, size
        assert len(response.get_data()) == size


def test_other_types_are_never_gzipped(app):
    assert "Content-Encoding" not in _sent(app, 50_000, "application/pdf").headers
