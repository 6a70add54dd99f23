"""--watch: an edited scene file, shader or config file applies while the engine runs.

Whoever works on the piece saves a file and sees the change on the wall within a second, without a
restart that would lose the latent's place and the camera's warm-up. A small thread polls mtimes
(four times a second: no new dependency, and the scan of a few dozen files costs nothing) and only
posts a `reload` command into the pipeline's queue; the reload itself runs on the render thread
between stages, like every other change of state, because shaders need its GL context and the scene
is only ever touched there. A file is posted once its stat held still for one poll, so an editor
caught mid-write is not reported as broken.

A file that fails keeps the last good version running: a scene module's namespace and the registry
are put back (engine.scene.reload_scene_module), a shader that does not compile leaves the running
chain alone, a config that does not load is refused by the SIGHUP path (engine.reload), which this
reuses. The error is logged once as one line with the file and line the author must open, and stays
on the picture's note until the file is fixed.
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

import moderngl

import scenes
from engine.config import ROOT
from engine.pipeline import absent_viewer
from engine.render import glutil
from engine.render.chain import Renderer
from engine.scene import Scene, SceneInputs, reload_scene_module

if TYPE_CHECKING:
    from engine.app import App

log = logging.getLogger(__name__)

POLL_S = 0.25
SHADER_SUFFIXES = (".frag", ".vert", ".glsl")
NOTE_CHARS = 140  # the note is one line at the bottom of the picture
# "0:12(3): error: …" (Mesa), "0(12) : error C0000: …" (NVIDIA), "ERROR: 0:12: …" (AMD, Intel)
_GLSL_LINE = (
    re.compile(r"^\s*\d+:(\d+)\(\d+\):\s*error:\s*(.*)$", re.M),
    re.compile(r"^\s*\d+\((\d+)\)\s*:\s*error\s*\w*:\s*(.*)$", re.M),
    re.compile(r"^\s*ERROR:\s*\d+:(\d+):\s*(.*)$", re.M),
)

_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")

Stat = tuple[int, int, int]


def shown_path(path: str | Path) -> str:
    """Relative to the checkout when inside it: the form an editor's "go to file" takes."""
    p = Path(path).resolve()
    return str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p)


def python_error(exc: BaseException, path: Path) -> str:
    """`file:line: Type: message` for a scene file that failed to import or to run once."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{shown_path(exc.filename)}:{exc.lineno}: {type(exc).__name__}: {exc.msg}"
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if Path(f.filename).resolve() == path.resolve()]
    frame = (own or frames or [None])[-1]
    where = f"{shown_path(frame.filename)}:{frame.lineno}" if frame else shown_path(path)
    return f"{where}: {type(exc).__name__}: {exc}"


def _pieces(name: str, shader_dir: Path) -> list[tuple[str, Path, int]]:
    """The expanded text of `glutil.shader_source` as (text, file, line of its first character)."""
    path = shader_dir / name
    text = path.read_text()
    out, pos = [], 0
    for m in glutil._INCLUDE.finditer(text):  # the very expression shader_source substitutes
        out.append((text[pos : m.start()], path, 1 + text.count("\n", 0, pos)))
        out += _pieces(m.group(1), shader_dir)
        pos = m.end()
    out.append((text[pos:], path, 1 + text.count("\n", 0, pos)))
    return out


def shader_origins(name: str, shader_dir: Path | None = None) -> list[tuple[Path, int]]:
    """(file, line) of each line of `shader_source(name)`: the compiler counts lines in the text with
    its includes expanded, the author wants the file they edited."""
    origins: list[tuple[Path, int]] = []
    line_start = True
    for text, path, first in _pieces(name, shader_dir or glutil.SHADER_DIR):
        segments = text.split("\n")
        for k, segment in enumerate(segments):
            line_start = line_start or k > 0
            if line_start and (segment or k < len(segments) - 1):  # a line begins here
                origins.append((path, first + k))
                line_start = False
    return origins


def glsl_error(message: str, vertex: str, fragment: str, defines: tuple[str, ...] = ()) -> str:
    """`file:line: GLSL error: …` from the compile error of `load_program(vertex, fragment, defines)`."""
    name = vertex if "vertex_shader" in message else fragment
    found = next((m for rx in _GLSL_LINE if (m := rx.search(message))), None)
    if found is None:  # a link error has no line
        detail = next((s.strip() for s in message.splitlines() if s.strip()), message)
        return f"{shown_path(glutil.SHADER_DIR / name)}: {detail} ({vertex} + {fragment})"
    line, text = int(found.group(1)), found.group(2).strip()
    if name == fragment and defines and line > 1:  # load_program puts the #defines after #version
        line = max(2, line - len(defines))
    origins = shader_origins(name)
    path, src_line = origins[line - 1] if 0 < line <= len(origins) else (glutil.SHADER_DIR / name, line)
    return f"{shown_path(path)}:{src_line}: GLSL error: {text}"


class Watcher:
    """Polls the scene folders, the shader folder and the config file; applies edits on the render thread."""

    def __init__(self, app: App, interval: float = POLL_S) -> None:
        self.app = app
        self.interval = interval
        self.scene_dirs = [Path(p) for p in scenes.__path__]
        self.shader_dir = glutil.SHADER_DIR
        watched = app.reloader.load is not None and app.config_path
        self.config = Path(app.config_path) if watched else None
        self.errors: dict[str, str] = {}  # what is broken now, by file (all shaders share one entry)
        self.applied = 0  # reloads that took effect
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="watch", daemon=True)

    def start(self) -> Watcher:
        self._seen = self.scan()  # what runs now: no reload for it
        self._thread.start()
        app = self.app
        app.pipeline.on_reload = self.apply
        watched = [*self.scene_dirs, self.shader_dir, *([self.config] if self.config else [])]
        log.info("watch: reloading edits to %s", ", ".join(shown_path(p) for p in watched))
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    @property
    def note(self) -> str:
        """The newest error still standing, for the picture's note ("" when all is well)."""
        if not self.errors:
            return ""
        text = f"reload: {next(reversed(self.errors.values()))}"
        return text if len(text) <= NOTE_CHARS else text[: NOTE_CHARS - 1] + "…"

    # ------------------------------------------------------------ watcher thread
    def scan(self) -> dict[Path, tuple[str, Stat]]:
        found: dict[Path, tuple[str, Stat]] = {}

        def add(kind: str, path: Path) -> None:
            try:
                st = path.stat()
            except OSError:  # removed between the listing and the stat: the running version stays
                return
            found[path] = (kind, (st.st_mtime_ns, st.st_size, st.st_ino))

        for d in self.scene_dirs:
            for p in d.glob("*.py"):
                if p.name != "__init__.py" and not p.name.startswith("."):
                    add("scene", p)
        for p in self.shader_dir.iterdir():
            if p.suffix in SHADER_SUFFIXES:
                add("shader", p)
        if self.config is not None:
            add("config", self.config)
        return found

    def _run(self) -> None:
        pending: dict[Path, Stat] = {}
        while not self._stop.wait(self.interval):
            try:
                now = self.scan()
            except OSError as e:  # a folder gone: say so, keep polling
                log.warning("watch: %s", e)
                continue
            for path, (kind, stat) in now.items():
                if self._seen.get(path, (kind, None))[1] == stat:
                    pending.pop(path, None)
                elif pending.get(path) == stat:  # held still for one poll: the save is complete
                    if self.app.pipeline.commands.put("reload", (kind, str(path)), 0.0, origin="watch"):
                        del pending[path]  # else the queue is full: posted again at the next poll
                        self._seen[path] = (kind, stat)
                else:
                    pending[path] = stat
            for path in set(self._seen) - set(now):  # deleted: a file saved again later is new
                del self._seen[path]

    # ------------------------------------------------------------ render thread
    def apply(self, kind: str, path: str) -> None:
        """Called by the pipeline for a `reload` command, between commands at the start of a frame."""
        p = Path(path)
        if kind == "scene":
            self._report(str(p), self._scene(p))
        elif kind == "shader":
            self._report("shaders", self._shaders(p))
        elif kind == "config":
            self._report(str(p), self._config(p), logged=True)

    def _report(self, key: str, error: str, logged: bool = False) -> None:
        if error:
            if not logged and self.errors.get(key) != error:
                log.error("watch: %s (the last good version keeps running)", error)
            self.errors.pop(key, None)
            self.errors[key] = error  # newest last: the note shows it
        else:
            self.applied += 1
            if self.errors.pop(key, None):
                log.info("watch: %s is good again", shown_path(key) if key != "shaders" else key)

    def _scene(self, path: Path) -> str:
        pipeline = self.app.pipeline
        module = f"scenes.{path.stem}"
        try:
            classes = reload_scene_module(module, check=self._probe)
        except Exception as e:  # noqa: BLE001 - whatever the file does, the show goes on
            return python_error(e, path)
        running = pipeline.scene
        fresh = next((c for c in classes if c.name == running.name), None)
        if fresh is not None:
            pipeline.scene = fresh()  # a fresh instance, as a switch makes one
            log.info("watch: scene %s reloaded from %s", running.name, shown_path(path))
        elif type(running).__module__ == module:
            log.warning(
                "watch: %s no longer defines scene '%s'; it keeps running", shown_path(path), running.name
            )
        else:
            log.info(
                "watch: %s reloaded (%s)", shown_path(path), ", ".join(c.name for c in classes) or "no scene"
            )
        return ""

    def _probe(self, cls: type[Scene]) -> None:
        """One update on a throwaway instance: a name error in `update` is caught here, not on the wall."""
        pipeline = self.app.pipeline
        for spec in cls.params:
            try:
                pipeline.params.declare(spec)
            except ValueError:  # the registry keeps the running range; values stay valid
                log.warning(
                    "watch: parameter %s changed its range or default: restart to apply that", spec.name
                )
        t = pipeline.clock()
        inputs = SceneInputs(
            viewer=absent_viewer(t),
            t=t,
            dt=1.0 / 30.0,
            params=pipeline.params.snapshot(),
            directions=len(pipeline.generator.manifest.directions),
            sync=pipeline.sync.snapshot(t),
        )
        cls().update(inputs)

    def _shaders(self, path: Path) -> str:
        """Compile every program the chain has built from the files as they are now; only when all
        compile is the chain rebuilt (so a failed build never leaves half its GL objects behind)."""
        output = self.app.output
        if output is None:  # not rendering yet: the chain will read the files as they are
            return ""
        ctx = output.surface.ctx
        for vertex, fragment, defines in sorted(glutil.PROGRAMS):
            try:
                glutil.load_program(ctx, vertex, fragment, defines).release()
            except moderngl.Error as e:
                return glsl_error(str(e), vertex, fragment, defines)
            except OSError as e:  # an #include of a file that is not there
                return f"{shown_path(path)}: {e}"
        old = output.renderer
        try:
            output.renderer = Renderer(ctx, output.surface.size, output.run.render_scale, output.projector)
        except Exception as e:  # noqa: BLE001
            return f"{shown_path(path)}: {type(e).__name__}: {e}"
        old.release()
        log.info("watch: shaders reloaded (%s)", shown_path(path))
        return ""

    def _config(self, path: Path) -> str:
        """The SIGHUP path, on this thread now: it validates everything, logs, and keeps its error
        (a TOML error's "(at line N, column M)" becomes the file:line the other errors show)."""
        reloader = self.app.reloader
        reloader.request("watch")
        reloader.apply_pending()
        at = _TOML_LINE.search(reloader.error)
        if at is None:
            return reloader.error
        detail = reloader.error.split("invalid TOML: ", 1)[-1]
        return f"{shown_path(path)}:{at.group(1)}: invalid TOML: {detail}"
