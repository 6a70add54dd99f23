"""OSC in over real UDP on loopback: validation, commands, ping/pong, timetags, safety."""

from __future__ import annotations

import logging
import socket
import time

import pytest
from pythonosc.osc_bundle_builder import OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

from engine.control.commands import CommandQueue
from engine.control.osc.inbound import OscServer
from engine.control.osc.mapping import OscMapping
from engine.control.osc.wire import encode_bundles, encode_message
from engine.params import ParamRegistry, ParamSpec

from .conftest import Receiver


def wait_for(cond, timeout: float = 3.0) -> bool:
    end = time.monotonic() + timeout
    while not cond() and time.monotonic() < end:
        time.sleep(0.005)
    return cond()


@pytest.fixture
def server():
    reg = ParamRegistry(
        [ParamSpec("mirror.gain", 1.0, 0.0, 3.0, "gain"), ParamSpec("engine.blackout", 0, 0, 1, "b")]
    )
    maps = [
        OscMapping("/1/fader1", param="mirror.gain", curve="ease_in"),
        OscMapping("/1/push1", to="/latent/jump"),
    ]
    srv = OscServer(("127.0.0.1", 0), reg, CommandQueue(), time.monotonic, scenes=["mirror"], mappings=maps)
    srv.start()
    yield srv
    srv.close()


def send(sock: socket.socket, srv: OscServer, *packets: bytes) -> None:
    before = srv.stats["packets"]
    for p in packets:
        sock.sendto(p, srv.address)
    assert wait_for(lambda: srv.stats["packets"] >= before + len(packets))


def drain(srv: OscServer, ahead: float = 0.0) -> list[tuple[str, tuple]]:
    return [(c.kind, c.args) for c in srv.commands.drain(time.monotonic() + ahead)]


def test_commands_from_messages(server: OscServer, sender: socket.socket) -> None:
    send(
        sender,
        server,
        encode_message("/param/mirror.gain", (2.5,)),
        encode_message("/param/mirror.gain", (7,)),  # ints are fine; clamping is the registry's
        encode_message("/engine/blackout", (True,)),
        encode_message("/scene/select", ("mirror",)),
        encode_message("/latent/jump"),
        encode_message("/latent/jump", (0,)),  # a push button's release: no second jump
        encode_message("/latent/seed", (42,)),
        encode_message("/sync/beat"),
        encode_message("/sync/beat", (0,)),  # an int: the beat's index
        encode_message("/sync/beat", (0.0,)),  # a float 0: a button's release, no beat
        encode_message("/sync/bpm", (128.0,)),
        encode_message("/audio/level", (0.5,)),
        encode_message("/preset/save", ("club",)),
        encode_message("/1/fader1", (0.5,)),  # mapped: ease_in of 0.5 over 0..3
        encode_message("/1/push1", (1.0,)),
        encode_message("/1/push1", (0.0,)),
    )
    b = OscMessageBuilder("/audio/bands")
    b.add_arg([0.1, 0.2, 0.3])
    send(sender, server, b.build().dgram)
    assert drain(server) == [
        ("param", ("mirror.gain", 2.5)),
        ("param", ("mirror.gain", 7.0)),
        ("param", ("engine.blackout", 1.0)),
        ("scene", ("mirror",)),
        ("jump", ()),
        ("seed", (42,)),
        ("beat", (None,)),
        ("beat", (0,)),
        ("bpm", (128.0,)),
        ("level", (0.5,)),
        ("preset_save", ("club",)),
        ("param", ("mirror.gain", 0.75)),
        ("jump", ()),
        ("bands", (pytest.approx((0.1, 0.2, 0.3)),)),
    ]


def test_bad_input_is_refused_and_logged_once_per_address(
    server: OscServer, sender: socket.socket, caplog: pytest.LogCaptureFixture
) -> None:
    bad = [
        encode_message("/param/nope", (1.0,)),
        encode_message("/param/mirror.gain", ("loud",)),
        encode_message("/param/mirror.gain"),
        b"/param/mirror.gain\x00\x00,f\x00\x00\x7f\xc0\x00\x00",  # NaN
        encode_message("/scene/select", ("nope",)),
        encode_message("/preset/load", ("../../etc/passwd",)),
        encode_message("/latent/seed", (1.5,)),
        encode_message("/what/ever", (1,)),
        b"\x00garbage",
    ]
    with caplog.at_level(logging.WARNING, logger="engine.control.osc.inbound"):
        for _ in range(50):
            send(sender, server, *bad)
    assert drain(server) == []
    assert server.stats["malformed"] == 50 and server.stats["unknown"] == 100
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) <= len(bad), lines
    assert any("unknown parameter 'nope'" in line for line in lines)
    assert any("preset name" in line for line in lines)


def test_ping_is_answered_with_pong(server: OscServer, sender: socket.socket) -> None:
    r = Receiver()
    try:
        send(sender, server, encode_message("/engine/ping", (r.port,)))
        assert r.collect(lambda m: len(m) >= 1, 3) == [("/engine/pong", [])]
        send(sender, server, encode_message("/engine/ping"))  # no port: to the sender's own
        sender.settimeout(3)
        data, source = sender.recvfrom(1024)
        assert data == encode_message("/engine/pong") and source[1] == server.address[1]
    finally:
        r.close()


def test_future_bundles_never_stall(server: OscServer, sender: socket.socket) -> None:
    soon = OscBundleBuilder(time.time() + 0.5)
    soon.add_content(OscMessageBuilder("/sync/beat").build())
    t0 = time.monotonic()
    send(
        sender,
        server,
        soon.build().dgram,
        *encode_bundles([encode_message("/latent/jump")], time.time() + 3e7),  # a year ahead: now
        encode_message("/latent/seed", (3,)),
    )
    assert time.monotonic() - t0 < 0.5  # nobody waited for the timetag
    assert drain(server) == [("jump", ()), ("seed", (3,))]
    assert drain(server, ahead=0.7) == [("beat", (None,))]  # due at its timetag


def test_allow_list_and_rate_limit(server: OscServer) -> None:
    server.handle(encode_message("/latent/jump"), ("192.168.7.7", 9000))
    assert server.stats["refused"] == 1 and drain(server) == []
    limited = OscServer(("127.0.0.1", 0), server.registry, CommandQueue(), time.monotonic, rate=50)
    try:
        for _ in range(500):
            limited.handle(encode_message("/latent/jump"), ("127.0.0.1", 9000))
        assert limited.stats["rate_limited"] >= 440 and len(limited.commands) <= 60
    finally:
        limited.close()
