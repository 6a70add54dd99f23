"""Where presented frames go: the surface (window or EGL), the shader chain, the recorder, NDI.

One object owns them and their close order, so the realtime and offline runners share one way to
present a frame and one way to shut down. It also owns the repairs that belong to the output: a
recorder that fails stops recording and the picture goes on; a GL context that fails is rebuilt
(surface and chain) once, and when that fails too the error goes up so the process exits non-zero
and its supervisor starts a fresh one.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable

import numpy as np

from engine.config import RunSettings
from engine.messages import RenderInput
from engine.ndi import NdiSender
from engine.render.chain import Renderer
from engine.render.context import Surface, open_surface
from engine.render.readback import read_gl_rgba, read_rgb
from engine.render.recorder import Recorder
from engine.render.warp import OutputWarp

log = logging.getLogger(__name__)

REBUILD_AFTER = 30  # consecutive failed frames (about a second) before the GL context is rebuilt


class OutputLost(RuntimeError):
    """The GL output failed and could not be rebuilt: only a fresh process can show a picture."""


class Output:
    def __init__(self, run: RunSettings, fps: float, projector: OutputWarp | None = None) -> None:
        self.run = run
        self.projector = projector  # the warp pass's calibration (engine.render.warp); None: no pass
        self.surface: Surface = open_surface(
            run.size_px(), headless=run.headless, fullscreen=run.fullscreen, display=run.display
        )
        self.renderer = Renderer(self.surface.ctx, self.surface.size, run.render_scale, projector)
        self.recorder = (
            Recorder(run.record, self.surface.size, fps, realtime=not run.offline, gl_frames=True)
            if run.record
            else None
        )
        # NDI out (engine.ndi): pixels are read back for it only while a receiver is connected
        self.ndi = NdiSender(run.ndi, fps) if run.ndi else None
        self.failures = 0  # consecutive frames that failed to render
        self.rebuilds = 0

    @property
    def recording(self) -> bool:
        return self.recorder is not None and self.recorder.active

    def present(
        self, inp: RenderInput, t: float, on_frame: Callable[[np.ndarray], None] | None = None
    ) -> None:
        """Render, hand the pixels to the recorder, NDI and `on_frame` if anyone wants them, show."""
        to_ndi = self.ndi is not None and self.ndi.wants_frames
        try:
            self.renderer.render(inp, self.surface.framebuffer)
            raw = rgb = None
            if self.recording:  # GL's bytes as they are: ffmpeg flips and converts, in its own process
                raw = read_gl_rgba(self.surface.framebuffer, self.surface.size)
            if on_frame is not None or to_ndi:
                rgb = read_rgb(self.surface.framebuffer, self.surface.size)
            self.surface.present()
        except Exception:
            self.failures += 1
            if self.failures >= REBUILD_AFTER:
                self.rebuild()
            raise
        self.failures = 0
        if raw is not None and self.recording:
            assert self.recorder is not None
            try:
                self.recorder.write_gl(raw, t)
            except ValueError as e:  # a fullscreen toggle changed the size: keep showing, stop recording
                self.recorder.failed = str(e)
                log.error("recording stopped: %s; the picture goes on", e)
        if rgb is not None:
            if to_ndi:
                assert self.ndi is not None
                self.ndi.offer(rgb, time.time())  # wall clock: receivers compare it with theirs
            if on_frame is not None:
                on_frame(rgb)

    def rebuild(self) -> None:
        """A fresh GL context, surface and chain: what a lost context (driver reset) needs."""
        log.error("the picture failed %d frames in a row: rebuilding the GL output", self.failures)
        self.rebuilds += 1
        self.failures = 0
        if self.rebuilds > 3:
            raise OutputLost("the GL output failed again after 3 rebuilds")
        for release in (self.renderer.release, self.surface.close):
            with contextlib.suppress(Exception):  # the old context may be gone already
                release()
        try:
            self.surface = open_surface(
                self.run.size_px(),
                headless=self.run.headless,
                fullscreen=self.run.fullscreen,
                display=self.run.display,
            )
            self.renderer = Renderer(
                self.surface.ctx, self.surface.size, self.run.render_scale, self.projector
            )
        except Exception as e:
            raise OutputLost(f"the GL output could not be rebuilt: {e}") from e

    def poll_keys(self) -> list[str]:
        return self.surface.poll_keys()

    def toggle_fullscreen(self) -> None:
        self.surface.toggle_fullscreen()

    def close(self) -> list[str]:
        """Finish the recording first (a playable file), then GL; every step runs, errors are returned."""
        errors: list[str] = []
        steps: list[tuple[str, Callable[[], None]]] = []
        if self.recorder is not None:
            steps.append(("recording", self.recorder.close))
        if self.ndi is not None:
            steps.append(("NDI", self.ndi.close))
        steps += [("renderer", self.renderer.release), ("surface", self.surface.close)]
        for name, fn in steps:
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - one failure must not skip the rest
                errors.append(f"{name}: {e}")
                log.error("closing the %s failed: %s", name, e)
        if self.recorder is not None:
            r = self.recorder
            if r.failed:
                log.error("recording %s is incomplete: %s", r.path, r.failed)
            else:
                log.info(
                    "recorded %d frames shown (%d in the file at %g fps, %d dropped by the encoder) to %s",
                    r.presented,
                    r.frames,
                    r.fps,
                    r.dropped,
                    r.path,
                )
        return errors
