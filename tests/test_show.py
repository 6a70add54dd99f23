"""The show's playlist clock, the idle fallback, the director that plays them through crossfades,
the playlist's config checks, and /show/* over OSC."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from engine import scene as scene_mod
from engine.config import ConfigError, load_config
from engine.control.commands import CommandQueue
from engine.control.osc.dispatch import OscDispatcher
from engine.control.osc.safety import LogThrottle
from engine.control.osc.wire import OscMessage
from engine.director import Director
from engine.idle import IdleFallback
from engine.messages import Target, Viewer
from engine.params import ParamRegistry
from engine.perception.features import neutral_features
from engine.presets import Preset, Presets
from engine.scene import Scene, SceneInputs, scene_class, scene_names
from engine.scene_settings import ScenesSettings, ShowEntry, ShowSettings
from engine.show import Show, check_show

ROOT = Path(__file__).resolve().parents[1]
FPS = 10


def params() -> dict[str, float]:
    reg = ParamRegistry()
    for name in scene_names():
        for spec in scene_class(name).params:
            reg.declare(spec)
    return reg.snapshot()


class Rig:
    """A director over the real mirror and drift scenes, driven frame by frame on a fixed clock."""

    def __init__(self, tmp_path: Path, entries=(), idle: str = "", transition: float = 1.0, **kw) -> None:
        self.presets = Presets(tmp_path / "presets")
        self.events: list[tuple] = []
        self.applied: list[str] = []
        self.params = params()
        self.t = 0.0
        show = ShowSettings(tuple(ShowEntry(*e) for e in entries), kw.pop("paused", False))
        self.d = Director(
            ScenesSettings(transition, idle, kw.pop("idle_after_s", 5.0)),
            show,
            kw.pop("first", "mirror"),
            presets=self.presets,
            apply_values=lambda p: self.applied.append(p.name),
            event=lambda *a: self.events.append((round(self.t, 2), *a)),
            warn=LogThrottle(logging.getLogger("engine.director")),
        )

    def run(self, until: float, present: bool = False) -> None:
        while self.t < until - 1e-9:
            f = dict(neutral_features(), presence=1.0 if present else 0.0)
            v = Viewer(features=f, capture_time=self.t, frame_index=0)
            self.d.tick(present, self.t)
            self.d.update(SceneInputs(v, self.t, 1 / FPS, self.params, 16))
            self.t = round(self.t + 1 / FPS, 6)

    @property
    def scene(self) -> str:
        return self.d.scene.name


@pytest.fixture()
def broken_scene():
    """A registered scene that raises in every update (taken out of the registry afterwards)."""

    class Broken(Scene):
        name = "broken_for_test"

        def update(self, inputs: SceneInputs) -> Target:
            raise RuntimeError("a bug in the scene")

    scene_mod.load_builtin_scenes()
    scene_mod._REGISTRY[Broken.name] = Broken
    yield Broken.name
    scene_mod._REGISTRY.pop(Broken.name, None)


# ------------------------------------------------------------------ the playlist clock
def test_show_clock_loops_carries_and_pauses() -> None:
    show = Show([ShowEntry("a", 2.0), ShowEntry("b", 3.0)])
    assert show.tick(0.0) is None and show.tick(1.9) is None
    assert show.tick(2.05).scene == "b" and show.elapsed == pytest.approx(0.05)  # the overshoot carries
    assert show.upcoming.scene == "a" and show.remaining == pytest.approx(2.95)
    assert show.tick(5.0).scene == "a"  # loops
    assert show.pause() is True and show.tick(100.0) is None and show.current.scene == "a"
    assert show.pause(False) is False and show.tick(101.0) is None and show.remaining == pytest.approx(1.0)
    assert show.skip(-1).scene == "b" and show.elapsed == 0.0 and show.skip(1).scene == "a"
    assert show.status() == {
        "entry": 1, "of": 2, "scene": "a", "preset": "", "remaining_s": 2.0, "next": "b", "paused": False,
    }  # fmt: skip
    assert show.hud() == "show 1/2 a 0:02 left  next: b"


def test_idle_falls_back_after_the_delay_and_ends_on_arrival() -> None:
    idle = IdleFallback(5.0)
    assert [idle.update(False, t) for t in (0.0, 4.9)] == [None, None]
    assert idle.update(False, 5.0) is True and idle.update(False, 9.0) is None
    assert idle.update(True, 9.1) is False and not idle.active
    idle.update(False, 10.0)
    idle.reset(14.0)  # an operator's choice: the empty room counts again from then
    assert idle.update(False, 18.9) is None and idle.update(False, 19.0) is True


def test_a_crowd_nobody_pose_sees_still_counts_as_someone_there() -> None:
    from engine.idle import someone_there
    from engine.perception.crowd_types import EMPTY, Person, summarise

    empty = neutral_features()
    walker = Person(id=3, x=0.4, y=0.6, w=0.05, h=0.2, size=0.004, speed=0.1)
    assert not someone_there(Viewer(empty, 0.0, 0))
    assert not someone_there(Viewer(empty, 0.0, 0, crowd=EMPTY))
    assert someone_there(Viewer(empty, 0.0, 0, crowd=summarise((walker,))))
    assert someone_there(Viewer({**empty, "presence": 1.0}, 0.0, 0))


# ------------------------------------------------------------------ the director
def test_director_plays_the_show_with_presets_and_crossfades(tmp_path: Path) -> None:
    rig = Rig(tmp_path, [("mirror", 2.0, "calm"), ("drift", 3.0)])
    rig.presets.save(Preset("calm", "mirror", {"mirror.gain": 0.5}))
    rig.run(1.0)
    assert rig.scene == "mirror" and rig.applied == ["calm"]  # the first entry's preset, at the start
    rig.run(2.5)
    assert rig.scene == "drift" and rig.d.status()["transition"] == pytest.approx(0.35, abs=0.01)
    assert "crossfade to drift" in rig.d.hud_line() and "next: mirror" in rig.d.hud_line()
    rig.run(5.5)
    assert rig.scene == "mirror" and rig.applied == ["calm", "calm"]  # looped, preset again
    changes = [e for e in rig.events if e[1] == "/scene/changed"]
    assert changes == [
        (2.0, "/scene/changed", "drift"),
        (3.0, "/scene/changed", "drift", "end"),
        (5.0, "/scene/changed", "mirror"),
    ]


def test_a_broken_entry_at_run_time_is_said_once_and_the_show_goes_on(tmp_path: Path, caplog) -> None:
    rig = Rig(tmp_path, [("mirror", 1.0), ("drift", 1.0, "gone"), ("drift", 1.0)])
    path = rig.presets.save(Preset("gone", "drift", {}))
    check_show(ShowSettings(tuple(rig.d.show.entries)), ScenesSettings(), scene_names(), rig.presets)
    path.unlink()  # deleted while the show runs
    with caplog.at_level(logging.WARNING, logger="engine.director"):
        rig.run(1.5)
        assert rig.scene == "mirror"  # the broken entry is skipped: the picture stays
        rig.run(2.5)
        assert rig.scene == "drift"  # the next entry plays
        rig.run(4.5)  # round again: the broken entry once more
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "show entry 2" in lines[0] and "gone" in lines[0]


def test_a_scene_that_raises_leaves_the_last_good_one_on(tmp_path: Path, caplog, broken_scene) -> None:
    rig = Rig(tmp_path, [("mirror", 1.0), (broken_scene, 1.0), ("drift", 1.0)])
    with caplog.at_level(logging.ERROR, logger="engine.transition"):
        rig.run(1.5)
        assert rig.scene == "mirror"
        rig.run(2.5)
    assert rig.scene == "drift" and rig.d.show.index == 2  # the show went on
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and broken_scene in lines[0] and "test_show.py:" in lines[0]


def test_idle_scene_while_nobody_is_there_then_back(tmp_path: Path) -> None:
    rig = Rig(tmp_path, idle="drift", idle_after_s=3.0)
    rig.run(2.9)
    assert rig.scene == "mirror"
    rig.run(3.5)
    assert rig.scene == "drift" and rig.d.status()["idle"] and "idle: drift" in rig.d.hud_line()
    rig.run(4.0, present=True)
    assert rig.scene == "mirror" and not rig.d.status()["idle"]
    rig.run(6.9)  # absent again, counted from the arrival's end
    assert rig.scene == "mirror"
    rig.run(7.5)
    assert rig.scene == "drift"
    rig.d.select("pulse", rig.t)  # an operator's choice ends idle
    rig.run(9.0)
    assert rig.scene == "pulse" and not rig.d.status()["idle"]


def test_idle_holds_through_show_entries_and_returns_to_the_current_one(tmp_path: Path) -> None:
    rig = Rig(tmp_path, [("mirror", 4.0), ("pulse", 4.0)], idle="drift", idle_after_s=2.0)
    rig.run(5.0)
    assert rig.scene == "drift" and rig.d.show.current.scene == "pulse"  # pulse came due while idle
    rig.run(5.5, present=True)
    assert rig.scene == "pulse"


def test_keys_and_show_commands(tmp_path: Path, caplog) -> None:
    rig = Rig(tmp_path)
    names = scene_names()
    rig.d.step(1, 0.0)
    assert rig.scene == names[(names.index("mirror") + 1) % len(names)]
    rig.d.step(-1, 0.1)
    assert rig.scene == "mirror"
    with caplog.at_level(logging.WARNING, logger="engine.director"):
        rig.d.command("next", None, 0.2)
    assert "no [[show.entries]]" in caplog.text and rig.scene == "mirror"
    show = Rig(tmp_path, [("mirror", 2.0), ("drift", 2.0), ("pulse", 2.0)])
    show.run(0.5)
    show.d.command("pause", None, show.t)
    show.run(5.0)
    assert show.scene == "mirror" and show.d.show.paused and "(paused)" in show.d.hud_line()
    show.d.command("pause", False, show.t)
    show.d.command("prev", None, show.t)
    assert show.scene == "pulse"
    show.d.step(1, show.t)  # key N with a show: its next entry
    assert show.scene == "mirror" and show.d.show.index == 0


# ------------------------------------------------------------------ config and OSC
def test_config_errors_name_the_key(tmp_path: Path) -> None:
    presets = Presets(tmp_path)
    presets.save(Preset("club", "pulse", {}))
    known = scene_names()

    def check(entries=(), idle: str = "") -> str:
        show = ShowSettings(tuple(ShowEntry(*x) for x in entries))
        with pytest.raises(ConfigError) as e:
            check_show(show, ScenesSettings(idle=idle), known, presets)
        return str(e.value)

    assert check([("mirror",), ("nope",)]).startswith("show.entries[1].scene = 'nope': unknown scene")
    assert check([("mirror", 60, "club")]) == (
        "show.entries[0].preset = 'club' is a preset of scene 'pulse', not 'mirror'"
    )
    assert check([("mirror", 60, "gone")]).startswith("show.entries[0].preset = 'gone': preset gone: no such")
    assert check(idle="nope").startswith("scenes.idle = 'nope': unknown scene")
    check_show(ShowSettings((ShowEntry("pulse", 60, "club"),)), ScenesSettings(), known, presets)  # fine
    with pytest.raises(ConfigError, match=r"show.entries\[0\].duration_s = 0 is out of range"):
        load_config(None, {"show": {"entries": [{"scene": "mirror", "duration_s": 0}]}})


def test_cli_unknown_scene_in_the_show_is_one_line_exit_2(tmp_path: Path) -> None:
    cfg = tmp_path / "show.toml"
    cfg.write_text('[[show.entries]]\nscene = "mirror"\n[[show.entries]]\nscene = "mirorr"\n')
    r = subprocess.run(
        [sys.executable, str(ROOT / "run_installation.py"), "--config", str(cfg), "--source", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1].startswith("config error: show.entries[1].scene = 'mirorr'")


def test_osc_show_addresses_become_commands() -> None:
    commands = CommandQueue()
    stats: defaultdict[str, int] = defaultdict(int)
    osc = OscDispatcher(
        ParamRegistry(), commands, send=lambda *a: None, stats=stats, warn=LogThrottle(logging.getLogger())
    )
    for address, args in (
        ("/show/next", ()),
        ("/show/prev", ()),
        ("/show/pause", ()),
        ("/show/pause", (1,)),
        ("/show/pause", (0.0,)),
        ("/show/pause", ("x",)),
    ):
        osc.dispatch(OscMessage(address, args), ("127.0.0.1", 1), 0.0)
    got = [c.args for c in commands.drain(1.0) if c.kind == "show"]
    assert got == [("next",), ("prev",), ("pause",), ("pause", True), ("pause", False)]
    assert stats["bad_args"] == 1
