"""The client identity behind per-IP limits: the peer, or what a trusted proxy says it is."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from exchange_mock.api.client_ip import UNKNOWN_PEER, client_ip
from exchange_mock.settings import Settings

PROXY = "10.0.0.2"
TRUSTED = frozenset({PROXY})


def test_the_client_is_the_peer_by_default() -> None:
    assert client_ip("198.51.100.1", None, frozenset()) == "198.51.100.1"


def test_an_untrusted_peer_cannot_name_another_client() -> None:
    assert client_ip("198.51.100.1", "203.0.113.7", TRUSTED) == "198.51.100.1"


def test_a_trusted_proxy_names_the_client_by_the_first_forwarded_address() -> None:
    assert client_ip(PROXY, "203.0.113.7, 198.51.100.1", TRUSTED) == "203.0.113.7"


def test_one_trusted_load_generator_acts_as_many_clients() -> None:
    clients = {client_ip(PROXY, f"203.0.113.{n}", TRUSTED) for n in range(50)}

    assert len(clients) == 50


def test_a_trusted_proxy_without_the_header_is_the_client() -> None:
    assert client_ip(PROXY, None, TRUSTED) == PROXY


def test_a_forwarded_value_that_is_not_an_address_is_ignored() -> None:
    assert client_ip(PROXY, "evil:key:names", TRUSTED) == PROXY
    assert client_ip(PROXY, ", 203.0.113.7", TRUSTED) == PROXY


def test_one_address_spelled_two_ways_is_one_client() -> None:
    long_form = client_ip(PROXY, "2001:0db8:0000:0000:0000:0000:0000:0001", TRUSTED)

    assert long_form == client_ip(PROXY, " 2001:db8::1 ", TRUSTED) == "2001:db8::1"


def test_requests_without_a_peer_share_one_identity_and_cannot_be_forwarded() -> None:
    assert client_ip(None, "203.0.113.7", TRUSTED) == UNKNOWN_PEER


def test_a_trusted_network_trusts_every_load_generator_inside_it_and_nothing_outside() -> None:
    """Load generators scaled out in containers get addresses from a range."""
    generators = frozenset({"10.213.128.0/17"})
    assert client_ip("10.213.128.9", "198.18.0.7", generators) == "198.18.0.7"
    assert client_ip("10.213.200.1", "198.18.0.8", generators) == "198.18.0.8"
    assert client_ip("10.213.0.1", "198.18.0.9", generators) == "10.213.0.1"
    assert client_ip("fd00::1", "198.18.0.9", generators) == "fd00::1"
    assert client_ip("not-an-address", "198.18.0.9", generators) == "not-an-address"


def test_a_trusted_entry_must_be_an_address_or_a_network() -> None:
    assert Settings(trusted_proxies=frozenset({"10.0.0.2", "fd00::/8"})).trusted_proxies
    with pytest.raises(ValidationError, match="neither an IP address nor a network"):
        Settings(trusted_proxies=frozenset({"api-gateway"}))
