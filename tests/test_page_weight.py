"""The phone page stays light on crowded venue Wi-Fi: measure what a phone downloads."""
import re

from tests.conftest import gen_workshop

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
