"""Does one request freeze the room? Vote acknowledgements of 100 phones while heavy files come in.

    python scripts/bench_freeze.py                       # this checkout
    python scripts/bench_freeze.py --checkout /tmp/base  # another checkout (its own wsgi.py)

A benchmark (it prints numbers), not a test. It starts the real server (`python wsgi.py`,
gevent, an SQLite file: tests/support.AppProcess), signs in as the demo facilitator, makes a
workshop with a concepts stage and a partner link, joins 100 phones over HTTP and Socket.IO
(real clients) and has each of them vote about once a second, each vote waiting for its
acknowledgement. It measures the acknowledgements' p99 while nothing else happens (idle), then
while each of these runs, one after another:

  1. a hostile 1 x 39,999,999 px PNG (about 75 KB) uploaded through the partner link (no account)
  2. a plain 40-megapixel PNG (8000 x 5000) uploaded by the facilitator
  3. the import of a workshop file holding three 1 x 39,999,999 px images
  4. the import of a workshop file with 160,000 votes (2,000 participants x 80 items)
  5. the CSV and the JSON export of that imported workshop

Each window runs from the request's start to its answer (at least --window seconds). The bar:
every window's p99 within +50 ms of the idle p99. "answer" is the request's own time and status
(a refusal's time is the time to refusal).
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import random
import re
import struct
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.benchkit.load import Fleet, csrf, facilitator, new_http  # noqa: E402
from scripts.benchkit.screens import Screen  # noqa: E402
from tests.support import AppProcess  # noqa: E402

TOKEN_RE = re.compile(r"/p/([A-Za-z0-9_-]{20,})")
STAGE_RE = re.compile(r"/p/[A-Za-z0-9_-]+/stages/(\d+)/items")
CODE_RE = re.compile(r"/w/([^/]+)/share")
LONG = None  # the attacks' HTTP timeout (aiohttp.ClientTimeout), set from --http-timeout


# --- the files ---------------------------------------------------------------------

def png(width: int, height: int, mode: str = "L") -> bytes:
    """Return a PNG of one colour, written row by row (never held decoded): tiny for its pixels."""
    channels = {"L": 1, "RGB": 3}[mode]
    colour = {"L": 0, "RGB": 2}[mode]

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack("!I", len(data)) + kind + data + struct.pack("!I", zlib.crc32(kind + data))

    row = b"\x00" + b"\xc8" * (width * channels)
    squeeze = zlib.compressobj(9)
    parts, left = [], height
    while left:
        n = min(left, max(1, 4_000_000 // len(row)))
        parts.append(squeeze.compress(row * n))
        left -= n
    parts.append(squeeze.flush())
    header = struct.pack("!IIBBBBB", width, height, 8, colour, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def with_huge_images(template: dict, stage_id: int, picture: bytes) -> bytes:
    """Return the template workshop with three items in the concepts stage, each a hostile image."""
    data = json.loads(json.dumps(template))
    data["items"] = [{"id": 9000 + k, "stage_id": stage_id, "participant_id": None, "title": f"Poster {k}",
                      "detail": "", "data": {}, "hidden": False, "merged_into_id": None,
                      "created_at": "2026-12-01T10:00:00",
                      "image": {"width": 1, "height": 39_999_999, "format": "png",
                                "data": base64.b64encode(picture).decode()}} for k in range(3)]
    data["votes"], data["comments"], data["participants"] = [], [], []
    data.pop("results", None)
    return json.dumps(data).encode()


def with_votes(template: dict, stage_id: int, people: int = 2000, items: int = 80) -> bytes:
    """Return the template workshop with `people` participants each voting on `items` items."""
    data = json.loads(json.dumps(template))
    data["workshop"]["current_stage_id"] = None
    for stage in data["stages"]:
        if stage["id"] == stage_id:
            stage["phase"] = "vote"
    groups = data["workshop"]["groups"]
    data["participants"] = [{"id": p, "name": "", "group": groups[p % len(groups)],
                             "joined_at": "2026-12-01T10:00:00", "segments": {}, "consented_at": None}
                            for p in range(1, people + 1)]
    data["items"] = [{"id": i, "stage_id": stage_id, "participant_id": None, "title": f"Idea {i}",
                      "detail": "", "data": {}, "image": None, "hidden": False, "merged_into_id": None,
                      "created_at": "2026-12-01T10:00:00"} for i in range(1, items + 1)]
    data["votes"] = [{"stage_id": stage_id, "participant_id": p, "item_id": i, "criterion": "", "value": 1,
                      "note": "", "updated_at": "2026-12-01T10:05:00"}
                     for p in range(1, people + 1) for i in range(1, items + 1)]
    data["comments"] = []
    data.pop("results", None)
    return json.dumps(data).encode()


# --- the room ----------------------------------------------------------------------

class Room:
    """100 phones voting about once a second each; every acknowledgement's send time and latency."""

    def __init__(self, base: str, code: str, phones: int, item_ids: list[int], timeout: float):
        self.fleet = Fleet([base], code, phones, timeout, run_id=str(int(time.time())))
        self.item_ids, self.timeout = item_ids, timeout
        self.acks: list[tuple[float, float]] = []  # (sent, seconds to the ack; timeout if none)
        self.errors = 0
        self.running = True
        self.pings: list[tuple[float, float]] = []  # (sent, seconds to answer GET /): the probe

    async def ping(self, base: str) -> None:
        """GET / every 50 ms (one at a time), as the issue measured the freezes."""
        http = new_http()
        try:
            while self.running:
                t0 = time.perf_counter()
                try:
                    async with http.get(f"{base}/", timeout=LONG) as resp:
                        await resp.read()
                except Exception:  # noqa: BLE001 - counted at its time
                    pass
                self.pings.append((t0, time.perf_counter() - t0))
                await asyncio.sleep(0.05)
        finally:
            await http.close()

    def longest_ping(self, start: float, end: float) -> float:
        """Return the slowest page answer (ms) of the pings waiting at some moment of [start, end]."""
        return max((lat for sent, lat in self.pings if sent <= end and sent + lat >= start),
                   default=float("nan")) * 1000

    async def join(self) -> None:
        sem = asyncio.Semaphore(20)
        await asyncio.gather(*(p.join(sem, self.timeout) for p in self.fleet.phones))
        failed = [p.error for p in self.fleet.phones if p.join_s is None]
        if failed:
            raise RuntimeError(f"{len(failed)} phones did not join: {failed[0]}")

    async def vote(self, phone, rnd: random.Random) -> None:
        n, item = 0, rnd.choice(self.item_ids)
        while self.running:
            await asyncio.sleep(rnd.uniform(0.5, 1.5))
            n += 1
            t0 = time.perf_counter()
            try:  # 1 and 2 dots on one idea in turn: always within the budget of 3
                payload = {"cid": f"freeze-{phone.i:03d}-{n:05d}", "item_id": item, "dots": 1 + n % 2}
                reply = await phone.sio.call("vote", payload, timeout=self.timeout)
                if not (reply or {}).get("ok"):
                    self.errors += 1
            except Exception:  # noqa: BLE001 - no ack in time: counted at the timeout
                self.errors += 1
            self.acks.append((t0, time.perf_counter() - t0))

    def p99(self, start: float, end: float) -> tuple[float, int]:
        """Return the p99 (ms) of the acks of votes waiting at some moment of [start, end], and how many.

        A vote sent just before the window and stuck through it counts: a phone waits for each ack
        before its next vote, so counting by send time alone would miss exactly the frozen ones."""
        got = sorted(lat for sent, lat in self.acks if sent <= end and sent + lat >= start)
        if not got:
            return float("nan"), 0
        return got[min(len(got) - 1, int(0.99 * len(got)))] * 1000, len(got)


async def form_post(http, page: str, url: str, data: dict, files: dict | None = None):
    """POST a form (CSRF token from `page`; files: name -> (file name, bytes, type)).

    Return (status, text, headers, seconds)."""
    import aiohttp

    token = await csrf(http, page)
    form = aiohttp.FormData()
    form.add_field("csrf_token", token)
    for key, value in data.items():
        form.add_field(key, value)
    for key, (name, blob, kind) in (files or {}).items():
        form.add_field(key, blob, filename=name, content_type=kind)
    t0 = time.perf_counter()
    async with http.post(url, data=form, allow_redirects=False, timeout=LONG) as resp:
        text = await resp.text()
        return resp.status, text, resp.headers, time.perf_counter() - t0


async def get(http, url: str):
    t0 = time.perf_counter()
    async with http.get(url, allow_redirects=False, timeout=LONG) as resp:
        body = await resp.read()
        return resp.status, body, resp.headers, time.perf_counter() - t0


async def run(base: str, args) -> list[tuple[str, str, float, int]]:
    """Set the room up, then measure idle and each attack; return rows (what, answer, p99 ms, acks)."""
    http, code = await facilitator(base, args.timeout)
    console = Screen("console", http)
    await console.connect(base, code, args.timeout)
    view = (await console.call("sync", {}, args.timeout))["view"]
    vote_stage = view["stage_id"]
    await console.call("agenda:add", {"kind": "concepts"}, args.timeout)
    await console.call("stage:go", {"stage_id": vote_stage, "phase": "collect"}, args.timeout)
    item_ids = []
    for k in range(4):
        reply = await console.call("item:add", {"title": f"Idea {k}", "detail": ""}, args.timeout)
        item_ids.append(reply["item"]["id"])
    await console.call("stage:go", {"stage_id": vote_stage, "phase": "vote"}, args.timeout)
    status, text, _h, _s = await form_post(http, f"{base}/w/{code}/partners", f"{base}/w/{code}/partners",
                                          {"label": "Agency"})
    _status, page, _h, _s = await get(http, f"{base}/w/{code}/partners")
    token = TOKEN_RE.search(page.decode()).group(1)
    _status, partner_page, _h, _s = await get(http, f"{base}/p/{token}")
    concept_stage = int(STAGE_RE.search(partner_page.decode()).group(1))
    _status, template_raw, _h, _s = await get(http, f"{base}/w/{code}/export.json")
    template = json.loads(template_raw)

    hostile = png(1, 39_999_999)
    big = png(8000, 5000, "RGB")
    three = with_huge_images(template, concept_stage, hostile)
    votes_file = with_votes(template, vote_stage)
    print(f"[freeze] files: hostile PNG {len(hostile) // 1024} KB, 40 MP PNG {len(big) // 1024} KB, "
          f"three-image import {len(three) // 1024} KB, 160,000-vote import {len(votes_file) // 1024} KB",
          file=sys.stderr, flush=True)

    room = Room(base, code, args.phones, item_ids, args.timeout)
    await room.join()
    rnd = random.Random(args.seed)
    voters = [asyncio.create_task(room.vote(p, random.Random(rnd.random()))) for p in room.fleet.phones]
    voters.append(asyncio.create_task(room.ping(base)))
    await asyncio.sleep(3)  # everyone voting
    windows = []  # (what, answer, start, end): measured once every vote of every window is answered
    t0 = time.perf_counter()
    await asyncio.sleep(args.idle)
    windows.append(("idle", "", t0, time.perf_counter()))
    imported = {}

    async def partner_upload():
        s, text, _h, secs = await form_post(
            new_http(), f"{base}/p/{token}", f"{base}/p/{token}/stages/{concept_stage}/items",
            {"title": "Hostile", "message": "Look", "detail": ""},
            {"image": ("line.png", hostile, "image/png")})
        return s, secs

    async def facilitator_upload():
        s, _t, _h, secs = await form_post(http, f"{base}/workshops/import",
                                          f"{base}/w/{code}/stages/{concept_stage}/items",
                                          {"title": "Poster", "message": "Look", "detail": ""},
                                          {"image": ("poster.png", big, "image/png")})
        return s, secs

    async def import_file(raw: bytes, key: str):
        s, text, headers, secs = await form_post(http, f"{base}/workshops/import", f"{base}/workshops/import",
                                                 {}, {"file": ("workshop.json", raw, "application/json")})
        found = CODE_RE.search(headers.get("Location", ""))
        if found:
            imported[key] = found.group(1)
        return (s if found or s != 200 else "200 refused"), secs

    async def export_both():
        new = imported.get("votes")
        if not new:
            return "no workshop", 0.0
        s1, body1, _h, t1 = await get(http, f"{base}/w/{new}/export.zip")
        s2, body2, _h, t2 = await get(http, f"{base}/w/{new}/export.json")
        return f"{s1} {len(body1) // 1024} KB, {s2} {len(body2) // 1024} KB", t1 + t2

    attacks = [("1 x 39,999,999 PNG, partner link", partner_upload),
               ("40 MP PNG, facilitator", facilitator_upload),
               ("import: three huge images", lambda: import_file(three, "three")),
               ("import: 160,000 votes", lambda: import_file(votes_file, "votes")),
               ("export CSV + JSON (160,000 votes)", export_both)]
    for name, attack in attacks:
        print(f"[freeze] {name} ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        status, secs = await attack()
        await asyncio.sleep(max(0.0, start + args.window - time.perf_counter()))
        windows.append((name, f"{status} in {secs:.2f} s", start, time.perf_counter()))
        await asyncio.sleep(args.gap)
    await asyncio.sleep(args.gap * 2)  # votes and pages stuck through the last window are answered
    room.running = False
    await asyncio.gather(*voters, return_exceptions=True)
    for phone in room.fleet.phones:
        await phone.close()
    await console.close()
    await http.close()
    rows = [(name, answer, *room.p99(start, end), room.longest_ping(start, end)) for name, answer, start, end
            in windows]
    if args.json:
        Path(args.json).write_text(json.dumps({"windows": windows, "acks": room.acks, "pings": room.pings}))
    if room.errors:
        rows.append(("(votes refused or lost)", str(room.errors), float("nan"), 0, float("nan")))
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkout", metavar="DIR", help="run the server from another checkout (its wsgi.py)")
    ap.add_argument("--phones", type=int, default=100)
    ap.add_argument("--idle", type=float, default=10.0, help="seconds of the idle window")
    ap.add_argument("--window", type=float, default=4.0, help="each attack's window, at least (s)")
    ap.add_argument("--gap", type=float, default=2.0, help="quiet seconds between attacks")
    ap.add_argument("--timeout", type=float, default=120.0, help="a vote's ack, a setup step (s)")
    ap.add_argument("--http-timeout", type=float, default=900.0, help="an attack's request (s)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--logs", metavar="DIR", help="keep the server's log in DIR")
    ap.add_argument("--json", metavar="PATH", help="write every window, ack and page time as JSON")
    args = ap.parse_args(argv)
    global LONG
    import aiohttp
    LONG = aiohttp.ClientTimeout(total=args.http_timeout)
    root = Path(args.checkout).resolve() if args.checkout else ROOT
    with tempfile.TemporaryDirectory() as tmp:
        server = AppProcess(Path(tmp), "freeze", root=root, LOG_LEVEL="WARNING")
        base = server.start(timeout=60)
        try:
            rows = asyncio.run(run(base, args))
        finally:
            server.stop()
            if args.logs:
                Path(args.logs).mkdir(parents=True, exist_ok=True)
                (Path(args.logs) / "freeze.log").write_bytes(server.log_path.read_bytes())
    idle = rows[0][2]
    print(f"\nFreeze benchmark: {args.phones} phones voting, server {root}")
    print(f"{'while':<36} {'answer':<34} {'ack p99 ms':>10} {'vs idle':>8} {'acks':>6} {'page max ms':>11}"
          "  bar (+50 ms)")
    for name, answer, p99, count, page in rows:
        delta = p99 - idle
        ok = "" if name == "idle" or count == 0 else ("ok" if delta <= 50 else "over")
        print(f"{name:<36} {answer:<34} {p99:>10.1f} {delta:>+8.1f} {count:>6} {page:>11.0f}  {ok}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
