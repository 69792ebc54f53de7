"""Choosing the LAN address: pure logic over injected route answers and interface lists.

No test here sends a packet anywhere: the interface lists are made up, and the route lookup is
run against a socket that records every call and fails the test on any send.
"""

from __future__ import annotations

import socket
from typing import Any, ClassVar

import pytest

from mailsetup.errors import BadInput
from mailsetup.share.lan import Interface, choose, route_sources

HOME = [
    Interface("lo", "127.0.0.1"),
    Interface("lo", "::1"),
    Interface("wlan0", "192.168.1.20"),
    Interface("wlan0", "fe80::1c2b:3aff:fe4d:5e6f"),
    Interface("docker0", "172.17.0.1"),
]


def test_the_default_routes_source_on_the_wifi_is_chosen() -> None:
    choice = choose(["192.168.1.20"], HOME)
    assert choice.address == "192.168.1.20"
    assert "wlan0" in choice.reason
    assert not choice.public


def test_a_full_tunnel_vpn_is_passed_over_for_the_wifi_address() -> None:
    interfaces = [*HOME, Interface("wg0", "10.8.0.2"), Interface("tun0", "10.9.0.5")]
    assert choose(["10.8.0.2"], interfaces).address == "192.168.1.20"
    assert choose(["10.9.0.5"], interfaces).address == "192.168.1.20"


def test_macos_names_utun_and_en0() -> None:
    interfaces = [Interface("utun3", "10.20.0.7"), Interface("en0", "10.0.1.15")]
    assert choose(["10.20.0.7"], interfaces).address == "10.0.1.15"


def test_without_a_default_route_a_lan_address_is_still_found() -> None:
    choice = choose([], HOME)
    assert choice.address == "192.168.1.20"
    assert "no default route" in choice.reason


def test_ipv4_is_preferred_over_a_ula_but_a_ula_alone_works() -> None:
    both = [Interface("eth0", "fd12:3456:789a::5"), Interface("eth0", "10.1.2.3")]
    assert choose([], both).address == "10.1.2.3"
    assert choose([], [Interface("eth0", "fd12:3456:789a::5")]).address == "fd12:3456:789a::5"


def test_the_route_source_is_kept_even_if_an_earlier_interface_has_another_lan_address() -> None:
    interfaces = [Interface("eth1", "10.0.0.9"), Interface("wlan0", "192.168.1.20")]
    assert choose(["192.168.1.20"], interfaces).address == "192.168.1.20"


@pytest.mark.parametrize(
    "interfaces",
    [
        [Interface("lo", "127.0.0.1"), Interface("lo", "::1")],
        [Interface("eth0", "169.254.10.20"), Interface("eth0", "fe80::1")],  # link-local only
        [Interface("docker0", "172.17.0.1"), Interface("br-1a2b3c", "172.18.0.1")],
        [Interface("tailscale0", "100.101.102.103")],  # CGNAT space: not the phone's LAN
        [],
    ],
)
def test_no_reachable_address_is_bad_input_naming_host(interfaces: list[Interface]) -> None:
    with pytest.raises(BadInput) as err:
        choose([], interfaces)
    assert "--host" in str(err.value)


def test_loopback_or_link_local_route_answers_are_never_chosen() -> None:
    with pytest.raises(BadInput):
        choose(["127.0.0.1", "fe80::1"], [Interface("lo", "127.0.0.1")])


def test_a_public_address_is_used_only_as_a_last_resort_and_flagged() -> None:
    interfaces = [Interface("eth0", "84.16.66.10"), Interface("eth0", "2a02:1234::10")]
    choice = choose(["84.16.66.10"], interfaces)
    assert choice.address == "84.16.66.10"
    assert choice.public
    # ... and a private address on the same machine wins over it.
    assert choose(["84.16.66.10"], [*interfaces, Interface("eth1", "10.0.0.4")]).address == (
        "10.0.0.4"
    )


def test_scoped_ipv6_spellings_and_garbage_in_the_list_do_not_crash() -> None:
    interfaces = [Interface("eth0", "fe80::1%eth0"), Interface("eth0", "not-an-ip")]
    with pytest.raises(BadInput):
        choose(["garbage"], interfaces)


class SpySocket:
    """Stands in for a UDP socket: records calls, fails the test on anything that sends."""

    calls: ClassVar[list[tuple[str, Any]]] = []

    def __init__(self, family: int, kind: int) -> None:
        assert kind == socket.SOCK_DGRAM
        self.family = family
        self.calls.append(("socket", family))

    def __enter__(self) -> SpySocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.calls.append(("close", self.family))

    def connect(self, target: tuple[str, int]) -> None:
        self.calls.append(("connect", target))
        if self.family == socket.AF_INET6:
            raise OSError(101, "Network is unreachable")

    def getsockname(self) -> tuple[str, int]:
        return ("192.168.1.20", 40000)

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"route lookup used socket.{name}: it must never send")


def test_route_lookup_only_connects_a_udp_socket_to_documentation_addresses() -> None:
    SpySocket.calls = []
    assert route_sources(SpySocket) == ["192.168.1.20"]  # IPv6 unreachable: skipped quietly
    connects = [arg for call, arg in SpySocket.calls if call == "connect"]
    assert connects == [("192.0.2.1", 9), ("2001:db8::1", 9)]  # RFC 5737 / RFC 3849
    assert [c for c, _ in SpySocket.calls].count("close") == 2


def test_the_real_interface_list_includes_loopback() -> None:
    """ifaddr reads the system's list (getifaddrs): local, no packet involved."""
    from mailsetup.share.lan import system_interfaces

    assert any(i.address == "127.0.0.1" for i in system_interfaces())
