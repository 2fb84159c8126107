"""The join address: ranking the interfaces, switching, pushing, and nothing fetched from outside.

The ranking is pure and gets made-up interface lists of real laptops (Linux, macOS,
Windows). The app tests replace only the two readings of the machine (`list_interfaces`,
`uplink_address`) with such a list; everything above them is the app's own code.
What a real network does is in tests/test_network_rooms.py (network namespaces).
"""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.conftest import gen_facilitator, gen_workshop
from workshop import address, network
from workshop.network import Interface, rank

ROOT = Path(__file__).resolve().parent.parent


def ranked(*interfaces, uplink=None):
    return [(c.interface, c.address) for c in rank([Interface(*i) for i in interfaces], uplink)]


# --- rank: pure --------------------------------------------------------------------------

def test_the_laptop_as_hotspot_with_no_default_route_offers_its_hotspot_address():
    # NetworkManager's "Hotspot" on a Linux laptop, with Docker installed.
    assert ranked(("lo", "127.0.0.1"), ("wlp2s0", "10.42.0.1"), ("docker0", "172.17.0.1")) == [
        ("wlp2s0", "10.42.0.1"), ("docker0", "172.17.0.1")]


def test_a_hotspot_next_to_an_uplink_comes_first():
    # Ethernet to the venue's network (the default route) and the laptop's own hotspot:
    # phones are on the hotspot; the uplink stays on the list to switch to.
    found = ranked(("lo", "127.0.0.1"), ("enp0s31f6", "192.168.1.20"), ("wlp2s0", "10.42.0.1"),
                   uplink="192.168.1.20")
    assert found == [("wlp2s0", "10.42.0.1"), ("enp0s31f6", "192.168.1.20")]


def test_a_phone_hotspot_with_a_gateway_offers_the_one_address_it_gave():
    assert ranked(("lo", "127.0.0.1"), ("wlan0", "172.20.10.3"), uplink="172.20.10.3") == [
        ("wlan0", "172.20.10.3")]


def test_private_then_cgnat_then_other_then_virtual_then_link_local():
    found = ranked(("eth1", "169.254.10.2"), ("tailscale0", "100.101.102.103"), ("eth2", "130.237.1.5"),
                   ("wwan0", "100.72.1.9"), ("virbr0", "192.168.122.1"), ("wlan0", "192.168.8.101"),
                   ("lo", "127.0.0.1"))
    assert found == [("wlan0", "192.168.8.101"), ("wwan0", "100.72.1.9"), ("eth2", "130.237.1.5"),
                     ("tailscale0", "100.101.102.103"), ("virbr0", "192.168.122.1"), ("eth1", "169.254.10.2")]


@pytest.mark.parametrize("name", ["docker0", "br-3f2a9c", "virbr0", "vnet3", "tun0", "tap0", "wg0",
                                  "vmnet8", "utun3", "zt5u4xyz", "tailscale0", "vboxnet0", "vEthernet (WSL)"])
def test_bridges_and_tunnels_rank_after_every_real_interface(name):
    assert ranked((name, "10.8.0.1"), ("wlan0", "192.168.0.14"))[0] == ("wlan0", "192.168.0.14")
    assert network.kind_of(name, "10.8.0.1") == "virtual"


def test_a_veth_cable_with_an_address_is_a_network_of_its_own_after_real_interfaces_of_its_kind():
    # Docker's veths have no address; one that has is a link to another network namespace.
    assert network.kind_of("veth-room", "10.42.0.1") == "lan"
    assert ranked(("veth1", "10.0.3.1"), ("wlan0", "192.168.0.14"))[0] == ("wlan0", "192.168.0.14")
    # ... but the default route still decides first: the room is not where the internet is.
    assert ranked(("veth-hotspot", "10.42.0.1"), ("eth0", "192.168.1.20"), uplink="192.168.1.20") == [
        ("veth-hotspot", "10.42.0.1"), ("eth0", "192.168.1.20")]
    assert ranked(("docker0", "172.17.0.1"), ("veth-lan", "192.168.4.2"))[0] == ("veth-lan", "192.168.4.2")


def test_macos_internet_sharing_and_windows_mobile_hotspot_are_hotspots_not_bridges():
    # macOS shares its uplink on bridge100; Windows' Mobile hotspot is "Local Area Connection* N".
    assert ranked(("en0", "192.168.1.20"), ("bridge100", "192.168.2.1"), ("utun3", "10.2.0.2"),
                  uplink="192.168.1.20")[0] == ("bridge100", "192.168.2.1")
    windows = [("Wi-Fi", "192.168.1.5"), ("vEthernet (WSL)", "172.29.16.1"),
               ("Local Area Connection* 12", "192.168.137.1"), ("Loopback Pseudo-Interface 1", "127.0.0.1")]
    assert ranked(*windows, uplink="192.168.1.5") == [
        ("Local Area Connection* 12", "192.168.137.1"), ("Wi-Fi", "192.168.1.5"),
        ("vEthernet (WSL)", "172.29.16.1")]


def test_interfaces_that_are_down_are_left_out_and_loopback_only_when_nothing_else():
    assert ranked(("lo", "127.0.0.1"), ("wlan0", "192.168.4.2", False)) == [("lo", "127.0.0.1")]
    assert ranked(("lo", "127.0.0.1"), ("eth0", "169.254.3.4")) == [("eth0", "169.254.3.4")]
    assert ranked(("lo", "127.0.1.1")) == [("lo", "127.0.1.1")]
    assert ranked() == []


def test_this_machine_lists_its_loopback_address_as_up():
    assert Interface("lo", "127.0.0.1", True) in network.list_interfaces()


# --- the app: which address is in use, switching it, telling the screens ---------------------

class Machine:
    """This laptop's network cards, as `network` reads them; tests change them as the network would."""

    def __init__(self, monkeypatch):
        self.interfaces: list[Interface] = [Interface("lo", "127.0.0.1")]
        self.uplink: str | None = None
        monkeypatch.setattr(network, "list_interfaces", lambda: list(self.interfaces))
        monkeypatch.setattr(network, "uplink_address", lambda: self.uplink)
        monkeypatch.setattr(network, "_listing", (float("-inf"), []))

    def has(self, *interfaces, uplink=None):
        self.interfaces = [Interface("lo", "127.0.0.1"), *(Interface(*i) for i in interfaces)]
        self.uplink = uplink
        network.candidates(fresh=True)


@pytest.fixture
def machine(app, monkeypatch):
    app.config["PUBLIC_URL"] = ""
    return Machine(monkeypatch)


@pytest.fixture
def room(app, browser, machine):
    """A workshop, its facilitator's laptop (signed in) with a projector and a console socket, and a phone."""
    workshop = gen_workshop(gen_facilitator())
    laptop = browser()
    laptop.login()
    projector, console = laptop.socket(workshop.code, "projector"), laptop.socket(workshop.code, "console")
    phone = browser()
    phone.join(workshop.code)
    phone_socket = phone.socket(workshop.code, "phone")
    for sock in (projector, console, phone_socket):
        sock.get_received()
    return workshop, laptop, projector, console, phone_socket


def pushed(sock) -> list[dict]:
    return [m["args"][0] for m in sock.get_received() if m["name"] == address.EVENT]


def test_join_url_uses_public_url_or_the_address_found(app, machine):
    machine.has(("wlan0", "10.42.0.1"))
    assert network.join_url("ABC234") == "http://10.42.0.1:5000/ABC234"
    app.config["PUBLIC_URL"] = "https://charrette.example.org/"
    assert network.join_url("ABC234") == "https://charrette.example.org/ABC234"
    assert network.current().pinned and network.current().choices == ()


def test_the_console_shows_the_address_in_use_and_offers_the_others(room, machine):
    workshop, laptop, *_ = room
    machine.has(("eth0", "192.168.1.20"), ("wlan0", "10.42.0.1"), uplink="192.168.1.20")
    html = laptop.http.get(f"/w/{workshop.code}/console").get_data(as_text=True)
    assert f"<strong data-join-url>10.42.0.1:5000/{workshop.code}</strong>" in html
    options = re.findall(r'<option value="([\d.]+)"( selected)?>([^<]+)</option>', html)
    assert options == [("10.42.0.1", " selected", "10.42.0.1 (wlan0)"),
                       ("192.168.1.20", "", "192.168.1.20 (eth0)")]
    assert re.search(r'<form class="join-switch"[^>]*data-join-switch>', html)  # not hidden
    assert re.search(r'<p class="join-warning"[^>]*data-join-none hidden>', html)


def test_switching_moves_projector_console_and_qr_code_at_once_and_no_phone_hears_it(room, machine, browser):
    workshop, laptop, projector, console, phone = room
    other = gen_workshop(workshop.facilitator, title="Second room")
    other_projector = laptop.socket(other.code, "projector")
    other_projector.get_received()
    machine.has(("eth0", "192.168.1.20"), ("wlan0", "10.42.0.1"), uplink="192.168.1.20")

    reply = laptop.http.post(f"/w/{workshop.code}/address", data={"address": "192.168.1.20"},
                             headers={"Accept": "application/json"})
    assert reply.status_code == 200 and reply.json["ok"]
    assert reply.json["join"] == f"192.168.1.20:5000/{workshop.code}"
    for sock in (projector, console):
        (event,) = pushed(sock)
        assert event["reachable"] and event["in_use"] == "192.168.1.20"
        assert event["base"] == "192.168.1.20:5000"
        assert event["qr"] == str(network.qr_svg(workshop.code, base="http://192.168.1.20:5000"))
        assert [c["label"] for c in event["choices"]] == ["10.42.0.1 (wlan0)", "192.168.1.20 (eth0)"]
    (event,) = pushed(other_projector)  # every open workshop's projector, with its own code
    assert event["join"] == f"192.168.1.20:5000/{other.code}"
    assert phone.get_received() == []

    # Pages opened now, the banner and the QR file say the same.
    page = laptop.http.get(f"/w/{workshop.code}/present").get_data(as_text=True)
    assert "<p class=\"join-url\" data-join-base>192.168.1.20:5000</p>" in page
    assert str(network.qr_svg(workshop.code, base="http://192.168.1.20:5000")) in page
    assert network.banner(network.current())[0] == \
        "  Phones join at:            http://192.168.1.20:5000  (eth0)"


def test_an_address_that_is_gone_is_refused_and_nothing_changes(room, machine):
    workshop, laptop, projector, *_ = room
    machine.has(("eth0", "192.168.1.20"), ("wlan0", "10.42.0.1"), uplink="192.168.1.20")
    reply = laptop.http.post(f"/w/{workshop.code}/address", data={"address": "10.9.9.9"},
                             headers={"Accept": "application/json"})
    assert reply.status_code == 409
    assert reply.json["error"] == "That address is no longer on this laptop: pick another."
    assert network.public_url() == "http://10.42.0.1:5000" and pushed(projector) == []
    # Without JavaScript: a message on the console.
    reply = laptop.http.post(f"/w/{workshop.code}/address", data={"address": "10.9.9.9"},
                             follow_redirects=True)
    assert "That address is no longer on this laptop" in reply.get_data(as_text=True)


def test_without_javascript_the_switch_is_a_form_post_back_to_the_console(room, machine):
    workshop, laptop, projector, *_ = room
    machine.has(("eth0", "192.168.1.20"), ("wlan0", "10.42.0.1"), uplink="192.168.1.20")
    reply = laptop.http.post(f"/w/{workshop.code}/address", data={"address": "192.168.1.20"},
                             follow_redirects=True)
    assert f"Phones now join at 192.168.1.20:5000/{workshop.code}." in reply.get_data(as_text=True)
    assert len(pushed(projector)) == 1


def test_with_public_url_there_is_nothing_to_switch(room, machine, app):
    workshop, laptop, projector, *_ = room
    machine.has(("eth0", "192.168.1.20"), ("wlan0", "10.42.0.1"), uplink="192.168.1.20")
    app.config["PUBLIC_URL"] = "https://charrette.example.org"
    html = laptop.http.get(f"/w/{workshop.code}/console").get_data(as_text=True)
    assert "charrette.example.org/" + workshop.code in html and "data-join-switch" not in html
    reply = laptop.http.post(f"/w/{workshop.code}/address", data={"address": "10.42.0.1"},
                             headers={"Accept": "application/json"})
    assert reply.status_code == 409 and "PUBLIC_URL" in reply.json["error"]
    assert network.public_url() == "https://charrette.example.org" and pushed(projector) == []
    assert network.banner(network.current()) == ["  Phones join at:            https://charrette.example.org"]


def test_several_processes_keep_to_one_address(app, machine):
    app.config["REDIS_URL"] = "redis://127.0.0.1:6379/0"  # only read, never connected to here
    machine.has(("eth0", "192.168.1.20"), ("wlan0", "10.42.0.1"))
    assert network.choose("192.168.1.20") is None and network.current().choices == ()


def test_only_the_facilitator_of_the_workshop_reads_or_switches_its_address(room, machine, browser):
    workshop, *_ = room
    gen_facilitator("other@example.org")
    other = browser()
    other.login("other@example.org")
    assert other.http.get(f"/w/{workshop.code}/address").status_code == 403
    assert other.http.post(f"/w/{workshop.code}/address", data={"address": "127.0.0.1"}).status_code == 403
    assert browser().http.get(f"/w/{workshop.code}/address").status_code == 302  # to the sign-in page


def test_with_no_network_every_screen_says_so_and_the_projector_shows_no_qr_code(room, machine):
    workshop, laptop, *_ = room
    machine.has(("wlan0", "10.42.0.1", False))  # the hotspot is off
    console = laptop.http.get(f"/w/{workshop.code}/console").get_data(as_text=True)
    assert re.search(r'<p class="join-warning" role="status" data-join-none>\s*'
                     r'Phones cannot reach this laptop: it is on no network', console)
    assert re.search(r'<span class="join-at"[^>]* hidden data-join-ok>', console)
    projector = laptop.http.get(f"/w/{workshop.code}/present").get_data(as_text=True)
    assert re.search(r'<div class="join-how" data-join-ok hidden>', projector)
    assert re.search(r'<div class="join-none" data-join-none role="status">\s*'
                     r'<p class="join-none-title">Phones cannot reach this laptop yet.</p>', projector)
    lines = network.banner(network.current())
    assert lines[0] == "  Phones cannot reach this laptop: it is on no network (only 127.0.0.1)."
    assert "turn this laptop's hotspot on" in lines[1] and "PUBLIC_URL" in lines[3]
    assert laptop.http.get(f"/w/{workshop.code}/address").json["reachable"] is False


def test_the_watcher_tells_open_screens_when_the_hotspot_comes_up(room, machine, app):
    workshop, laptop, projector, console, phone = room
    seen = address.look(app, None)
    assert not seen.reachable
    assert address.look(app, seen) == seen and pushed(projector) == []  # nothing changed: nothing sent
    machine.interfaces.append(Interface("wlan0", "10.42.0.1"))  # no fresh listing: the watcher lists
    seen = address.look(app, seen)
    (event,) = pushed(projector)
    assert event["reachable"] and event["base"] == "10.42.0.1:5000"
    assert pushed(console)[0]["join"] == f"10.42.0.1:5000/{workshop.code}" and phone.get_received() == []


def test_a_page_sees_a_new_network_within_seconds_without_a_restart(app, machine, monkeypatch):
    monkeypatch.setattr(network, "LISTING_SECONDS", 0.2)
    machine.has()
    assert not network.current().reachable
    machine.interfaces.append(Interface("wlan0", "10.42.0.1"))
    assert not network.current().reachable  # the listing of a moment ago
    time.sleep(0.25)
    assert network.public_url() == "http://10.42.0.1:5000"


def test_a_choice_follows_its_interface_and_comes_back_with_it(app, machine):
    machine.has(("eth0", "192.168.1.20"), ("wlan0", "10.42.0.1"), uplink="192.168.1.20")
    assert network.choose("192.168.1.20").interface == "eth0"
    machine.has(("eth0", "192.168.1.31"), ("wlan0", "10.42.0.1"), uplink="192.168.1.31")  # a new lease
    assert network.public_url() == "http://192.168.1.31:5000"
    machine.has(("wlan0", "10.42.0.1"))  # the cable is pulled
    assert network.public_url() == "http://10.42.0.1:5000"
    machine.has(("eth0", "192.168.1.31"), ("wlan0", "10.42.0.1"), uplink="192.168.1.31")
    assert network.public_url() == "http://192.168.1.31:5000"


def test_the_banner_lists_every_address_with_its_interface(app, machine):
    machine.has(("eth0", "192.168.1.20"), ("wlan0", "10.42.0.1"), ("docker0", "172.17.0.1"),
                uplink="192.168.1.20")
    assert network.banner(network.current()) == [
        "  Phones join at:            http://10.42.0.1:5000  (wlan0)",
        "    or, on eth0:             http://192.168.1.20:5000",
        "    or, on docker0:          http://172.17.0.1:5000",
        "    (the console switches between them; PUBLIC_URL pins one)"]


# --- no outside request: every page works in a room with no internet -------------------------

# Absolute URLs that are text, never fetched: the Socket.IO client names its migration guide
# in an error message.
NOT_FETCHED = {("static/vendor/socket.io-4.8.4.min.js",
                "https://socket.io/docs/v3/migrating-from-2-x-to-3-0/")}
# A scheme (or none: `//host` takes the page's), then a host with a dot.
OUTSIDE = re.compile(r"""(?:\b(?:https?|wss?|ftp):)?//[a-z0-9-]+(?:\.[a-z0-9-]+)+(?::\d+)?[^\s"'`)<>]*""",
                     re.I)


def test_no_template_script_or_stylesheet_refers_to_an_outside_host():
    files = [*ROOT.glob("templates/**/*.html"), *ROOT.glob("static/**/*.js"), *ROOT.glob("static/**/*.css")]
    assert len(files) > 20
    found = {(str(f.relative_to(ROOT)), m.group(0)) for f in files for m in OUTSIDE.finditer(f.read_text())}
    assert found - NOT_FETCHED == set()
    assert NOT_FETCHED <= found  # the allowance is still needed


def test_the_pattern_catches_the_usual_ways_of_loading_from_outside():
    for line in ('<script src="https://cdn.jsdelivr.net/npm/socket.io/client-dist/socket.io.min.js">',
                 '<link href="//fonts.googleapis.com/css?family=Inter" rel="stylesheet">',
                 "@import url(https://fonts.googleapis.com/css2?family=Noto+Sans);",
                 'const socket = io("wss://relay.example.org:8443");'):
        assert OUTSIDE.search(line), line
    assert not OUTSIDE.search("// WebSocket first: long-polling only where a venue blocks WebSocket.")
