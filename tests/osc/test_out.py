"""OSC out over real UDP on loopback: timed bundles of features, groups, rates, events, feedback."""

from __future__ import annotations

import logging
import time

import numpy as np
import pytest

from engine.control.osc.mapping import OscMapping
from engine.control.osc.sender import CONTROLLER_GROUPS, FrameState, OscOut, OscTargetSettings, parse_target
from engine.control.osc.wire import decode
from engine.params import ParamRegistry, ParamSpec

from .conftest import Receiver, needs_ipv6


def state(presence: float = 1.0, skeleton: np.ndarray | None = None) -> FrameState:
    return FrameState({"presence": presence, "smile": 0.75}, 1.5, [0.5, -1.0, 2.0], 59.5, skeleton)


def test_bundles_carry_features_latent_and_fps(receiver: Receiver) -> None:
    out = OscOut([OscTargetSettings(receiver.address, ("viewer", "latent", "engine"), rate=30)])
    t0 = time.time()
    out.publish(state(), now=0.0)
    out.publish(state(), now=0.01)  # within 1/30 s: nothing per-frame is sent again
    got = dict(receiver.collect(lambda m: len(m) >= 5, 3))
    assert got["/viewer/presence"] == [1.0] and got["/viewer/smile"] == [0.75]
    assert got["/latent/speed"] == [1.5] and got["/latent/pc"] == [0.5, -1.0, 2.0]
    assert got["/engine/fps"] == [59.5]
    assert len(receiver.collect(lambda m: False, 0.2)) == 5
    (packet,) = receiver.packets
    assert packet.startswith(b"#bundle\x00")  # one timed bundle per frame
    assert all(abs(m.timetag - t0) < 1.0 for m in decode(packet))
    out.close()


def test_plain_messages_option_and_groups(receiver: Receiver) -> None:
    out = OscOut([OscTargetSettings(receiver.address, ("latent",), bundles=False)])
    out.publish(state(), now=0.0)
    got = receiver.collect(lambda m: len(m) >= 2, 3)
    assert {a for a, _ in got} == {"/latent/speed", "/latent/pc"}  # no viewer, no engine
    assert all(p.startswith(b"/") for p in receiver.packets)
    out.close()


def test_events_are_never_rate_dropped(receiver: Receiver) -> None:
    out = OscOut([OscTargetSettings(receiver.address, ("events",), rate=1)])
    out.publish(state(presence=0.0), now=0.0)
    out.publish(state(presence=1.0), now=0.01)
    out.event("/scene/changed", "mirror")
    out.publish(state(presence=0.0), now=0.02)
    got = receiver.collect(lambda m: len(m) >= 3, 3)
    assert got == [("/viewer/enter", []), ("/scene/changed", ["mirror"]), ("/viewer/leave", [])]
    out.close()


def test_feedback_echo_is_coalesced_and_follows_mappings() -> None:
    reg = ParamRegistry([ParamSpec("mirror.gain", 1.0, 0.0, 3.0, "g"), ParamSpec("x.y", 0, 0, 1, "y")])
    controller, sound = Receiver(), Receiver()
    maps = [OscMapping("/1/xy", param="mirror.gain", arg=1), OscMapping("/1/xy", param="x.y", arg=0)]
    out = OscOut(
        [
            OscTargetSettings(controller.address, CONTROLLER_GROUPS),
            OscTargetSettings(sound.address, ("viewer",)),
        ],
        reg,
        maps,
    )
    for v in (0.5, 1.0, 1.5, 9.0):  # a fader drag within one frame, clamped at the end
        reg.set("mirror.gain", v, origin="osc")
    out.publish(state(), now=0.0)
    got = controller.collect(lambda m: len(m) >= 3, 3)
    assert ("/param/mirror.gain", [3.0]) in got  # the newest (clamped) value, once
    assert [a for a, _ in got].count("/param/mirror.gain") == 1
    assert ("/1/xy", [0.0, 1.0]) in got  # the xy pad's y follows the parameter, x keeps x.y
    assert "/param/mirror.gain" not in sound.addresses() | {a for a, _ in sound.collect(lambda m: 0, 0.2)}
    out.close()
    controller.close()
    sound.close()


def test_landmarks_only_with_the_flag(receiver: Receiver) -> None:
    skeleton = np.zeros((33, 3), np.float32)
    for flag in (False, True):
        out = OscOut([OscTargetSettings(receiver.address, ("viewer",))], send_landmarks=flag)
        out.publish(state(skeleton=skeleton), now=0.0)
        receiver.collect(lambda m: False, 0.3)
        assert ("/viewer/skeleton" in receiver.addresses()) is flag
        out.close()
    assert [p for a, p in receiver.messages if a == "/viewer/skeleton"][0] == [0.0] * 99


def said(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What OscOut said about a target's health: its 'failing' and 'works again' lines."""
    return [
        r.getMessage() for r in caplog.records if " failing (" in r.getMessage() or "again" in r.getMessage()
    ]


def test_failing_target_logged_once_and_spares_the_others(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    """sendto really fails here: 127.255.255.255 is loopback's broadcast address (on every Linux with
    lo up) and the socket has no SO_BROADCAST, so the kernel refuses every datagram to it."""
    out = OscOut(
        [
            OscTargetSettings("127.255.255.255:9000", ("viewer",), rate=240),  # first: must not stop the next
            OscTargetSettings(receiver.address, ("viewer",), rate=240),
        ]
    )
    with caplog.at_level(logging.INFO, logger="engine.control.osc.sender"):
        for i in range(20):
            out.publish(state(), now=float(i))  # never raises
    out.close()
    lines = said(caplog)
    assert len(lines) == 1 and lines[0].startswith("OSC to 127.255.255.255:9000 failing (")
    assert len(receiver.collect(lambda m: len(m) >= 40, 3)) == 40 and len(receiver.packets) == 20
    assert out.sent == 20  # only the datagrams that went out: the healthy target's


def test_target_that_fails_then_works_says_so_once(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    """A 70 KB event cannot fit one UDP datagram: sendto fails (EMSGSIZE) on a live target, then the
    next frames go through. Said once each way, never raised, and `sent` counts only what went."""
    out = OscOut([OscTargetSettings(receiver.address, ("events", "viewer"), rate=240)])
    with caplog.at_level(logging.INFO, logger="engine.control.osc.sender"):
        out.publish(state(), now=0.0)
        out.event("/scene/changed", "x" * 70_000)
        out.publish(state(), now=1.0)  # fails: that frame is missed
        assert out.sent == 1
        for i in range(2, 7):
            out.publish(state(), now=float(i))
    out.close()
    lines = said(caplog)
    assert len(lines) == 2 and lines[0].startswith(f"OSC to {receiver.address} failing (")
    assert lines[1] == f"OSC to {receiver.address} works again"
    got = receiver.collect(lambda m: len(m) >= 13, 3)
    assert got[0] == ("/viewer/enter", []) and len(got) == 13 and "/scene/changed" not in receiver.addresses()
    assert out.sent == len(receiver.packets) == 6


@pytest.mark.parametrize("bad", ["localhost", "host:abc", "host:70000", ":9000"])
def test_bad_target_named(bad: str) -> None:
    with pytest.raises(ValueError, match="OSC target"):
        parse_target(bad)


def test_rate_holds_when_frames_jitter_around_their_period() -> None:
    """30 fps presented with ±3 ms jitter at rate 30 sends ~30/s (a naive 'since last' check: ~18)."""
    from engine.control.osc.sender import _Target

    target = _Target(OscTargetSettings("127.0.0.1:9", ("viewer",), rate=30))
    rng = np.random.default_rng(1)
    frames = [i / 30 + rng.uniform(-0.003, 0.003) for i in range(300)]  # ten seconds
    assert 285 <= sum(target.take_slot(t) for t in frames) <= 300
    fast = _Target(OscTargetSettings("127.0.0.1:9", ("viewer",), rate=30))
    frames = [i / 60 + rng.uniform(-0.003, 0.003) for i in range(600)]  # 60 fps for ten seconds
    assert 295 <= sum(fast.take_slot(t) for t in frames) <= 302  # never above the rate


@needs_ipv6
def test_ipv6_and_ipv4_targets_both_receive() -> None:
    """[::1]:PORT gets the same bundles as an IPv4 target of the same OscOut (one socket per family)."""
    six, four = Receiver("::1"), Receiver()
    try:
        out = OscOut(
            [OscTargetSettings(six.address, ("viewer",)), OscTargetSettings(four.address, ("viewer",))]
        )
        out.publish(state(), now=0.0)
        out.close()
        for r in (six, four):
            got = dict(r.collect(lambda m: len(m) >= 2, 3))
            assert got == {"/viewer/presence": [1.0], "/viewer/smile": [0.75]}, r.address
        assert out.sent == 2
    finally:
        six.close()
        four.close()
