"""Gzip pages and assets: venue Wi-Fi is slow and crowded.

Static files are compressed once per version (keyed by path and ETag), so a
join storm of 2,000 phones does not gzip the Socket.IO client 2,000 times.

A page drawn for one request is compressed only when that saves a round trip: one that fits
in the first flight of a TCP connection (ten segments, RFC 6928) arrives in one round trip
either way. The join page and a new phone's page (2-5 KB) are such pages: gzipping them
was a tenth of a join's CPU in a join storm, mostly zlib setting up its tables.
"""
from __future__ import annotations

import gzip
from functools import lru_cache

from flask import request

TYPES = {"text/html", "text/css", "text/javascript", "application/javascript",
         "application/json", "image/svg+xml"}
MIN_SIZE = 500  # a static file
FIRST_FLIGHT = 12_000  # a drawn page: ten segments of 1,460 bytes, less the response's headers
# A larger page (an export, a report's HTML) goes as it is: gzip of 28 MB holds the live process's
# event loop for about a second, every phone waiting (scripts/bench_freeze.py); it is a download on a LAN.
MAX_SIZE = 2_000_000


@lru_cache(maxsize=64)
def _cached(_path: str, _etag: str, data: bytes) -> bytes:
    return gzip.compress(data, 6)


def gzip_response(response):
    """Compress a 200 response of a text type when the client accepts gzip."""
    if (response.status_code != 200 or response.mimetype not in TYPES
            or "gzip" not in request.headers.get("Accept-Encoding", "")
            or "Content-Encoding" in response.headers):
        return response
    body = response.response
    response.direct_passthrough = False
    data = response.get_data()
    if hasattr(body, "close"):
        body.close()  # the file a static response streamed from
    static = request.endpoint == "static"
    if len(data) < (MIN_SIZE if static else FIRST_FLIGHT) or (len(data) > MAX_SIZE and not static):
        return response
    etag, _weak = response.get_etag()
    if static and etag:
        data = _cached(request.path, etag, data)
        response.set_etag(f"{etag}-gz")
    else:
        data = gzip.compress(data, 6)
    response.set_data(data)
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    return response
