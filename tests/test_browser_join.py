"""The join path in Chromium against a real server: how many requests from the QR code to a live phone.

A join storm is every phone of a plenary doing this at once, so each request counts: the
QR code's URL answers with the join page itself, and the join form's POST with the live
phone page (no redirects); the session cookie is sent when it changes, not with every page;
a reload after joining asks for the page again by GET (live.js turns the POST's history
entry into a GET), it does not post the form again.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.support import PHONE, launch_browser, server_and_app

pytestmark = pytest.mark.browser


def _app_requests(log: list, base: str) -> list[tuple[str, str]]:
    """(method, path) of the requests the app itself answered: no static files, no Socket.IO."""
    out = []
    for method, url, _cookie in log:
        path = url[len(base):].split("?", 1)[0]
        if not path.startswith(("/static/", "/socket.io/", "/favicon")):
            out.append((method, path))
    return out


def test_from_the_qr_code_to_a_live_phone_takes_two_requests_and_one_socket(tmp_path):
    from tests.conftest import gen_workshop

    with server_and_app(tmp_path, "join") as (base, _app, _shots), sync_playwright() as pw:
        workshop = gen_workshop(title="Join storm", topic="Requests per join")
        code, group = workshop.code, workshop.groups[1]
        browser = launch_browser(pw)
        try:
            phone = browser.new_context(**PHONE)
            page = phone.new_page()
            log, sockets = [], []

            def answered(response):
                log.append((response.request.method, response.url, response.header_value("set-cookie")))

            page.on("response", answered)
            page.on("websocket", lambda ws: sockets.append(ws.url))

            page.goto(f"{base}/{code}")  # what the QR code opens
            page.check(f"input[name=group][value='{group}']")
            page.click("button:has-text('Join')")
            expect(page.locator("[data-conn=connected], [data-conn=saved]")).to_be_visible(timeout=15_000)
            expect(page.locator("body[data-role=phone]")).to_be_visible()

            assert _app_requests(log, base) == [("GET", f"/{code}"), ("POST", f"/j/{code}")]
            assert len(sockets) == 1 and "transport=websocket" in sockets[0]  # no polling handshake
            cookies = [(method, url[len(base):]) for method, url, cookie in log
                       if cookie and "session=" in cookie]
            # The join page's CSRF token, then the participant: each session cookie sent once.
            assert cookies == [("GET", f"/{code}"), ("POST", f"/j/{code}")]

            log.clear()
            page.reload()  # no "resubmit the form?": the page is asked for again, by GET
            expect(page.locator("[data-conn=connected], [data-conn=saved]")).to_be_visible(timeout=15_000)
            assert _app_requests(log, base) == [("GET", f"/j/{code}")]
            assert not [cookie for *_rest, cookie in log if cookie and "session=" in cookie]
            assert group in page.locator("body").inner_text()
        finally:
            browser.close()


def test_a_joined_phone_needs_no_first_sync_and_stays_live(tmp_path):
    """The join's answer is the phone's view, drawn with a running timer and what a sync would add:
    the socket sends nothing on its first connection, and the room's next step still reaches it."""
    from sqlalchemy import select

    from tests.conftest import gen_workshop
    from tests.support import sign_in
    from workshop.extensions import db
    from workshop.flow import phases
    from workshop.models import Facilitator

    with server_and_app(tmp_path, "drawn") as (base, _app, _shots), sync_playwright() as pw:
        demo = db.session.scalar(select(Facilitator).where(Facilitator.email == "demo@example.org"))
        workshop = gen_workshop(demo, title="Drawn pages", topic="No first sync")
        code = workshop.code
        phases.start_timer(workshop, 300)
        browser = launch_browser(pw)
        try:
            page = browser.new_context(**PHONE).new_page()
            sent = []
            page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(frame)))
            page.goto(f"{base}/{code}")
            page.check(f"input[name=group][value='{workshop.groups[0]}']")
            page.click("button:has-text('Join')")
            expect(page.locator("[data-conn=connected], [data-conn=saved]")).to_be_visible(timeout=15_000)
            expect(page.locator("[data-timer]").first).to_be_visible()  # the timer, from the drawn page
            page.wait_for_timeout(500)
            assert not [frame for frame in sent if '"sync"' in str(frame)], sent
            assert not page.locator("form[data-event='idea:add']").count()

            console = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
            sign_in(console, base)
            console.goto(f"{base}/w/{code}/console")
            expect(console.locator("#view [aria-keyshortcuts=N]")).to_be_visible(timeout=15_000)
            console.locator("body").press("n")  # the next step: open the stage for ideas
            expect(page.locator("form[data-event='idea:add']")).to_be_visible(timeout=15_000)
        finally:
            browser.close()
