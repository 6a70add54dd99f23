"""--watch: scene files, shaders and the config file reload while the engine runs; a broken file keeps the
last good version on the wall and is reported once, with its file and line.

The end-to-end test runs the real realtime loop (demo source, shipped model, EGL) in a thread and edits a
test scene in a temporary folder on the scenes path, a copy of the shader folder and a config file.
"""

from __future__ import annotations

import logging
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import moderngl
import numpy as np
import pytest

import scenes
from engine import scene as scene_registry
from engine.config import load_config
from engine.pipeline import Step
from engine.render import glutil
from engine.render.context import HeadlessSurface
from engine.scene import reload_scene_module, scene_class
from engine.watch import glsl_error, python_error, shader_origins

PROBE = "watchprobe"
SCENE = '''"""watchprobe: a test scene whose brightness is written in its file."""

from engine.messages import Target
from engine.scene import Scene, SceneInputs, register

BRIGHTNESS = {value}


def level() -> float:
    return BRIGHTNESS


@register
class WatchProbe(Scene):
    name = "{name}"
    description = "hot reload test scene"

    def update(self, inputs: SceneInputs) -> Target:
        return Target(directions={{}}, uniforms={{"brightness": {call}}})
{tail}'''


def scene_text(value: float, call: str = "level()", tail: str = "", name: str = PROBE) -> str:
    return SCENE.format(value=value, call=call, tail=tail, name=name)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def write(path: Path, text: str) -> float:
    """Replace the file the way editors do (a new inode), and return when."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return time.monotonic()


@pytest.fixture
def scene_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder on the scenes path for the test scene; the registry and sys.modules are left clean."""
    folder = tmp_path / "more_scenes"
    folder.mkdir()
    scenes.__path__.append(str(folder))
    try:
        yield folder
    finally:
        scenes.__path__.remove(str(folder))
        for name, cls in list(scene_registry._REGISTRY.items()):
            if cls.__module__ == f"scenes.{PROBE}":
                del scene_registry._REGISTRY[name]
        sys.modules.pop(f"scenes.{PROBE}", None)


# ---------------------------------------------------------------- the pieces, without the loop
def test_a_failed_reload_leaves_module_and_registry_as_they_were(scene_dir: Path, monkeypatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)  # as on a machine without PYTHONDONTWRITEBYTECODE
    path = scene_dir / f"{PROBE}.py"
    path.write_text(scene_text(0.1))
    reload_scene_module(f"scenes.{PROBE}")
    good = scene_class(PROBE)
    module = sys.modules[f"scenes.{PROBE}"]

    # the class registers, then the module raises: neither the new class nor the new globals stay
    broken = scene_text(0.9, tail='\nraise RuntimeError("half a file")\n')
    path.write_text(broken)
    with pytest.raises(RuntimeError) as info:
        reload_scene_module(f"scenes.{PROBE}")
    assert scene_class(PROBE) is good and module.BRIGHTNESS == 0.1 and module.level() == 0.1
    assert python_error(info.value, path).endswith(
        f"{PROBE}.py:{line_of(broken, 'raise RuntimeError')}: RuntimeError: half a file"
    )

    # a syntax error: its line, and nothing changes
    broken = scene_text(0.9).replace("def level()", "def level(:")
    path.write_text(broken)
    with pytest.raises(SyntaxError) as info:
        reload_scene_module(f"scenes.{PROBE}")
    assert f"{PROBE}.py:{line_of(broken, 'def level(:')}: SyntaxError:" in python_error(info.value, path)
    assert scene_class(PROBE) is good

    path.write_text(scene_text(0.2))
    (new,) = reload_scene_module(f"scenes.{PROBE}")
    assert new is scene_class(PROBE) and new is not good and module.BRIGHTNESS == 0.2
    # same length, same second: the new source is read, not the bytecode cached a moment ago
    path.write_text(scene_text(0.3))
    reload_scene_module(f"scenes.{PROBE}")
    assert module.BRIGHTNESS == 0.3

    # renamed in the file: the old name is gone, the new one registered
    path.write_text(scene_text(0.2, name="watchprobe2"))
    (renamed,) = reload_scene_module(f"scenes.{PROBE}")
    assert renamed.name == "watchprobe2" and PROBE not in scene_registry._REGISTRY


def test_shader_lines_map_back_through_includes() -> None:
    for path in sorted(glutil.SHADER_DIR.iterdir()):
        expanded = glutil.shader_source(path.name).split("\n")
        if expanded[-1] == "":
            expanded.pop()
        origins = shader_origins(path.name)
        assert len(origins) == len(expanded), path.name
        for text, (file, line) in zip(expanded, origins, strict=True):
            assert not text or file.read_text().split("\n")[line - 1] == text, (path.name, file, line)


def test_a_glsl_error_in_an_include_names_that_file_and_line(tmp_path: Path, monkeypatch) -> None:
    shaders = tmp_path / "shaders"
    shutil.copytree(glutil.SHADER_DIR, shaders)
    monkeypatch.setattr(glutil, "SHADER_DIR", shaders)
    grade = (shaders / "grade.glsl").read_text().split("\n")
    at = next(i for i, s in enumerate(grade) if s.strip().endswith(";") and not s.startswith("uniform"))
    grade[at] = grade[at].replace(";", " +;")
    (shaders / "grade.glsl").write_text("\n".join(grade))
    surface = HeadlessSurface((32, 32))
    try:
        defines = ("GRADE", "HUE")  # compose.frag includes grade.glsl after the #defines are put in
        with pytest.raises(moderngl.Error) as info:
            glutil.load_program(surface.ctx, "fullscreen.vert", "compose.frag", defines)
        said = glsl_error(str(info.value), "fullscreen.vert", "compose.frag", defines)
        assert said.startswith(f"{shaders / 'grade.glsl'}:{at + 1}: GLSL error:"), said
    finally:
        surface.close()


# ---------------------------------------------------------------- the running engine
class Running:
    """The realtime loop in a thread; `on_frame` keeps what the test waits for."""

    def __init__(self, cfg, config_path: Path) -> None:
        from engine.app import App

        self.app = App(cfg, reload=lambda: load_config(config_path, OVERRIDES), config_path=str(config_path))
        self.frames = 0
        self.brightness = float("nan")
        self.centre = np.zeros(3, np.uint8)
        self.notes: set[str] = set()
        self.app.on_frame = self._keep
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="app", daemon=True)
        self.thread.start()
        self.wait(lambda: self.frames >= 5, 60)

    def _keep(self, rgb: np.ndarray, step: Step) -> None:
        self.frames += 1
        self.brightness = float(step.target.uniforms.get("brightness", float("nan")))
        h, w = rgb.shape[:2]
        self.centre = rgb[h // 2, w // 2].copy()
        watcher = self.app.watcher
        if watcher is not None and watcher.note:
            self.notes.add(watcher.note)

    def _run(self) -> None:
        try:
            self.app.run()
        except BaseException as e:  # noqa: BLE001 - reported by the test
            self.error = e

    def wait(self, cond: Callable[[], bool], timeout: float = 3.0) -> None:
        end = time.monotonic() + timeout
        while not cond():
            assert self.thread.is_alive() and self.error is None, f"the engine stopped: {self.error!r}"
            assert time.monotonic() < end, "timed out"
            time.sleep(0.02)

    def still_rendering(self) -> None:
        """Rendering never stops: more frames come while a file is broken."""
        n = self.frames
        self.wait(lambda: self.frames >= n + 3)

    def close(self) -> None:
        self.app.stop.set()
        self.thread.join(timeout=20)
        assert not self.thread.is_alive() and self.error is None, repr(self.error)


OVERRIDES: dict[str, dict] = {
    "run": {"source": "demo", "headless": True, "size": "160x96", "scene": PROBE, "watch": True},
    "osc": {"listen": "off"},
}


@pytest.mark.slow
def test_edits_apply_live_and_broken_files_keep_the_last_good(
    scene_dir: Path, tmp_path: Path, monkeypatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    shaders = tmp_path / "shaders"
    shutil.copytree(glutil.SHADER_DIR, shaders)
    monkeypatch.setattr(glutil, "SHADER_DIR", shaders)
    scene_file = scene_dir / f"{PROBE}.py"
    scene_file.write_text(scene_text(0.1))
    config = tmp_path / "piece.toml"
    config.write_text("[params]\nfx.brightness = 0.0\n")
    running = Running(load_config(config, OVERRIDES), config)
    applied: list[float] = []  # seconds from a save to the change on the picture
    try:
        assert running.brightness == pytest.approx(0.1)
        watcher = running.app.watcher
        assert watcher is not None

        def broken(text: str, path: Path, needle: str, key: str) -> str:
            line = f"{path.name}:{line_of(text, needle)}:"  # what the HUD and the log name
            write(path, text)
            running.wait(lambda: line in watcher.errors.get(key, ""))
            running.still_rendering()
            return line

        def fixed(text: str, path: Path, cond: Callable[[], bool]) -> None:
            t0 = write(path, text)
            running.wait(cond)
            applied.append(time.monotonic() - t0)

        key = str(scene_file)
        said = [
            # a syntax error, an exception at import, an update that raises: the 0.1 scene keeps running
            broken(scene_text(0.5).replace("def level()", "def level(:"), scene_file, "def level(:", key),
            broken(scene_text(0.5, tail="\nraise RuntimeError('boom')\n"), scene_file, "raise Runtime", key),
            broken(scene_text(0.5, call="levle()"), scene_file, "levle()", key),
        ]
        assert running.brightness == pytest.approx(0.1)
        fixed(scene_text(0.3), scene_file, lambda: running.brightness == pytest.approx(0.3))
        assert watcher.errors == {}

        # a GLSL error in the last pass: the running chain stays; fixed, the new colour is on the wall
        blit = shaders / "blit.frag"
        good = blit.read_text()
        said.append(broken(good.replace(", 1.0);", ", 1.0) +;"), blit, "+;", "shaders"))
        assert not np.array_equal(running.centre, [255, 0, 255])
        magenta = good.replace("texture(u_src, v_uv).rgb", "vec3(1.0, 0.0, 1.0)")
        fixed(magenta, blit, lambda: np.array_equal(running.centre, [255, 0, 255]))

        # the config: a TOML error is refused by the SIGHUP path (which logs it); fixed, the parameter applies
        toml_error = broken("[params]\nfx.brightness = = 0.2\n", config, "= =", str(config))
        fixed("[params]\nfx.brightness = 0.2\n", config, lambda: running.brightness == pytest.approx(0.5))
        assert watcher.errors == {} and running.app.errors["render"].count == 0
    finally:
        running.close()

    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    for line in said:  # once each, one line, with the file and line
        (hit,) = [m for m in errors if line in m]
        assert "\n" not in hit and hit.startswith("watch: ")
    (toml,) = [m for m in errors if "config not reloaded" in m]
    assert toml.startswith("watch: ") and "piece.toml" in toml and "line 2" in toml
    for line in (*said, toml_error):  # and on the picture, until fixed
        assert any(line in note for note in running.notes), (line, running.notes)
    assert max(applied) < 1.5, applied  # within a second, plus a loaded test machine's frame or two
    print(f"save → change on the picture: {', '.join(f'{s:.2f}' for s in applied)} s")
