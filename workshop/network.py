"""Where phones can reach this laptop: the join address, its QR code, and the choice between several.

The address comes from listing the network interfaces (psutil), not from asking which
route leads to the internet: in the room this app is made for, the laptop *is* the
hotspot and has no route anywhere, yet phones reach it on its hotspot address.
`rank` orders what was found (pure, so it is tested on made-up interface lists);
`current` says which address is in use. `PUBLIC_URL` wins over all of it.
"""
from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass

import psutil
import segno
from flask import current_app
from markupsafe import Markup

# Listing the interfaces costs a few system calls; pages and pushes re-use one listing
# for this long, so a laptop that joins a Wi-Fi after starting is seen within seconds.
LISTING_SECONDS = 3.0

# Bridges and tunnels of virtual machines, containers and VPNs: they carry private addresses
# too, but no phone in the room is on them. Matched on the start of the lower-cased name
# (Linux, macOS and Windows spellings; "vEthernet" is Hyper-V's and WSL's switch).
VIRTUAL = ("docker", "br-", "virbr", "vnet", "vboxnet", "vmnet", "lxcbr", "lxdbr", "cni", "flannel",
           "cali", "podman", "tun", "tap", "wg", "utun", "zt", "tailscale", "nordlynx", "ppp", "ipsec",
           "gif", "stf", "vethernet", "virtualbox", "vmware", "zerotier", "hamachi")
# A veth is a virtual cable to another network namespace. Docker's and libvirt's carry no
# address of their own (their bridge does, and ranks with VIRTUAL); one that has an address
# is a link to a network of its own, which may well be the room: it ranks with the LAN
# addresses, after the others of its kind, not after every real interface.
CABLE = "veth"

RFC1918 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
CGNAT = ipaddress.ip_network("100.64.0.0/10")
LINK_LOCAL = ipaddress.ip_network("169.254.0.0/16")
LOOPBACK = ipaddress.ip_network("127.0.0.0/8")

# Best first. "other" is any further address (a university LAN with public addresses).
KINDS = ("lan", "cgnat", "other", "virtual", "link-local", "loopback")


@dataclass(frozen=True)
class Interface:
    """One IPv4 address of one network interface, as the system lists it."""

    name: str
    address: str
    up: bool = True


@dataclass(frozen=True)
class Candidate:
    """An address phones might use, and why it ranks where it does."""

    interface: str
    address: str
    kind: str
    uplink: bool = False  # the interface that holds the default route

    @property
    def label(self) -> str:
        """Name it as the banner and the console's list do: `10.42.0.1 (wlan0)`."""
        return f"{self.address} ({self.interface})"


def kind_of(name: str, address: str) -> str:
    """Say what sort of address this is, for `rank`."""
    ip = ipaddress.ip_address(address)
    if ip in LOOPBACK:
        return "loopback"
    if ip in LINK_LOCAL:
        return "link-local"
    if name.lower().startswith(VIRTUAL):
        return "virtual"
    if any(ip in net for net in RFC1918):
        return "lan"
    if ip in CGNAT:
        return "cgnat"
    return "other"


def _is_cable(name: str) -> bool:
    """Say whether an interface is a veth (and not Hyper-V's vEthernet)."""
    name = name.lower()
    return name.startswith(CABLE) and not name.startswith(VIRTUAL)


def rank(interfaces: list[Interface], uplink: str | None = None) -> list[Candidate]:
    """Order the addresses phones may reach, best first; loopback only when there is nothing else.

    Interfaces that are down are left out. Among addresses of one kind, one that does not
    hold the default route (`uplink`, the address traffic to the internet leaves from)
    comes first: a laptop with an uplink *and* its own hotspot serves the room on the
    hotspot. Then veth cables come after other interfaces (see CABLE); the system's order
    breaks remaining ties.
    """
    found = [Candidate(i.name, i.address, kind_of(i.name, i.address), i.address == uplink)
             for i in interfaces if i.up]
    found.sort(key=lambda c: (KINDS.index(c.kind), c.uplink, _is_cable(c.interface)))
    reachable = [c for c in found if c.kind != "loopback"]
    return reachable or found[:1]


def list_interfaces() -> list[Interface]:
    """List every IPv4 address of every interface, with whether its interface is up.

    IPv4 only: every hotspot hands phones an IPv4 address, while an IPv6 link-local
    address needs a zone (`%wlan0`) that no phone's browser takes in a URL.
    """
    stats = psutil.net_if_stats()
    return [Interface(name, a.address, stats[name].isup if name in stats else True)
            for name, addresses in psutil.net_if_addrs().items()
            for a in addresses if a.family == socket.AF_INET]


def uplink_address() -> str | None:
    """Return the address traffic to the internet would leave from, or None without a default route.

    Connecting a UDP socket sends no packet; it only asks the kernel which interface
    would carry traffic to the documentation address 192.0.2.1.
    """
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("0.") else address


_listing: tuple[float, list[Candidate]] = (float("-inf"), [])


def candidates(fresh: bool = False) -> list[Candidate]:
    """Return this machine's ranked addresses, listed again when the last listing is a few seconds old."""
    global _listing
    taken, found = _listing
    now = time.monotonic()
    if fresh or now - taken > LISTING_SECONDS:
        found = rank(list_interfaces(), uplink_address())
        if not found:  # not even a loopback interface listed: say what every machine has
            found = [Candidate("lo", "127.0.0.1", "loopback")]
        _listing = (now, found)
    return found


@dataclass(frozen=True)
class JoinAddress:
    """What phones are told: the base URL, the address in use and the others to switch to."""

    url: str
    in_use: Candidate | None  # None when PUBLIC_URL is set
    choices: tuple[Candidate, ...]  # what the facilitator may switch to (none with PUBLIC_URL)

    @property
    def pinned(self) -> bool:
        """Whether PUBLIC_URL decides the address (then nothing is switched)."""
        return self.in_use is None

    @property
    def reachable(self) -> bool:
        """Whether a phone has any chance to reach this address: not when it is loopback."""
        return self.pinned or self.in_use.kind != "loopback"


def current(fresh: bool = False) -> JoinAddress:
    """Return the join address of this app now: PUBLIC_URL, or the chosen or best address found."""
    configured = current_app.config.get("PUBLIC_URL")
    if configured:
        return JoinAddress(configured.rstrip("/"), None, ())
    found = candidates(fresh)
    in_use = _still_there(current_app.extensions.get("charrette.address"), found) or found[0]
    return JoinAddress(f"http://{in_use.address}:{current_app.config['PORT']}", in_use,
                       tuple(found) if switchable() else ())


def _still_there(chosen: Candidate | None, found: list[Candidate]) -> Candidate | None:
    """Find the facilitator's choice among the addresses listed now: same address, else same interface.

    A choice whose interface is gone is kept, not dropped: when that Wi-Fi comes back,
    phones are sent to it again.
    """
    if chosen is None:
        return None
    return (next((c for c in found if (c.interface, c.address) == (chosen.interface, chosen.address)), None)
            or next((c for c in found if c.interface == chosen.interface), None))


def switchable() -> bool:
    """Whether the facilitator may pick the address: one process, no PUBLIC_URL.

    The choice is kept in this process's memory, not in the database: it is about this
    laptop's network cards, which another machine's process does not have, and it is
    worth nothing after a restart (the network may have changed; the best address is
    picked afresh). Several processes (REDIS_URL) would each keep their own, so there
    the address is PUBLIC_URL's alone (see docs/operations.md, "Scale-out").
    """
    return not current_app.config.get("PUBLIC_URL") and not current_app.config.get("REDIS_URL")


def choose(address: str) -> Candidate | None:
    """Send phones to one of the addresses listed now; return it, or None if it is not listed."""
    if not switchable():
        return None
    chosen = next((c for c in candidates(fresh=True) if c.address == address), None)
    if chosen is not None:
        current_app.extensions["charrette.address"] = chosen
    return chosen


def public_url() -> str:
    """Return the base URL phones use, without a trailing slash."""
    return current().url


def join_url(code: str, base: str | None = None) -> str:
    """Return the short URL that opens a workshop's join page."""
    return f"{base or public_url()}/{code}"


def display_url(code: str, base: str | None = None) -> str:
    """Return the join URL as people type it: no scheme."""
    return join_url(code, base).split("://", 1)[-1]


def qr_svg(code: str, scale: int = 8, base: str | None = None) -> Markup:
    """Return an inline SVG QR code for a workshop's join URL."""
    qr = segno.make(join_url(code, base), error="m")
    svg = qr.svg_inline(scale=scale, border=2, dark="#000", light="#fff", omitsize=True, title=f"Join {code}")
    # B704 (Markup): segno writes this SVG itself, path data for the modules and an XML-escaped
    # title, from a join code of our own alphabet and an address of this machine or PUBLIC_URL.
    return Markup(svg)  # nosec B704


def banner(join: JoinAddress) -> list[str]:
    """Return the start banner's lines about phones: every address with its interface, or what to do."""
    if join.pinned:
        return [f"  Phones join at:            {join.url}"]
    if not join.reachable:
        return ["  Phones cannot reach this laptop: it is on no network (only 127.0.0.1).",
                "    Join the room's Wi-Fi, or turn this laptop's hotspot on: the console and the",
                "    projector show the address as soon as there is one, with no restart.",
                "    Or set PUBLIC_URL to the address phones use",
                "    (README: \"Running a room with no internet\")."]
    port = current_app.config["PORT"]
    lines = [f"  Phones join at:            {join.url}  ({join.in_use.interface})"]
    others = [c for c in join.choices if c != join.in_use]
    for other in others:
        lines.append(f"{'    or, on ' + other.interface + ':':<28} http://{other.address}:{port}")
    if others:
        lines.append("    (the console switches between them; PUBLIC_URL pins one)")
    return lines
