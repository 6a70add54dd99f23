"""OSC out over real UDP on loopback: timed bundles of features, groups, rates, events, feedback."""

from __future__ import annotations

import time

import numpy as np
import pytest

from engine.osc import CONTROLLER_GROUPS, FrameState, OscOut, OscTargetSettings, parse_target
from engine.osc_map import OscMapping
from engine.osc_wire import decode
from engine.params import ParamRegistry, ParamSpec

from .conftest import Receiver


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


def test_unreachable_target_never_raises() -> None:
    out = OscOut([OscTargetSettings("127.0.0.1:9", ("viewer",), rate=240)])
    for i in range(20):
        out.publish(state(), now=float(i))
    out.close()


@pytest.mark.parametrize("bad", ["localhost", "host:abc", "host:70000", ":9000"])
def test_bad_target_named(bad: str) -> None:
    with pytest.raises(ValueError, match="OSC target"):
        parse_target(bad)


def test_rate_holds_when_frames_jitter_around_their_period() -> None:
    """30 fps presented with ±3 ms jitter at rate 30 sends ~30/s (a naive 'since last' check: ~18)."""
    from engine.osc import _Target

    target = _Target(OscTargetSettings("127.0.0.1:9", ("viewer",), rate=30), lambda h, p: (h, p))
    rng = np.random.default_rng(1)
    frames = [i / 30 + rng.uniform(-0.003, 0.003) for i in range(300)]  # ten seconds
    assert 285 <= sum(target.take_slot(t) for t in frames) <= 300
    fast = _Target(OscTargetSettings("127.0.0.1:9", ("viewer",), rate=30), lambda h, p: (h, p))
    frames = [i / 60 + rng.uniform(-0.003, 0.003) for i in range(600)]  # 60 fps for ten seconds
    assert 295 <= sum(fast.take_slot(t) for t in frames) <= 302  # never above the rate
