"""HOST:PORT, the one parser behind osc.listen, osc.out, osc.feedback, [[osc.targets]] and http.listen."""

from __future__ import annotations

import re
import socket

import pytest

from engine.config import ConfigError, load_config
from engine.hostport import parse_listen, parse_target, prefer_ipv4, resolve


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("127.0.0.1:57120", ("127.0.0.1", 57120)),
        ("localhost:9000", ("localhost", 9000)),
        ("[::1]:9000", ("::1", 9000)),
        ("[fe80::1%eth0]:9000", ("fe80::1%eth0", 9000)),
        (" 192.168.1.20:65535 ", ("192.168.1.20", 65535)),
    ],
)
def test_targets_and_listen_addresses_parse_alike(text: str, want: tuple[str, int]) -> None:
    assert parse_target(text) == want
    assert parse_listen(text) == want


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("localhost", "must look like HOST:PORT"),
        (":9000", "must look like HOST:PORT"),
        ("host:abc", "port 'abc' is not a number"),
        ("host:-1", "port '-1' is not a number"),
        ("host:٣", "port '٣' is not a number"),  # a digit to str.isdigit(), not to a port
        ("host:70000", "port 70000 is out of range 1..65535"),
        ("host:0", "port 0 is out of range 1..65535"),  # a target needs a real port
        ("::1:9000", "put an IPv6 address in brackets"),  # ::1 at 9000, or the address ::1:9000?
        ("[::1:9000", "brackets hold an IPv6 address"),
        ("[127.0.0.1]:9000", "brackets hold an IPv6 address"),
    ],
)
def test_bad_target_named_with_the_reason(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=rf"^OSC target '{re.escape(text)}'.*{re.escape(why)}"):
        parse_target(text)


def test_port_zero_only_for_listening() -> None:
    assert parse_listen("127.0.0.1:0") == ("127.0.0.1", 0)  # any free port
    assert parse_listen("[::1]:0") == ("::1", 0)
    for off in ("off", "OFF", "", "none"):
        assert parse_listen(off) is None
    with pytest.raises(
        ValueError, match=r"^listen address 'host:65536': port 65536 is out of range 0\.\.65535"
    ):
        parse_listen("host:65536")


def test_config_accepts_bracketed_ipv6_everywhere() -> None:
    cfg = load_config(
        None,
        {
            "osc": {"listen": "[::1]:9000", "out": ["[::1]:57120"], "feedback": ["127.0.0.1:9001"]},
            "http": {"listen": "[::1]:0"},
        },
    )
    assert cfg.osc.listen == "[::1]:9000" and cfg.http.listen == "[::1]:0"
    assert [t.address for t in cfg.osc.all_targets()] == ["[::1]:57120", "127.0.0.1:9001"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"osc": {"listen": "::1:9000"}}, r"^osc: OSC listen address '::1:9000': put an IPv6"),
        ({"osc": {"out": ["[::1]:0"]}}, r"^osc: OSC target '\[::1\]:0': port 0 is out of range 1\.\.65535"),
        ({"osc": {"feedback": ["pad"]}}, r"^osc: OSC target 'pad' must look like HOST:PORT"),
        (
            {"osc": {"targets": [{"address": "::1:57120"}]}},
            r"^osc\.targets\[0\]: OSC target '::1:57120': put",
        ),
        ({"http": {"listen": "::1:8080"}}, r"^http: listen = '::1:8080' must look like HOST:PORT"),
    ],
)
def test_config_names_the_bad_address(overrides: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(None, overrides)


def test_resolve_keeps_the_family_of_a_literal() -> None:
    family, addr = resolve("::1", 57120)
    assert family == socket.AF_INET6 and addr[:2] == ("::1", 57120)
    assert resolve("127.0.0.1", 57120) == (socket.AF_INET, ("127.0.0.1", 57120))


def test_a_name_with_both_families_gets_ipv4() -> None:
    """ "localhost" that also names ::1 (and lists it first, as many systems do) must still reach peers
    that listen on 127.0.0.1 only (scsynth, Pd): real getaddrinfo answers, IPv6 first."""
    six = socket.getaddrinfo("::1", 57120, socket.AF_UNSPEC, socket.SOCK_DGRAM)
    four = socket.getaddrinfo("127.0.0.1", 57120, socket.AF_UNSPEC, socket.SOCK_DGRAM)
    assert prefer_ipv4(six + four) == (socket.AF_INET, ("127.0.0.1", 57120))
    assert prefer_ipv4(six)[0] == socket.AF_INET6
