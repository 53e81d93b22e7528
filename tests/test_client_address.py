"""Whose address X-Forwarded-For may name (security.client_address, issue 12 finding 4).

Every proxy appends the address of whoever connected to it, so only the
entries our own proxies appended are true; anything to their left is what
the client chose to send. ``client_address`` therefore takes exactly
``hops`` entries from the right (BLABBER_TRUSTED_PROXY_HOPS, default 1: the
one nginx of docker-compose.yml) and never walks further, even when the
forged entries happen to look like trusted addresses.
"""

from __future__ import annotations

import pytest

from blabber import security
from blabber.settings import Settings

PRIVATE = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")  # the old compose default
NGINX = ("172.28.0.10",)  # docker-compose.yml: the proxy's fixed address
EDGE = "198.51.100.7"  # a TLS-terminating balancer in front of nginx
CHAIN = (*NGINX, EDGE)


def test_forged_private_entry_is_not_walked_past() -> None:
    """The review's example: a forged '6.6.6.6' behind a private-looking entry."""
    assert security.client_address("172.18.0.5", "6.6.6.6, 192.168.1.50", PRIVATE) == (
        "192.168.1.50"
    )


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "expected"),
    [
        # nginx appended the right-most entry: that is the client, whatever precedes it
        ("172.28.0.10", "203.0.113.5", "203.0.113.5"),
        ("172.28.0.10", "6.6.6.6, 203.0.113.5", "203.0.113.5"),
        # even a forged entry that is itself a trusted address is one hop too far
        ("172.28.0.10", "6.6.6.6, 172.28.0.10", "172.28.0.10"),
        # a peer that is not our proxy (another container) cannot borrow its trust
        ("172.28.0.11", "203.0.113.5", "172.28.0.11"),
        # nothing (or garbage) appended: the proxy itself is all we know
        ("172.28.0.10", "", "172.28.0.10"),
        ("172.28.0.10", "not-an-ip", "172.28.0.10"),
    ],
)
def test_one_hop_by_default(peer: str, forwarded_for: str, expected: str) -> None:
    assert security.client_address(peer, forwarded_for, NGINX) == expected


def test_two_proxy_chain_with_two_hops() -> None:
    """Balancer -> nginx -> app: the balancer's entry names the client."""
    forwarded = f"6.6.6.6, 203.0.113.5, {EDGE}"
    assert security.client_address("172.28.0.10", forwarded, CHAIN, hops=2) == "203.0.113.5"
    # With one hop configured the balancer is the client (never further than told).
    assert security.client_address("172.28.0.10", forwarded, CHAIN, hops=1) == EDGE
    # Three entries, two hops: the forged left-most one is never reached.
    assert security.client_address("172.28.0.10", forwarded, CHAIN, hops=2) != "6.6.6.6"


def test_two_hops_stop_at_an_untrusted_intermediate() -> None:
    """A client that reaches nginx directly (bypassing the balancer) cannot forge."""
    assert (
        security.client_address("172.28.0.10", "6.6.6.6, 203.0.113.9", CHAIN, hops=2)
        == "203.0.113.9"
    )


def test_two_hops_with_a_short_header() -> None:
    assert security.client_address("172.28.0.10", "203.0.113.9", CHAIN, hops=2) == "203.0.113.9"


def test_zero_hops_ignores_the_header() -> None:
    assert security.client_address("172.28.0.10", "203.0.113.5", NGINX, hops=0) == "172.28.0.10"


def test_trusted_proxy_hops_setting() -> None:
    assert Settings.from_env({}).trusted_proxy_hops == 1
    assert Settings.from_env({"BLABBER_TRUSTED_PROXY_HOPS": "2"}).trusted_proxy_hops == 2
    assert Settings.from_env({"BLABBER_TRUSTED_PROXY_HOPS": " "}).trusted_proxy_hops == 1
