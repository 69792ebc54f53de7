"""Which address of this machine a phone on the same network can reach.

The kernel already knows the answer for the common case: the source address it would use to
reach the internet is the one on the Wi-Fi or Ethernet network the phone is most likely on.
:func:`route_sources` asks it the classic way, by ``connect()``-ing a UDP socket: for UDP that
call only looks up the route and fixes the local address; no packet leaves the machine (nothing
is ever sent on the socket; the target is a documentation address, RFC 5737 / RFC 3849, so
even a mistake could reach no one).

That answer is wrong in known cases, and :func:`choose` corrects it from the interface list:
a full-tunnel VPN (the route goes through ``tun0``/``wg0``/``utun3``, an address the phone
cannot reach), a machine without a default route (offline, or a phone hotspot without
internet), container bridges (``docker0``). :func:`choose` is pure logic over the route answer
and an injected interface list, so its tests need no network at all.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from mailsetup.errors import BadInput

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Documentation addresses (RFC 5737, RFC 3849): routed like any internet address by the local
# route lookup, owned by no one.
_PROBE_TARGETS = {socket.AF_INET: ("192.0.2.1", 9), socket.AF_INET6: ("2001:db8::1", 9)}

# Private ranges a home or office LAN uses (RFC 1918, RFC 4193). Carrier-grade NAT space
# (100.64.0.0/10, also Tailscale's) is left out on purpose: a phone on the LAN cannot reach it.
_LAN_NETWORKS = tuple(
    ipaddress.ip_network(n) for n in ("192.168.0.0/16", "10.0.0.0/8", "172.16.0.0/12", "fc00::/7")
)

# Interface name prefixes of tunnels, VPNs, containers and hypervisor NATs: a phone on the
# Wi-Fi cannot reach an address there. (Linux, macOS and BSD names; "br0", a real LAN bridge,
# and macOS's "bridge100", Internet Sharing towards the phone, are kept.)
VIRTUAL_PREFIXES = (
    "lo", "docker", "br-", "veth", "virbr", "vmnet", "vboxnet", "tun", "tap", "wg", "utun",
    "ipsec", "ppp", "tailscale", "zt", "podman", "cni", "flannel", "cali", "kube", "awdl",
    "llw", "anpi", "gif", "stf",
)  # fmt: skip


@dataclass(frozen=True)
class Interface:
    """One address of one network interface, as the operating system lists it."""

    name: str
    address: str


@dataclass(frozen=True)
class Choice:
    """The address to listen on, and why (shown to the person, so a wrong guess is visible)."""

    address: str
    reason: str
    public: bool = False  # reachable from the internet: only the token protects the link


def is_virtual(name: str) -> bool:
    """True for interfaces of tunnels, VPNs and containers (see :data:`VIRTUAL_PREFIXES`)."""
    return name.lower().startswith(VIRTUAL_PREFIXES)


def _parse(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def _is_lan(ip: IPAddress) -> bool:
    return any(ip in net for net in _LAN_NETWORKS if net.version == ip.version)


def _usable(ip: IPAddress) -> bool:
    """An address another device could use at all: not loopback, link-local, multicast, ..."""
    return not (
        ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_unspecified
        or ip.is_reserved
        or (isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None)
    )


def choose(route_sources: Sequence[str], interfaces: Iterable[Interface]) -> Choice:
    """Pick the address a phone on the same network can reach, or explain why there is none.

    In order: the route's source address when it is a private LAN address on a physical
    interface; else the first private LAN address of a physical interface (IPv4 before IPv6,
    in the operating system's order); else the route's public address (a machine directly on
    the internet, flagged ``public``). Loopback, link-local and addresses of tunnels and
    containers are never chosen.
    """
    listed = [(i.name, ip) for i in interfaces if (ip := _parse(i.address)) is not None]
    owner = {ip: name for name, ip in listed}
    routes = [ip for s in route_sources if (ip := _parse(s)) is not None and _usable(ip)]

    def physical(ip: IPAddress) -> bool:
        name = owner.get(ip)
        return name is None or not is_virtual(name)

    for ip in routes:
        if _is_lan(ip) and physical(ip):
            return Choice(str(ip), f"the address of the default route ({owner.get(ip, '?')})")
    lan = [
        (name, ip) for name, ip in listed if _usable(ip) and _is_lan(ip) and not is_virtual(name)
    ]
    lan.sort(key=lambda item: item[1].version)  # stable: IPv4 first, else the system's order
    if lan:
        name, ip = lan[0]
        why = "the default route leads elsewhere" if routes else "there is no default route"
        return Choice(str(ip), f"the local network address of {name} ({why})")
    for ip in routes:
        if physical(ip) and ip.is_global:
            return Choice(str(ip), "a public address: no private network found", public=True)
    raise BadInput(
        "no local network address found to share on",
        "connect this machine to the phone's Wi-Fi, or pass --host with its address",
    )


SocketFactory = Callable[[int, int], socket.socket]


def route_sources(factory: SocketFactory = socket.socket) -> list[str]:
    """The source addresses the kernel would use towards the internet (IPv4, then IPv6).

    A UDP ``connect()`` selects a route and a local address without sending anything; the
    socket is closed without a single send call. ``factory`` lets tests check exactly that.
    """
    found = []
    for family, target in _PROBE_TARGETS.items():
        try:
            with factory(family, socket.SOCK_DGRAM) as sock:
                sock.connect(target)
                found.append(str(sock.getsockname()[0]))
        except OSError:  # no route for this family (offline, IPv4-only network)
            continue
    return found


def system_interfaces() -> list[Interface]:
    """Every address of every interface (ifaddr: getifaddrs on POSIX, the IP helper on Windows).

    A small, dependency-free library rather than parsing ``ip addr``/``ifconfig`` output, which
    differs per system and language.
    """
    import ifaddr

    found = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            address = ip.ip if isinstance(ip.ip, str) else ip.ip[0]
            found.append(Interface(adapter.name, address))
    return found


def choose_for_this_machine() -> Choice:
    """:func:`choose` over this machine's route and interfaces."""
    return choose(route_sources(), system_interfaces())
