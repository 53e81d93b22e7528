"""Password hashing and session tokens (blabber.security)."""

from __future__ import annotations

import math
import re

import pytest

from blabber import security


def test_hash_and_verify_roundtrip():
    hashed = security.hash_password("correct horse", rounds=4)
    assert security.verify_password("correct horse", hashed)


def test_default_cost_is_12():
    hashed = security.hash_password("correct horse")
    assert "$12$" in hashed
    assert security.verify_password("correct horse", hashed)


def test_hash_is_salted():
    assert security.hash_password("same", rounds=4) != security.hash_password("same", rounds=4)


def test_wrong_password_is_false():
    hashed = security.hash_password("correct horse", rounds=4)
    assert security.verify_password("correct horsE", hashed) is False
    assert security.verify_password("", hashed) is False


def test_password_over_72_bytes_is_refused_when_hashing():
    with pytest.raises(ValueError):
        security.hash_password("a" * 73, rounds=4)
    # 24 three-byte characters = 72 bytes: accepted; one more is 75 bytes: refused
    security.hash_password("€" * 24, rounds=4)
    with pytest.raises(ValueError):
        security.hash_password("€" * 25, rounds=4)


def test_password_over_72_bytes_never_verifies_even_if_prefix_matches():
    hashed = security.hash_password("a" * 72, rounds=4)
    assert security.verify_password("a" * 72, hashed)
    assert security.verify_password("a" * 73, hashed) is False


def test_verify_against_missing_or_corrupt_hash_is_false():
    assert security.verify_password("whatever1", None) is False
    assert security.verify_password("whatever1", "not-a-bcrypt-hash") is False


def test_verify_with_unencodable_password_is_false():
    hashed = security.hash_password("password1", rounds=4)
    assert security.verify_password("pass\ud800word", hashed) is False


def test_session_token_has_at_least_128_bits():
    tokens = {security.new_session_token() for _ in range(1000)}
    assert len(tokens) == 1000
    for token in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_\-]+", token)
        # URL-safe base64: 6 bits per character
        assert len(token) * 6 >= 128
    assert math.log2(64) * min(len(t) for t in tokens) >= 128
    # every base64 character shows up: the tokens are not from a small alphabet
    assert len(set("".join(tokens))) == 64


def test_hash_token_is_stable_and_distinct():
    token = security.new_session_token()
    assert security.hash_token(token) == security.hash_token(token)
    assert re.fullmatch(r"[0-9a-f]{64}", security.hash_token(token))
    assert security.hash_token(token) != security.hash_token(token + "x")
    assert security.hash_token(token) != token


def test_tokens_equal():
    assert security.tokens_equal("abc", "abc")
    assert not security.tokens_equal("abc", "abd")


# -- client addresses ---------------------------------------------------------------
NGINX = ("10.0.0.0/8",)


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "trusted", "expected"),
    [
        # no proxy configured: the header is anyone's to forge, so it is ignored
        ("203.0.113.5", "1.2.3.4", (), "203.0.113.5"),
        # a trusted proxy: the entry it appended (the right-most) is the client
        ("10.0.0.2", "203.0.113.5", NGINX, "203.0.113.5"),
        ("10.0.0.2", "1.2.3.4, 203.0.113.5", NGINX, "203.0.113.5"),  # forged prefix skipped
        # exactly one hop by default: nothing further left is believed
        ("10.0.0.2", "203.0.113.5, 10.0.0.9", NGINX, "10.0.0.9"),
        # a peer that is not the proxy cannot borrow its trust
        ("198.51.100.1", "203.0.113.5", NGINX, "198.51.100.1"),
        # garbage stops the walk at the last address we believe
        ("10.0.0.2", "not-an-ip", NGINX, "10.0.0.2"),
        ("10.0.0.2", "", NGINX, "10.0.0.2"),
        ("10.0.0.2", " , ", NGINX, "10.0.0.2"),
        # every hop trusted (a health check from inside): the furthest one
        ("10.0.0.2", "10.0.0.3", NGINX, "10.0.0.3"),
        ("::ffff:203.0.113.5", "", (), "203.0.113.5"),
        ("::1", "203.0.113.5", ("::1/128",), "203.0.113.5"),
        ("", "203.0.113.5", NGINX, ""),
        ("garbage", "203.0.113.5", NGINX, ""),
    ],
)
def test_client_address_trusts_forwarded_for_only_from_trusted_proxies(
    peer, forwarded_for, trusted, expected
):
    assert security.client_address(peer, forwarded_for, trusted) == expected


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.5", "203.0.113.5"),
        ("::ffff:203.0.113.5", "203.0.113.5"),
        ("2001:db8:0:1:aaaa::5", "2001:db8:0:1::/64"),
        ("", ""),
        ("nonsense", ""),
    ],
)
def test_address_key_groups_ipv6_by_64(address, key):
    assert security.address_key(address) == key
