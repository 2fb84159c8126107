"""The offline room on real networks: a laptop and a phone in Linux network namespaces.

Each test builds the room's network with `ip netns` and veth pairs (a veth pair is a
cable: one end in the laptop, one in the phone), starts `python3 wsgi.py` with default
settings (no PUBLIC_URL) in the laptop's namespace, and drives Debian's Chromium in each
namespace (tests/netns_browser.py): the facilitator on http://localhost:5000, the phone
only with what it decodes from a screenshot of the projector's QR code. Needs root and
`ip netns` (CI has both); elsewhere the tests are skipped with the reason.

Set CHARRETTE_SHOTS=<dir> to keep the screenshots (console at 1366x768, projector at
1920x1080) of every case.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import PHONE, ROOT, AppProcess

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PORT = 5000  # the default: each namespace has its own ports
CONSOLE = {"viewport": {"width": 1366, "height": 768}, "bypass_csp": True}  # axe is injected as a script
PROJECTOR = {"viewport": {"width": 1920, "height": 1080}, "bypass_csp": True}
TAG = f"chr{os.getpid()}"


def ip(*args: str, ns: str | None = None) -> None:
    """Run one `ip` command (in a namespace); fail with what it said."""
    command = ["ip", *(("-n", ns) if ns else ()), *args]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)}: {done.stderr.strip()}")


def why_no_namespaces() -> str | None:
    """Say why network namespaces cannot be made here, or None when they can."""
    if shutil.which("ip") is None:
        return "the `ip` command (Debian's iproute2) is not installed"
    if os.geteuid() != 0:
        return "network namespaces need root (CI runs as root)"
    probe = f"{TAG}-probe"
    try:
        ip("netns", "add", probe)
        ip("link", "add", "p0", "type", "veth", "peer", "name", "p1", ns=probe)
    except RuntimeError as error:
        return f"cannot make a network namespace with a veth pair here: {error}"
    finally:
        subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


class Network:
    """Namespaces and veth cables between them; `close` removes them all."""

    def __init__(self):
        self.namespaces: list[str] = []

    def host(self, name: str) -> str:
        ns = f"{TAG}-{name}"
        ip("netns", "add", ns)
        self.namespaces.append(ns)
        ip("link", "set", "lo", "up", ns=ns)
        return ns

    def cable(self, a: str, a_if: str, a_addr: str | None, b: str, b_if: str, b_addr: str) -> None:
        """Join two namespaces; an address is `10.42.0.1/24`; a_addr None leaves that end unconfigured."""
        ip("link", "add", a_if, "netns", a, "type", "veth", "peer", "name", b_if, "netns", b)
        ip("addr", "add", b_addr, "dev", b_if, ns=b)
        ip("link", "set", b_if, "up", ns=b)
        if a_addr:
            self.configure(a, a_if, a_addr)

    @staticmethod
    def configure(ns: str, interface: str, address: str) -> None:
        ip("addr", "add", address, "dev", interface, ns=ns)
        ip("link", "set", interface, "up", ns=ns)

    def close(self) -> None:
        for ns in self.namespaces:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


class Chromium:
    """Debian's Chromium in one namespace, driven through tests/netns_browser.py."""

    def __init__(self, ns: str, shots: Path, log: Path):
        self.log = log.open("w")
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-m", "tests.netns_browser",
                                      str(shots)], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, text=True)

    def __call__(self, do: str, **fields):
        self.proc.stdin.write(json.dumps({"do": do, **fields}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the browser helper stopped; see {self.log.name}")
        answer = json.loads(line)
        if "error" in answer:
            raise AssertionError(f"{do} {fields}: {answer['error']}")
        return answer["value"]

    def page(self, name: str, **options) -> None:
        self("page", name=name, options=options)

    def run(self, name: str, *chain):
        return self("run", name=name, chain=[list(step) for step in chain])

    def expect(self, name: str, selector: str, check: str, *args) -> None:
        self("expect", name=name, selector=selector, check=check, args=list(args))

    def stop(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc.stdout.close()
        self.log.close()


class Laptop(AppProcess):
    """`python3 wsgi.py` with default settings (no PUBLIC_URL, HOST or PORT) in the laptop's namespace."""

    def __init__(self, ns: str, tmp: Path):
        super().__init__(tmp, SECRET_KEY="netns-secret", REPORT_DIR=str(tmp / "reports"))
        for name in ("PUBLIC_URL", "HOST", "PORT", "REDIS_URL"):
            self.env.pop(name, None)
        self.ns = ns

    def banner(self, timeout: float = 60) -> str:
        """Start the server; wait for its start banner and return the log so far."""
        with self.log_path.open("w") as log:
            command = ["ip", "netns", "exec", self.ns, sys.executable, "wsgi.py"]
            self.proc = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while "Stop with Ctrl+C." not in (text := self.log_path.read_text()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("server did not start:\n" + text)
            time.sleep(0.2)
        return text


class Room:
    """One test's namespaces, servers and browsers; `close` removes them all."""

    def __init__(self, tmp: Path, screenshots: Path):
        self.tmp, self.screenshots = tmp, screenshots
        self.network = Network()
        self.made: list[Laptop | Chromium] = []

    def laptop(self, ns: str) -> Laptop:
        self.made.append(Laptop(ns, self.tmp))
        return self.made[-1]

    def chromium(self, ns: str, name: str) -> Chromium:
        self.made.append(Chromium(ns, self.screenshots, self.tmp / f"chromium-{name}.log"))
        return self.made[-1]

    def close(self) -> None:
        for thing in reversed(self.made):
            thing.stop()
        self.network.close()


@pytest.fixture
def room(tmp_path, request):
    """Make namespaces, a server and browsers on demand; remove them all afterwards."""
    reason = why_no_namespaces()
    if reason:
        print(f"\nskipped: {reason}")
        pytest.skip(reason)
    shots = Path(os.environ.get("CHARRETTE_SHOTS") or tmp_path / "shots") / request.node.name
    shots.mkdir(parents=True, exist_ok=True)
    made = Room(tmp_path, shots)
    try:
        yield made
    finally:
        made.close()
        print(f"\nscreenshots in {shots}/, server log in {tmp_path / 'server.log'}")


# --- what the facilitator and a phone do --------------------------------------------------

def open_console_and_projector(laptop: Chromium) -> str:
    """Sign in with the demo login, open the demo workshop's console and projector; return its code."""
    base = f"http://localhost:{PORT}"
    laptop("wait_http", url=base + "/login")
    laptop.page("console", **CONSOLE)
    laptop.run("console", ("goto", base + "/login"))
    laptop.run("console", ("fill", "input[name=email]", "demo@example.org"))
    laptop.run("console", ("fill", "input[name=password]", "demo-facilitator"))
    laptop.run("console", ("click", "button:has-text('Sign in')"))
    laptop.run("console", ("wait_for_url", "**/workshops"))
    laptop.run("console", ("click", ".workshop-card a.button:has-text('Console')"))
    laptop.run("console", ("wait_for_url", "**/console"))
    laptop.expect("console", "[data-conn]", "to_have_attribute", "data-conn", {"re": "connected|saved"})
    code = laptop.run("console", ("inner_text", ".big-code")).strip()
    laptop("page", name="projector", beside="console", options=PROJECTOR)  # a window of the same browser
    laptop.run("projector", ("goto", f"{base}/w/{code}/present"))
    laptop.expect("projector", "[data-conn]", "to_have_attribute", "data-conn", "connected")
    laptop.expect("projector", ".stage-body", "to_be_visible")
    laptop.run("projector", ("evaluate", "window.sameProjectorPage = true"))  # a reload would lose it
    return code


def scan_projector(laptop: Chromium, phone: Chromium, shot: Path) -> str:
    """Screenshot the projector on the laptop; return what the phone decodes from its QR code."""
    laptop("shot", name="projector", path=str(shot))
    (url,) = phone("qr", path=str(shot))
    return url


def join_by_qr_and_send_an_idea(phone: Chromium, url: str, idea: str) -> None:
    """Open the decoded URL on a phone, join as Youth and send an idea."""
    phone.page("phone", **PHONE)
    phone.run("phone", ("goto", url))
    phone.run("phone", ("check", "input[name=group][value='Youth']"))
    phone.run("phone", ("click", "button:has-text('Join')"))
    phone.expect("phone", "[data-conn]", "to_have_attribute", "data-conn", {"re": "connected|saved"})
    phone.run("phone", ("fill", "#idea-title", idea))
    phone.run("phone", ("click", "button:has-text('Send idea')"))
    phone.expect("phone", "[data-my-ideas-list] li", "to_have_text", idea)
    phone.expect("phone", "[data-conn]", "to_have_attribute", "data-conn", "saved")


def vote_for(phone: Chromium, laptop: Chromium, idea: str) -> None:
    """The console opens voting; the phone puts a dot on the idea; the console's tally counts it."""
    laptop.expect("console", ".console-ideas", "to_contain_text", idea)
    laptop.run("console", ("click", "button:has-text('Next: Voting')"))
    card = f".dot-card:has-text('{idea}')"
    phone.run("phone", ("click", f"{card} button.plus"))
    phone.expect("phone", f"{card} .dot-count", "to_have_text", "1")
    phone.expect("phone", "[data-conn]", "to_have_attribute", "data-conn", "saved")
    laptop.expect("console", f".bars .bar-row:has-text('{idea}') .score", "to_have_text", "1")


def only_from(browser: Chromium, page: str, origin: str) -> None:
    """Check that a page requested nothing but from the laptop: it works with no internet."""
    urls = browser("requests", name=page)
    assert urls and [u for u in urls if not re.match(rf"(http|ws)://{re.escape(origin)}/", u)] == []


# --- the three set-ups of the README ---------------------------------------------------------

SETUPS = {
    # A phone's hotspot: it hands the laptop an address and a default route (iPhone's range).
    "phone-hotspot-with-gateway": dict(laptop="172.20.10.3/28", phone="172.20.10.1/28",
                                       gateway="172.20.10.1"),
    # The laptop is the hotspot (NetworkManager's range): an address on the LAN, no route anywhere.
    "laptop-is-the-hotspot": dict(laptop="10.42.0.1/24", phone="10.42.0.23/24"),
    # The laptop's hotspot for the room, and an Ethernet uplink to the venue that holds the default
    # route. The hotspot end is named as a plain veth pair would be: the route decides, not the name.
    "laptop-hotspot-and-uplink": dict(laptop="10.42.0.1/24", phone="10.42.0.23/24", uplink=True,
                                      interface="veth0"),
}


@pytest.mark.parametrize("setup", SETUPS)
def test_a_phone_joins_by_the_projectors_qr_code_and_votes(room, setup):
    spec = SETUPS[setup]
    laptop_ns, phone_ns = room.network.host("laptop"), room.network.host("phone")
    interface = spec.get("interface", "wlan0")
    room.network.cable(laptop_ns, interface, spec["laptop"], phone_ns, "wlan0", spec["phone"])
    hotspot = spec["laptop"].split("/")[0]
    if "gateway" in spec:
        ip("route", "add", "default", "via", spec["gateway"], ns=laptop_ns)
    else:
        ip("route", "add", "default", "via", hotspot, ns=phone_ns)
    if spec.get("uplink"):
        venue = room.network.host("venue")
        room.network.cable(laptop_ns, "eth0", "192.168.1.20/24", venue, "eth0", "192.168.1.1/24")
        ip("route", "add", "default", "via", "192.168.1.1", ns=laptop_ns)

    server = room.laptop(laptop_ns)
    banner = server.banner()
    assert f"  Phones join at:            http://{hotspot}:{PORT}  ({interface})\n" in banner
    assert "127.0." not in banner.split("Phones join at:")[1]
    if spec.get("uplink"):
        assert f"    or, on eth0:             http://192.168.1.20:{PORT}\n" in banner

    laptop, phone = room.chromium(laptop_ns, "laptop"), room.chromium(phone_ns, "phone")
    code = open_console_and_projector(laptop)
    assert laptop.run("console", ("inner_text", "[data-join-url]")) == f"{hotspot}:{PORT}/{code}"
    assert laptop.run("projector", ("inner_text", "[data-join-base]")) == f"{hotspot}:{PORT}"
    laptop("shot", name="console", path=str(room.screenshots / "console.png"))
    switch = laptop.run("console", ("locator", "[data-join-switch]"), ("is_visible",))
    assert switch is bool(spec.get("uplink"))  # a list to switch only when there is a choice
    url = scan_projector(laptop, phone, room.screenshots / "projector.png")
    assert url == f"http://{hotspot}:{PORT}/{code}"

    idea = f"Recruiters message students through {setup} groups"
    join_by_qr_and_send_an_idea(phone, url, idea)
    vote_for(phone, laptop, idea)
    only_from(phone, "phone", f"{hotspot}:{PORT}")
    only_from(laptop, "projector", f"localhost:{PORT}")
    assert laptop("axe", name="console") == []


def test_the_facilitator_switches_networks_and_the_projector_follows_without_a_reload(room):
    laptop_ns, phone_ns = room.network.host("laptop"), room.network.host("phone")
    venue = room.network.host("venue")
    room.network.cable(laptop_ns, "wlan0", "10.42.0.1/24", phone_ns, "wlan0", "10.42.0.23/24")
    room.network.cable(laptop_ns, "eth0", "192.168.1.20/24", venue, "eth0", "192.168.1.1/24")
    ip("route", "add", "default", "via", "192.168.1.1", ns=laptop_ns)
    room.laptop(laptop_ns).banner()
    laptop, phone = room.chromium(laptop_ns, "laptop"), room.chromium(venue, "venue-phone")
    code = open_console_and_projector(laptop)
    assert laptop.run("console", ("locator", "#join-address option"), ("all_inner_texts",)) == [
        "10.42.0.1 (wlan0)", "192.168.1.20 (eth0)"]

    # Phones are on the venue's Wi-Fi after all: the facilitator picks eth0.
    laptop.run("console", ("select_option", "#join-address", "192.168.1.20"))
    laptop.run("console", ("click", "[data-join-switch] button"))
    laptop.expect("console", "[data-join-url]", "to_have_text", f"192.168.1.20:{PORT}/{code}")
    laptop.expect("projector", "[data-join-base]", "to_have_text", f"192.168.1.20:{PORT}")
    assert laptop.run("projector", ("evaluate", "window.sameProjectorPage")) is True
    laptop("shot", name="console", path=str(room.screenshots / "console-switched.png"))
    url = scan_projector(laptop, phone, room.screenshots / "projector-switched.png")
    assert url == f"http://192.168.1.20:{PORT}/{code}"
    join_by_qr_and_send_an_idea(phone, url, "Fake job adverts in the venue's own Wi-Fi portal")
    assert laptop("axe", name="console") == []


def test_a_laptop_that_turns_its_hotspot_on_after_starting_shows_the_qr_code_by_itself(room):
    laptop_ns, phone_ns = room.network.host("laptop"), room.network.host("phone")
    room.network.cable(laptop_ns, "wlan0", None, phone_ns, "wlan0", "10.42.0.23/24")  # the hotspot is off
    ip("route", "add", "default", "via", "10.42.0.1", ns=phone_ns)
    banner = room.laptop(laptop_ns).banner()
    assert "  Phones cannot reach this laptop: it is on no network (only 127.0.0.1).\n" in banner
    assert "Phones join at" not in banner and "PUBLIC_URL" in banner

    laptop, phone = room.chromium(laptop_ns, "laptop"), room.chromium(phone_ns, "phone")
    code = open_console_and_projector(laptop)
    laptop.expect("projector", ".join-none-title", "to_have_text", "Phones cannot reach this laptop yet.")
    laptop.expect("projector", ".qr svg", "to_be_hidden")
    laptop.expect("console", ".join-warning", "to_contain_text", "Phones cannot reach this laptop")
    laptop.expect("console", "[data-join-url]", "to_be_hidden")
    laptop("shot", name="console", path=str(room.screenshots / "console-no-network.png"))
    laptop("shot", name="projector", path=str(room.screenshots / "projector-no-network.png"))
    assert laptop("axe", name="console") == [] and laptop("axe", name="projector") == []

    Network.configure(laptop_ns, "wlan0", "10.42.0.1/24")  # the facilitator turns the hotspot on
    laptop.expect("projector", ".qr svg", "to_be_visible")
    laptop.expect("projector", "[data-join-base]", "to_have_text", f"10.42.0.1:{PORT}")
    laptop.expect("console", "[data-join-url]", "to_have_text", f"10.42.0.1:{PORT}/{code}")
    laptop.expect("console", ".join-warning", "to_be_hidden")
    assert laptop.run("projector", ("evaluate", "window.sameProjectorPage")) is True
    url = scan_projector(laptop, phone, room.screenshots / "projector-hotspot-on.png")
    assert url == f"http://10.42.0.1:{PORT}/{code}"
    idea = "Job offers that ask for a passport photo first"
    join_by_qr_and_send_an_idea(phone, url, idea)
    laptop.expect("projector", ".idea-card", "to_contain_text", idea)
