"""Time a phone on a slow 3G network: how long until each phone screen can be used.

    python scripts/slow_network.py [--down-kbps 400] [--rtt-ms 400] [--cpu 4]

Starts its own server (gevent, temporary SQLite, the demo workshop) and Debian's
Chromium as a 360 x 640 phone, throttled through the DevTools protocol
(Network.emulateNetworkConditions: 400 kbit/s both ways, 400 ms round trip by
default; Emulation.setCPUThrottlingRate 4 for a cheap phone). For every screen it
prints, from the start of navigation:

  html      the page's HTML has arrived (responseEnd)
  content   the server-drawn view is on screen (DOMContentLoaded): usable with plain forms
  live      the socket is connected and the live view drawn (interactive with JavaScript)
  bytes     what went over the wire (compressed, headers included), images separately

and the time from a tap to "Saved" for one vote. Numbers, not a test: the network and
the machine vary.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.a11y import Walk  # noqa: E402
from tests.support import launch_browser, running_server  # noqa: E402

SCREENS = [("trend", "collect"), ("trend", "vote"), ("audience", "vote"), ("concepts", "vote"),
           ("drafts", "vote"), ("strategy", "vote")]


class Wire:
    """Count the bytes a page receives, through the DevTools protocol."""

    def __init__(self, cdp):
        self.types: dict[str, str] = {}
        self.bytes = {"page": 0, "images": 0}
        cdp.on("Network.responseReceived", lambda e: self.types.__setitem__(e["requestId"], e["type"]))
        cdp.on("Network.loadingFinished", self.finished)
        cdp.on("Network.webSocketFrameReceived",
               lambda e: self.add("page", len(e["response"]["payloadData"])))

    def finished(self, event) -> None:
        """Add one finished response to the total of its kind."""
        kind = "images" if self.types.get(event["requestId"]) == "Image" else "page"
        self.add(kind, event["encodedDataLength"])

    def add(self, kind: str, n: int) -> None:
        """Count n bytes."""
        self.bytes[kind] += int(n)

    def reset(self) -> None:
        """Start counting a new page."""
        self.bytes = {"page": 0, "images": 0}


def timings(page) -> dict:
    """Return responseEnd and DOMContentLoaded of the last navigation, in ms."""
    return page.evaluate("""() => { const n = performance.getEntriesByType('navigation')[0];
        return {html: n.responseEnd, content: n.domContentLoadedEventEnd}; }""")


def visit(page, wire, url: str, live_selector: str | None) -> dict:
    """Load a URL and measure it; wait for the live view when a selector is given."""
    wire.reset()
    start = time.monotonic()
    page.goto(url, wait_until="domcontentloaded", timeout=120_000)
    result = timings(page)
    if live_selector:
        page.wait_for_selector("[data-conn=connected], [data-conn=saved]", timeout=120_000)
        page.wait_for_selector(live_selector, state="attached", timeout=120_000)
        result["live"] = (time.monotonic() - start) * 1000
    page.wait_for_load_state("load", timeout=120_000)
    page.wait_for_timeout(500)
    return {**result, **wire.bytes}


def main() -> None:
    """Measure every phone screen on a throttled network and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--down-kbps", type=int, default=400)
    parser.add_argument("--up-kbps", type=int, default=400)
    parser.add_argument("--rtt-ms", type=int, default=400)
    parser.add_argument("--cpu", type=float, default=4, help="CPU slow-down factor (1 = none)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, running_server(Path(tmp)) as base, sync_playwright() as pw:
        browser = launch_browser(pw)
        walk = Walk(Path(tmp))
        context = browser.new_context(viewport={"width": 360, "height": 640}, device_scale_factor=2,
                                      is_mobile=True, has_touch=True)
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
        cdp.send("Network.emulateNetworkConditions", {
            "offline": False, "latency": args.rtt_ms,
            "downloadThroughput": args.down_kbps * 1000 / 8, "uploadThroughput": args.up_kbps * 1000 / 8})
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": args.cpu})
        wire = Wire(cdp)
        print(f"slow network: {args.down_kbps} kbit/s down, {args.up_kbps} kbit/s up, {args.rtt_ms} ms RTT, "
              f"CPU x{args.cpu}; phone 360x640")
        print(f"{'screen':28} {'html':>7} {'content':>8} {'live':>7} {'bytes':>8} {'images':>8}")
        rows = []
        rows.append(("enter code (first visit)", visit(page, wire, base + "/", None)))
        page.fill("#code", walk.code)
        page.click("button:has-text('Join')")
        page.wait_for_selector("input[name=group]", timeout=120_000)
        page.check("input[name=group][value='Youth']")
        wire.reset()
        start = time.monotonic()
        page.click("button:has-text('Join')")
        page.wait_for_selector("[data-conn=connected], [data-conn=saved]", timeout=120_000)
        rows.append(("join -> live phone page", {**timings(page), "live": (time.monotonic() - start) * 1000,
                                                  **wire.bytes}))
        for kind, phase in SCREENS:
            stage = walk.stage(kind)
            from workshop.flow import phases
            phases.goto_stage(walk.fresh(), stage.id)
            phases.set_phase(walk.fresh(), stage.id, phase)
            rows.append((f"{kind} {phase} (reload)",
                         visit(page, wire, f"{base}/j/{walk.code}", f"#view [data-phase='{phase}']")))
        for name, r in rows:
            live = f"{r['live']:.0f}" if "live" in r else "-"
            print(f"{name:28} {r['html']:7.0f} {r['content']:8.0f} {live:>7} {r['page']:8d} {r['images']:8d}")
        # One vote: tap to "Saved" over the throttled socket.
        phases.goto_stage(walk.fresh(), walk.stage("trend").id)
        phases.set_phase(walk.fresh(), walk.stage("trend").id, "vote")
        visit(page, wire, f"{base}/j/{walk.code}", "#view [data-phase='vote']")
        start = time.monotonic()
        page.locator(".dot-card").first.locator("button.plus").click()
        page.wait_for_selector("[data-conn=saved]", timeout=60_000)
        print(f"tap '+' -> 'Saved': {(time.monotonic() - start) * 1000:.0f} ms")
        walk.close()
        browser.close()


if __name__ == "__main__":
    main()
