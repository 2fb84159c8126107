"""Where phones can reach this laptop: the public join URL and its QR code."""
from __future__ import annotations

import socket
from functools import lru_cache

import segno
from flask import current_app
from markupsafe import Markup


@lru_cache(maxsize=1)
def lan_address() -> str:
    """Return this machine's address on the local network, or 127.0.0.1.

    Connecting a UDP socket sends no packet; it only asks the kernel which
    interface would carry traffic to the documentation address 192.0.2.1.
    """
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))
        address = probe.getsockname()[0]
    except OSError:
        address = ""
    finally:
        probe.close()
    if not address or address.startswith("0."):
        try:
            address = socket.gethostbyname(socket.gethostname())
        except OSError:
            address = "127.0.0.1"
    return address


def public_url() -> str:
    """Return the base URL phones use, without a trailing slash."""
    configured = current_app.config.get("PUBLIC_URL")
    if configured:
        return configured.rstrip("/")
    return f"http://{lan_address()}:{current_app.config['PORT']}"


def join_url(code: str) -> str:
    """Return the short URL that opens a workshop's join page."""
    return f"{public_url()}/{code}"


def display_url(code: str) -> str:
    """Return the join URL as people type it: no scheme."""
    return join_url(code).split("://", 1)[-1]


def qr_svg(code: str, scale: int = 8) -> Markup:
    """Return an inline SVG QR code for a workshop's join URL."""
    qr = segno.make(join_url(code), error="m")
    svg = qr.svg_inline(scale=scale, border=2, dark="#000", light="#fff", omitsize=True, title=f"Join {code}")
    # B704 (Markup): segno writes this SVG itself, path data for the modules and an XML-escaped
    # title, from a join code of our own alphabet; no participant text reaches it.
    return Markup(svg)  # nosec B704
