"""Scene crossfades: the target blend, the mixer's switches (nested too), scenes that raise, the
renderer's dissolve on a real GL context, and an offline end-to-end crossfade without a jump."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from engine.messages import Target, Viewer
from engine.perception.features import neutral_features
from engine.scene import Scene, SceneInputs
from engine.transition import MAX_DEPTH, SceneMixer, Transition, blend_targets, ease
from tests.render.conftest import renderer, surface  # noqa: F401 - the GL fixtures
from tests.render.util import draw, solid


class Const(Scene):
    """A scene that always wants the same target, and counts its updates."""

    name = "const"

    def __init__(self, name: str, push: float, hue: float = 0.0, mirror: float = 0.0) -> None:
        self.name = name  # type: ignore[misc]
        self.target = Target({0: push}, speed=1.0, drift=push, uniforms={"hue_shift": hue, "mirror": mirror})
        self.updates = 0

    def update(self, inputs: SceneInputs) -> Target:
        self.updates += 1
        return self.target


class Fails(Const):
    """Works for `good` updates, then raises every time."""

    def __init__(self, name: str, good: int) -> None:
        super().__init__(name, 5.0)
        self.good = good

    def update(self, inputs: SceneInputs) -> Target:
        if self.updates >= self.good:
            raise ZeroDivisionError("the scene's bug")
        return super().update(inputs)


def inputs(t: float) -> SceneInputs:
    v = Viewer(features=neutral_features(), capture_time=t, frame_index=0)
    return SceneInputs(viewer=v, t=t, dt=1 / 30, params={}, directions=16)


def test_blend_ends_middle_and_missing_names() -> None:
    a = Target({0: 2.0, 1: 1.0}, speed=1.0, drift=0.0, uniforms={"saturation": 2.0, "mirror": 1.0})
    b = Target({0: -2.0, 3: 4.0}, speed=3.0, drift=2.0, uniforms={"contrast": 2.0, "mirror": 0.0})
    start, end, mid = blend_targets(a, b, 0.0), blend_targets(a, b, 1.0), blend_targets(a, b, 0.5)
    assert start.directions == {0: 2.0, 1: 1.0} and end.directions == {0: -2.0, 3: 4.0}
    assert mid.directions == {1: 0.5, 3: 2.0}  # 0 cancels out; one side's direction fades in or out
    assert (mid.speed, mid.drift) == (2.0, 1.0)
    assert mid.uniforms["saturation"] == 1.5 and mid.uniforms["contrast"] == 1.5  # against the defaults
    assert start.uniforms["mirror"] == 0.0  # on/off: the new side's at once (the dissolve hides the flip)


def test_ease_is_smooth_and_bounded() -> None:
    w = [ease(t, 1.0, 2.0) for t in np.linspace(0.0, 4.0, 401)]
    assert w[0] == 0.0 and w[-1] == 1.0 and all(b >= a for a, b in zip(w, w[1:]))
    assert ease(1.01, 1.0, 2.0) < 1e-3 and ease(2.99, 1.0, 2.0) > 1 - 1e-3  # zero speed at both ends
    assert ease(5.0, 1.0, 0.0) == 1.0  # no duration: a cut


def test_switch_updates_both_then_settles_once() -> None:
    old, new = Const("old", 0.0, hue=0.0), Const("new", 4.0, hue=0.4)
    settled: list[str] = []
    mixer = SceneMixer(old, 2.0, settled.append)
    assert mixer.update(inputs(0.0)).cut == 0
    mixer.switch(new, 1.0)
    pushes, dissolves = [], []
    for i in range(0, 41):
        m = mixer.update(inputs(1.0 + i * 0.05))
        pushes.append(m.target.directions.get(0, 0.0))
        dissolves.append(m.dissolve)
        assert m.cut == 1
    assert mixer.scene is new and settled == ["new"]  # once, at the end
    assert pushes[0] == 0.0 and pushes[20] == pytest.approx(2.0) and pushes[-1] == 4.0
    assert all(b >= a for a, b in zip(pushes, pushes[1:]))
    assert dissolves[0] == 0.0 and dissolves[20] == pytest.approx(0.5) and dissolves[-1] == 1.0
    assert old.updates == 1 + 41 and new.updates == 41  # both ran during the crossfade
    mixer.update(inputs(4.0))
    assert old.updates == 42 and new.updates == 42  # the old one is gone once it is over


def test_switch_during_a_crossfade_starts_where_it_is() -> None:
    a, b, c = Const("a", 0.0), Const("b", 4.0), Const("c", -4.0)
    mixer = SceneMixer(a, 2.0)
    mixer.switch(b, 0.0)
    before = mixer.update(inputs(0.95)).target.directions.get(0, 0.0)
    mixer.switch(c, 1.0)
    after = mixer.update(inputs(1.0)).target.directions.get(0, 0.0)
    assert 1.0 < before < 3.0 and abs(after - before) < 0.2  # no jump back to a, nor on to b or c
    assert mixer.update(inputs(3.0)).target.directions.get(0, 0.0) == -4.0 and mixer.scene is c


def test_many_fast_switches_stay_bounded() -> None:
    mixer = SceneMixer(Const("s0", 0.0), 2.0)
    for i in range(1, 60):  # a VJ hammering N: one switch a frame for two seconds
        mixer.switch(Const(f"s{i}", float(i % 3)), i / 30)
        mixer.update(inputs(i / 30))
        depth, src = 0, mixer.source
        while isinstance(src, Transition):
            depth, src = depth + 1, src.old
        assert depth <= MAX_DEPTH + 1


def test_a_scene_that_raises_keeps_its_last_target_and_logs_once(caplog) -> None:
    scene = Fails("buggy", good=3)
    mixer = SceneMixer(scene, 2.0)
    with caplog.at_level(logging.ERROR, logger="engine.transition"):
        targets = [mixer.update(inputs(i / 30)).target for i in range(30)]
    assert all(t.directions == {0: 5.0} for t in targets)  # the last good one, every frame
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "buggy" in lines[0] and "test_transition.py:" in lines[0]


def test_a_new_scene_that_never_runs_leaves_the_previous_on(caplog) -> None:
    good, broken = Const("good", 1.0), Fails("broken", good=0)
    mixer = SceneMixer(good, 2.0)
    mixer.update(inputs(0.0))
    mixer.switch(broken, 0.1)
    with caplog.at_level(logging.ERROR, logger="engine.transition"):
        m = mixer.update(inputs(0.2))
        later = [mixer.update(inputs(0.2 + i / 30)) for i in range(100)]
    assert m.target.directions == {0: 1.0} and mixer.scene is good
    assert all(x.target.directions == {0: 1.0} for x in later) and later[-1].dissolve == 1.0
    assert len(caplog.records) == 1 and "previous scene stays on" in caplog.records[0].getMessage()


# ------------------------------------------------------------------ the picture (real GL)
def test_dissolve_holds_the_picture_on_screen_and_mixes(renderer, surface) -> None:  # noqa: F811
    red, blue = solid((255, 0, 0)), solid((0, 0, 255))
    draw(renderer, surface, red)  # on screen before the switch
    first = draw(renderer, surface, blue, cut=1, dissolve=0.0)
    mid = draw(renderer, surface, blue, cut=1, dissolve=0.5)
    end = draw(renderer, surface, blue, cut=1, dissolve=1.0)
    c = (surface.size[1] // 2, surface.size[0] // 2)
    assert tuple(first[c]) == (255, 0, 0) and tuple(end[c]) == (0, 0, 255)
    assert abs(int(mid[c][0]) - 128) <= 2 and abs(int(mid[c][2]) - 128) <= 2
    # a switch during a dissolve holds what is on screen (the dissolve so far), not either picture
    halfway = draw(renderer, surface, solid((0, 255, 0)), cut=2, dissolve=0.5)
    again = draw(renderer, surface, red, cut=3, dissolve=0.0)
    assert np.abs(halfway[c].astype(int) - (0, 128, 128)).max() <= 2
    assert tuple(again[c]) == tuple(halfway[c])


# ------------------------------------------------------------------ end to end, offline
@pytest.mark.slow
def test_offline_crossfade_has_a_middle_and_no_jump(tmp_path: Path) -> None:
    from engine.app import App
    from engine.config import load_config

    switch_s = 1.5
    run = dict(source="demo", headless=True, offline=True, frames=150, size="320x180")
    show = {"entries": [{"scene": "mirror", "duration_s": switch_s}, {"scene": "drift", "duration_s": 100}]}
    cfg = load_config(None, {"run": run, "osc": {"listen": "127.0.0.1:0"}, "show": show})
    app = App(cfg)  # [scenes] transition_s at its default
    frames, steps, events = [], [], []
    app.on_frame = lambda rgb, step: (frames.append(rgb.astype(np.int16)), steps.append(step))
    send = app.pipeline.osc.out.event
    app.pipeline.osc.out.event = lambda *a: (events.append((len(frames), a)), send(*a))
    assert app.run() == 0
    change = [0.0] + [float(np.abs(b - a).mean()) for a, b in zip(frames, frames[1:])]
    during = [i for i, s in enumerate(steps) if s.cut == 1 and s.dissolve < 1.0]
    first, last = during[0], during[-1] + 1  # the frame the switch came, the first one at rest again
    assert steps[first].t == pytest.approx(switch_s, abs=0.04)
    assert last - first == round(cfg.scenes.transition_s * 30)
    assert ("/scene/changed", "drift") in [a for _, a in events]
    assert [i for i, a in events if a == ("/scene/changed", "drift", "end")] == [last]
    middle = (first + last) // 2
    for end in (first - 1, last):
        assert np.abs(frames[middle] - frames[end]).mean() > 3.0  # a real in-between picture
    normal = change[10:first] + change[last + 1 :]  # after the demo viewer is seen, outside the fade
    assert max(change[first : last + 1]) <= max(normal)
    assert change[first] < 0.5  # the first frame of the fade is the picture that was on screen
