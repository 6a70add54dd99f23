"""Sync state for scenes: beat phase and pulse, tempo, level, bands, staleness; the command queue."""

from __future__ import annotations

import pytest

from engine.control.commands import CommandQueue
from engine.messages import Viewer
from engine.perception.features import neutral_features
from engine.scene import SceneInputs, scene_class
from engine.sync import SyncTracker


def test_beats_give_tempo_phase_and_pulse() -> None:
    s = SyncTracker()
    for i in range(4):
        s.beat(i * 0.5)  # 120 bpm
    snap = s.snapshot(1.5)
    assert snap["bpm"] == pytest.approx(120) and snap["beat_pulse"] == pytest.approx(1.0)
    assert snap["beat_count"] == 4
    mid = s.snapshot(1.75)
    assert mid["beat_phase"] == pytest.approx(0.5) and mid["beat_pulse"] < 0.1
    assert s.snapshot(2.0)["beat_pulse"] == pytest.approx(1.0)  # free-runs onto the next beat
    assert s.snapshot(10.0)["beat_pulse"] == 0.0  # the beats stopped: no pulse forever


def test_explicit_tempo_level_bands_and_staleness() -> None:
    s = SyncTracker(stale_s=3.0)
    s.set_bpm(0.0, 90)
    assert s.snapshot(0.0)["bpm"] == 90 and s.snapshot(1 / 3)["beat_phase"] == pytest.approx(0.5)
    s.set_level(1.0, 1.7)
    s.set_bands(1.0, [0.2, -1.0, 0.9])
    snap = s.snapshot(2.0)
    assert snap["level"] == 1.0 and snap["bands"] == 3 and snap["band_1"] == 0.0 and snap["active"] == 1
    late = s.snapshot(5.0)
    assert late["level"] == 0.0 and late["bands"] == 0 and late["active"] == 0


def test_mirror_pulses_on_the_beat_and_speeds_with_level() -> None:
    scene = scene_class("mirror")()
    params = {spec.name: spec.default for spec in scene.params}
    viewer = Viewer(features=neutral_features(), capture_time=0.0, frame_index=0)

    def update(sync: dict, **p) -> tuple[float, float]:
        target = scene.update(SceneInputs(viewer, 0.0, 0.02, {**params, **p}, 10, sync))
        return target.uniforms["intensity"], target.speed

    quiet = update({})
    loud = update({"beat_pulse": 1.0, "level": 1.0})
    assert loud[0] > quiet[0] and loud[1] > quiet[1]
    assert update({"beat_pulse": 1.0, "level": 1.0}, **{"mirror.sync": 0.0}) == quiet  # turned off


def test_queue_orders_by_due_time_and_is_bounded() -> None:
    q = CommandQueue(capacity=3)
    assert q.put("jump", at=5.0) and q.put("seed", (1,), at=1.0) and q.put("beat", (None,), at=1.0)
    assert not q.put("refresh", at=0.0) and q.dropped == 1
    assert [c.kind for c in q.drain(now=2.0)] == ["seed", "beat"]  # arrival order among due ones
    assert q.drain(now=4.0) == [] and [c.kind for c in q.drain(now=5.0)] == ["jump"]
    with pytest.raises(ValueError):
        q.put("format_disk")
