"""Drive Debian's Chromium from inside a network namespace, for tests/test_network_rooms.py.

Run as `ip netns exec NS python3 -m tests.netns_browser SHOTS_DIR`: the browser then
sees only that namespace's network, as a laptop or a phone on the room's Wi-Fi would.
It reads one JSON command a line on stdin and answers one JSON line on stdout:

  {"do": "page", "name": N, "options": {...}}      a new browser context (a device) and its page
  {"do": "page", "name": N, "beside": M, "options": {"viewport": ...}}
                                                    another page in M's context (same cookies)
  {"do": "run", "name": N, "chain": [[attribute, *args], ...]}
                                                    page.attribute(*args).attribute(*args)...; its value
                                                    (a property is read, not called)
  {"do": "expect", "name": N, "selector": S, "check": "to_have_text", "args": [...]}
                                                    Playwright's expect on page.locator(S).first;
                                                    an argument {"re": "..."} is a regular expression
  {"do": "shot", "name": N, "path": PNG}           a screenshot of the page
  {"do": "requests", "name": N}                     every URL the page requested so far
  {"do": "qr", "path": PNG}                         the texts of the QR codes in a picture (zxing-cpp)
  {"do": "axe", "name": N}                          axe-core's serious and critical violations
  {"do": "wait_http", "url": U}                     wait until the URL answers

An answer is {"value": ...} or {"error": "..."}; on an error every page is saved as
SHOTS_DIR/<name>-error.png.
"""
from __future__ import annotations

import json
import re
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from tests.a11y import AXE, axe, blocking
from tests.support import launch_browser

TIMEOUT_MS = 15_000


def _arg(value):
    return re.compile(value["re"]) if isinstance(value, dict) and set(value) == {"re"} else value


def _plain(value):
    """Return a value that JSON can carry (Playwright objects are left out)."""
    try:
        json.dumps(value)
        return value
    except TypeError:
        return None


def _wait_http(url: str, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return urllib.request.urlopen(url, timeout=2).status
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def main(shots: Path) -> None:
    """Answer commands until stdin closes."""
    import zxingcpp
    from PIL import Image

    pages, requested = {}, {}
    with sync_playwright() as pw:
        browser = launch_browser(pw)
        expect.set_options(timeout=TIMEOUT_MS)
        for line in sys.stdin:
            command = json.loads(line)
            name = command.get("name")
            try:
                do = command["do"]
                if do == "page":
                    options = command.get("options", {})
                    if command.get("beside"):  # another window of the same browser: same cookies
                        page = pages[name] = pages[command["beside"]].context.new_page()
                        page.set_viewport_size(options["viewport"])
                    else:
                        context = browser.new_context(**options)
                        context.set_default_timeout(TIMEOUT_MS)
                        page = pages[name] = context.new_page()
                    requested[name] = []
                    page.on("request", lambda r, seen=requested[name]: seen.append(r.url))
                    value = None
                elif do == "run":
                    value = pages[name]
                    for attribute, *args in command["chain"]:
                        value = getattr(value, attribute)
                        if callable(value):
                            value = value(*map(_arg, args))
                    value = _plain(value)
                elif do == "expect":
                    locator = pages[name].locator(command["selector"]).first
                    getattr(expect(locator), command["check"])(*map(_arg, command.get("args", [])))
                    value = None
                elif do == "shot":
                    value = pages[name].screenshot(path=command["path"]) and None
                elif do == "requests":
                    value = list(requested[name])
                elif do == "qr":
                    value = [code.text for code in zxingcpp.read_barcodes(Image.open(command["path"]))]
                elif do == "axe":
                    value = blocking(axe(pages[name])) if AXE.exists() else None
                elif do == "wait_http":
                    value = _wait_http(command["url"])
                else:
                    raise ValueError(f"unknown command {do!r}")
                answer = {"value": value}
            except Exception as error:  # told to the test, which fails with it
                for page_name, page in pages.items():
                    try:
                        page.screenshot(path=shots / f"{page_name}-error.png")
                    except Exception:  # a crashed page must not hide the real error
                        pass
                answer = {"error": f"{type(error).__name__}: {error}"}
            print(json.dumps(answer), flush=True)
        browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
