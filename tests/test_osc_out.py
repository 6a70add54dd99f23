"""OSC out over real UDP on loopback, parsed by python-osc's own server."""

from __future__ import annotations

import socket

import pytest
from pythonosc.osc_message import OscMessage

from engine.osc import OscSender, parse_target


def test_features_arrive_as_float_messages() -> None:
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(2.0)
    port = rx.getsockname()[1]
    sender = OscSender([f"127.0.0.1:{port}"], rate=30)
    assert sender.send_features({"smile": 0.75, "presence": 1.0}, now=0.0)
    assert not sender.send_features({"smile": 0.1}, now=0.01)  # rate limit
    got = {}
    for _ in range(2):
        msg = OscMessage(rx.recv(1024))
        got[msg.address] = msg.params
    assert got == {"/viewer/smile": [0.75], "/viewer/presence": [1.0]}
    sender.close()
    rx.close()


def test_unreachable_target_never_raises() -> None:
    sender = OscSender(["127.0.0.1:9"], rate=1000)
    for i in range(5):
        sender.send_features({"x": 0.0}, now=float(i))
    sender.close()


@pytest.mark.parametrize("bad", ["localhost", "host:abc", "host:70000", ":9000"])
def test_bad_target_named(bad: str) -> None:
    with pytest.raises(ValueError, match="OSC target"):
        parse_target(bad)
