"""`demo:visits`: a visitor walks in, stays, walks out, the room is empty; plain `demo` is unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from engine.clock import FixedStepClock
from engine.perception import Perceiver
from engine.sources import DemoSource, SourceError, open_source
from engine.sources.demo import BACKDROP, VISITS, demo_from_spec
from tests.sources.test_demo import subject

FPS = 30.0


def test_specs() -> None:
    clock = FixedStepClock(FPS)
    assert demo_from_spec("demo").visits is None
    assert demo_from_spec("Demo:visits").visits == VISITS
    assert demo_from_spec("demo:visits=10/5").visits == (10.0, 5.0)
    source = open_source("demo:visits=12/3", clock)
    assert isinstance(source, DemoSource) and source.visits == (12.0, 3.0)
    assert open_source("demo", clock).visits is None  # type: ignore[attr-defined]
    for bad in ("demo:visits=1/5", "demo:visits=10/0", "demo:visits=a/b", "demo:visits=10", "demo:crowd"):
        with pytest.raises(SourceError, match="demo:visits=PRESENT/AWAY") as e:
            open_source(bad, clock)
        assert f"'{bad}'" in str(e.value)


def test_a_visit_walks_in_stays_and_leaves() -> None:
    plain = DemoSource(fps=FPS)
    visits = DemoSource(fps=FPS, visits=(6.0, 4.0))

    def at(t: float) -> int:
        return round(t * FPS)

    # while the visitor stands there, the very same pictures as the plain demo
    for t in (2.0, 3.0, 4.0):
        assert np.array_equal(visits.render(at(t)), plain.render(at(t)))
    # an empty room while away, and again in the next cycle
    for t in (6.5, 8.0, 9.9, 16.5):
        assert (visits.render(at(t)) == np.array(BACKDROP, np.uint8)).all()
    # walking in from the right, out to the left
    assert subject(visits.render(at(0.5)))[0] > subject(plain.render(at(0.5)))[0] + 100
    assert subject(visits.render(at(5.5)))[0] < subject(plain.render(at(5.5)))[0] - 100
    # offline frames are the same pictures
    frames = list(visits.frames(limit=at(7.0)))
    assert np.array_equal(frames[at(3.0)].image, plain.render(at(3.0)))
    assert (frames[-1].image == np.array(BACKDROP, np.uint8)).all()


@pytest.mark.slow
def test_mediapipe_sees_the_visitor_come_and_go() -> None:
    """Real perception over one visit: presence rises after the walk-in and falls after the walk-out."""
    source = DemoSource(fps=FPS, visits=(6.0, 4.0))
    perceiver = Perceiver()
    try:
        presence = [
            perceiver.process(f).features["presence"]
            for f in source.frames(limit=round(10 * FPS))
            if f.index % 2 == 0
        ]
    finally:
        perceiver.close()
    t = np.arange(len(presence)) * 2 / FPS
    assert all(p == 0 for p, s in zip(presence, t, strict=True) if s >= 7.0)  # gone (hysteresis: 15 frames)
    assert all(p == 1 for p, s in zip(presence, t, strict=True) if 2.0 <= s <= 4.0)
    rises = sum(1 for a, b in zip(presence, presence[1:], strict=False) if a == 0 and b == 1)
    falls = sum(1 for a, b in zip(presence, presence[1:], strict=False) if a == 1 and b == 0)
    assert (rises, falls) == (1, 1) or (presence[0] == 1 and (rises, falls) == (0, 1))
