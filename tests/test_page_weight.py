"""The phone page stays light on crowded venue Wi-Fi: measure what a phone downloads."""
import re

from tests.conftest import add_item, gen_workshop

BUDGET = 60 * 1024  # bytes, compressed: HTML + CSS + JS (no web fonts, no images)


def phone_assets(client, code):
    """Return {url: compressed bytes} for the phone page and everything it loads."""
    headers = {"Accept-Encoding": "gzip"}
    page = client.get(f"/j/{code}", headers=headers)
    sizes = {f"/j/{code}": len(page.data)}
    html = page.get_data(as_text=True) if page.content_encoding != "gzip" else \
        __import__("gzip").decompress(page.data).decode()
    queue = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    while queue:
        url = queue.pop()
        if url in sizes:
            continue
        r = client.get(url, headers=headers)
        assert r.status_code == 200, url
        assert r.content_encoding == "gzip", url
        sizes[url] = len(r.data)
        if url.endswith(".js"):
            text = __import__("gzip").decompress(r.data).decode()
            base = url.rsplit("/", 1)[0]
            queue += [f"{base}/{m}" for m in re.findall(r'from "\./([^"]+)"', text)]
        r.close()
    return sizes


def test_phone_page_total_transfer_is_small_and_compressed(client):
    w = gen_workshop()
    client.post(f"/j/{w.code}", data={"group": "Youth"})
    sizes = phone_assets(client, w.code)
    total = sum(sizes.values())
    print("\nphone page transfer (gzip):", {k: v for k, v in sorted(sizes.items())}, "total", total)
    assert any("socket.io" in url for url in sizes) and any(url.endswith("live.js") for url in sizes)
    assert total <= BUDGET, f"phone page weighs {total} bytes compressed"


def test_every_phone_screen_stays_within_budget(client):
    """The page is drawn by the server now: weigh it in every stage kind's busiest phase."""
    from tests.conftest import decide, gen_ideas, gen_participant, goto
    from workshop.flow import phases
    w = gen_workshop()
    gen_ideas(w, *[f"Trend {n}: recruiters reach young people through closed groups" for n in range(12)])
    client.post(f"/j/{w.code}", data={"group": "Youth"})
    static = {url: n for url, n in phone_assets(client, w.code).items() if url.startswith("/static/")}
    weights = {}
    trend = w.current_stage
    for phase in ("collect", "vote", "results"):
        phases.set_phase(w, trend.id, phase)
        if phase == "results":
            phases.reveal(w, trend.id, True)
        weights[f"trend {phase}"] = phone_assets(client, w.code)[f"/j/{w.code}"]
    decide(w, trend, item_ids=[trend.items[0].id])
    audience = goto(w, "audience", "collect")
    for n in range(6):
        add_item(w, gen_participant(w), {"cid": f"seg-{n:05d}", "title": f"Segment {n}", "age": "18-25",
                                              "place": "Two provinces", "channels": "TikTok, radio"})
    phases.set_phase(w, audience.id, "vote")
    weights["audience vote"] = phone_assets(client, w.code)[f"/j/{w.code}"]
    for kind in ("concepts", "drafts"):
        stage = goto(w, kind)
        for n in range(4):
            extra = {"message": "Ask three questions before you go"} if kind == "concepts" else {}
            add_item(w, None, {"stage_id": stage.id, "title": f"{kind} {n}", "detail": "A script. " * 40,
                                    **extra})
        phases.set_phase(w, stage.id, "vote")
        weights[f"{kind} vote"] = phone_assets(client, w.code)[f"/j/{w.code}"]
    strategy = goto(w, "strategy", "draft")
    phases.set_phase(w, strategy.id, "vote")
    weights["strategy vote"] = phone_assets(client, w.code)[f"/j/{w.code}"]
    totals = {screen: html + sum(static.values()) for screen, html in weights.items()}
    print("\nphone screens, total first load (gzip):", totals)
    assert len(totals) == 7 and all(html > 500 for html in weights.values())  # the view is in the page
    assert max(totals.values()) <= BUDGET, totals
