"""Helpers shared by the browser tests and the scripts: a real server in a subprocess."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(tmp_dir: Path, **env):
    """Run `python wsgi.py` (gevent, SQLite file) on a free port; yield its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    full_env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "PUBLIC_URL": base,
                "DATABASE_URL": f"sqlite:///{tmp_dir / 'charrette.db'}", "SECRET_KEY": "e2e-secret",
                "DEMO": "1", "CHARRETTE_ENV": "development",
                "UPLOAD_DIR": str(tmp_dir / "uploads"), **env}
    log = open(tmp_dir / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "wsgi.py"], cwd=ROOT, env=full_env,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/", timeout=1).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log_text = (tmp_dir / "server.log").read_text()
                    raise RuntimeError("server did not start:\n" + log_text) from None
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def launch_browser(playwright):
    """Start Debian's Chromium headless (Playwright's own download is not used)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def sign_in(page, base: str, email="demo@example.org", password="demo-facilitator") -> None:
    """Sign a facilitator in on a page."""
    page.goto(base + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button:has-text('Sign in')")
    page.wait_for_url("**/workshops")


def join_phone(context, base: str, code: str, group: str, name: str | None = None):
    """Open a phone page, enter the code, pick a group; return the live page."""
    page = context.new_page()
    page.goto(base + "/")
    page.fill("#code", code)
    page.click("button:has-text('Join')")
    if name is not None:
        page.fill("input[name=name]", name)
    page.check(f"input[name=group][value='{group}']")
    page.click("button:has-text('Join')")
    page.wait_for_selector("[data-conn=connected], [data-conn=saved]")
    return page
