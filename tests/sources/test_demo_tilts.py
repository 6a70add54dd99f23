"""`demo:tilts`: the portrait holds still and tilts its head to the other side at known frames, for
the response bench; real perception reads the tilt."""

from __future__ import annotations

import numpy as np
import pytest

from engine.clock import FixedStepClock
from engine.perception import Perceiver
from engine.sources import DemoSource, SourceError, open_source
from engine.sources.demo import TILT_DEG, TILTS_HOLD_S, demo_from_spec

FPS = 30.0


def test_specs() -> None:
    clock = FixedStepClock(FPS)
    assert demo_from_spec("demo:tilts").tilt_frames == round(TILTS_HOLD_S * FPS)
    source = open_source("Demo:tilts=1.5", clock)
    assert isinstance(source, DemoSource) and source.tilt_frames == 45 and source.visits is None
    assert DemoSource(fps=FPS).tilt_frames is None
    for bad in ("demo:tilts=0", "demo:tilts=x", "demo:tilts=-1", "demo:tilts=5000"):
        with pytest.raises(SourceError, match="demo:tilts=SECONDS") as e:
            open_source(bad, clock)
        assert f"'{bad}'" in str(e.value)
    with pytest.raises(ValueError, match="demo:tilts"):
        DemoSource(fps=FPS).tilt_deg(0)


def test_the_head_tilts_at_multiples_of_the_hold_and_nothing_else_moves() -> None:
    demo = DemoSource(fps=FPS, tilts=1.0)  # 30 frames a pose
    assert [demo.tilt_deg(i) for i in (0, 29, 30, 59, 60)] == [
        -TILT_DEG,
        -TILT_DEG,
        TILT_DEG,
        TILT_DEG,
        -TILT_DEG,
    ]
    assert np.array_equal(demo.render(0), demo.render(29))  # still within a pose
    assert np.array_equal(demo.render(0), demo.render(60))  # and back to the same picture
    step = np.abs(demo.render(29).astype(int) - demo.render(30).astype(int)).mean()
    assert step > 5  # a visible step in one frame


def test_real_perception_reads_the_tilt_both_ways() -> None:
    demo = DemoSource(fps=FPS, tilts=1.0)
    perceiver = Perceiver()
    try:
        roll = {
            i: perceiver.process(f).features["head_roll"] for f in demo.frames(limit=60) for i in [f.index]
        }
    finally:
        perceiver.close()
    left, right = roll[29], roll[59]  # the One Euro filter has settled by the end of each pose
    assert left < -0.1 and right > 0.2 and right - left > 0.4
