"""Wires the stages and runs them: realtime (concurrent, latest-wins) or offline (in turn).

Realtime: the source captures in its own thread, perception and the generator
each run in a thread of their own and hand only their newest result on; the
render loop runs at display rate, steps the latent integrator every frame and
never waits for the generator, so a slow stage makes frames repeat, not lag.
Offline: every source frame goes through every stage in order on a fixed-step
clock, so the same input always renders the same frames.

A gallery machine never shows a traceback: errors inside a stage are logged
(rate-limited) and the loop carries on.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.clock import FixedStepClock, RealtimeClock
from engine.config import Config
from engine.mailbox import Mailbox
from engine.messages import Frame, Viewer
from engine.metrics import Metrics
from engine.perception.tracker import Perceiver
from engine.pipeline import Pipeline, Step, absent_viewer
from engine.render.chain import Renderer
from engine.render.context import Surface, open_surface
from engine.render.readback import read_rgb
from engine.render.recorder import Recorder
from engine.sources import CameraSource, SourceError, VideoSource, open_source

log = logging.getLogger(__name__)


class ErrorLog:
    """Log a stage's repeated failure once per minute, not once per frame."""

    def __init__(self, stage: str) -> None:
        self.stage, self.last, self.count = stage, -1e9, 0

    def __call__(self, exc: BaseException) -> None:
        self.count += 1
        now = time.monotonic()
        if now - self.last > 60:
            self.last = now
            log.error(
                "%s failed (%d times so far): %r", self.stage, self.count, exc, exc_info=self.count == 1
            )


@dataclass
class GeneratedFrame:
    image: np.ndarray
    capture_time: float | None
    step: Step


class App:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.metrics = Metrics()
        self.wall = RealtimeClock()  # measurement only; stage logic uses the injected clock
        self.pipeline = Pipeline(cfg, self.metrics, clock=self.wall.now)
        self.stop = threading.Event()
        self.presented = 0
        # called with every presented picture and the step behind it (tests, thumbnails); reads pixels back
        self.on_frame: Callable[[np.ndarray, Step], None] | None = None
        self.record_errors = ErrorLog("recording")

    # ------------------------------------------------------------------ offline
    def run_offline(self) -> None:
        cfg = self.cfg
        probe = open_source(
            cfg.run.source,
            FixedStepClock(cfg.run.offline_fps),
            width=cfg.camera.width,
            height=cfg.camera.height,
            fps=cfg.run.offline_fps,
            loop=bool(cfg.run.frames),  # a video plays once unless --frames asks for more
        )
        if isinstance(probe, CameraSource):
            probe.close()
            raise SourceError("--offline needs a video, an image or the demo; a camera only runs realtime")
        if not cfg.run.frames and not isinstance(probe, VideoSource):
            probe.close()
            raise SourceError(
                f"--offline with source '{cfg.run.source}' never ends by itself: add --frames N"
            )
        clock = FixedStepClock(probe.fps)
        dt = 1.0 / probe.fps
        limit = cfg.run.frames or None
        perceiver = Perceiver(cfg.perception)
        surface, renderer, recorder = self._open_output(probe.fps)
        try:
            for frame in probe.frames(limit):
                if self.stop.is_set():
                    break
                t = clock.advance() - dt  # frame i is shown at i·dt
                viewer = self._timed("perception", lambda f=frame: perceiver.process(f))
                step = self.pipeline.advance(viewer, t, dt)
                image = self._timed(
                    "generator", lambda s=step: self.pipeline.generator.generate_rgb(s.latent[None])[0]
                )
                self._present(surface, renderer, recorder, image, step, frame.capture_time, False, "")
                if self._handle_keys(surface):
                    break
        finally:
            probe.close()
            perceiver.close()
            self._finish(surface, renderer, recorder)

    # ----------------------------------------------------------------- realtime
    def run_realtime(self) -> None:
        cfg = self.cfg
        clock = self.wall
        source = open_source(
            cfg.run.source,
            clock,
            width=cfg.camera.width,
            height=cfg.camera.height,
            fps=cfg.camera.fps,
            stale_after_s=cfg.camera.stale_after_s,
        )
        viewers: Mailbox[Viewer] = Mailbox()
        latents: Mailbox[Step] = Mailbox()
        images: Mailbox[GeneratedFrame] = Mailbox()
        surface, renderer, recorder = self._open_output(cfg.run.fps)
        # Models load and warm up before the clock starts, so the first seconds are not all "nobody there".
        perceiver = Perceiver(self.cfg.perception)
        perceiver.process(
            Frame(np.zeros((cfg.camera.height, cfg.camera.width, 3), np.uint8), 0.0, -1, "warmup")
        )
        perceiver.reset()
        source.start()
        workers = [
            threading.Thread(
                target=self._perception_loop,
                args=(source, perceiver, viewers, clock),
                name="perception",
                daemon=True,
            ),
            threading.Thread(
                target=self._generator_loop, args=(latents, images), name="generator", daemon=True
            ),
        ]
        for w in workers:
            w.start()
        period = 1.0 / cfg.run.fps
        errors = ErrorLog("render")
        t_prev = clock.now()
        next_frame = t_prev
        shown_seq = -1
        try:
            while not self.stop.is_set():
                t = clock.now()
                dt, t_prev = min(t - t_prev, 0.25), t
                _, viewer = viewers.get()
                step = self.pipeline.advance(viewer or absent_viewer(t), t, dt)
                latents.put(step)
                seq, gen = images.get()
                if gen is not None:
                    try:
                        note = "" if source.live else source.status()
                        self._present(
                            surface,
                            renderer,
                            recorder,
                            gen.image,
                            gen.step,
                            gen.capture_time,
                            seq == shown_seq,
                            note,
                        )
                        shown_seq = seq
                    except Exception as e:  # noqa: BLE001 - keep the projector alive
                        errors(e)
                if self._handle_keys(surface):
                    break
                next_frame = max(next_frame + period, clock.now() - period)
                clock.sleep_until(next_frame)
        finally:
            self.stop.set()
            latents.wake()
            for w in workers:
                w.join(timeout=5)
            source.close()
            self._finish(surface, renderer, recorder)

    def _perception_loop(
        self, source, perceiver: Perceiver, viewers: Mailbox[Viewer], clock: RealtimeClock
    ) -> None:
        errors = ErrorLog("perception")
        last_index: int | None = None
        last_absent = -1e9
        period = 1.0 / self.cfg.run.perception_hz
        next_run = 0.0
        try:
            while not self.stop.is_set():
                wait = next_run - clock.now()
                if wait > 0:  # at its own rate: leave the CPU to the generator and the render loop
                    self.stop.wait(wait)
                    continue
                frame = source.latest()
                if frame is None or frame.index == last_index:
                    now = clock.now()
                    if frame is None and now - last_absent > 0.2:  # camera gone: nobody is there
                        viewers.put(absent_viewer(now))
                        last_absent = now
                    self.stop.wait(0.004)
                    continue
                if last_index is not None and frame.index > last_index + 1:
                    self.metrics.dropped_frames(frame.index - last_index - 1)
                last_index = frame.index
                next_run = clock.now() + period
                try:
                    viewers.put(self._timed("perception", lambda f=frame: perceiver.process(f)))
                except Exception as e:  # noqa: BLE001
                    errors(e)
        finally:
            perceiver.close()

    def _generator_loop(self, latents: Mailbox[Step], images: Mailbox[GeneratedFrame]) -> None:
        errors = ErrorLog("generator")
        gen = self.pipeline.generator
        seq = 0
        while not self.stop.is_set():
            seq, step = latents.wait_newer(seq, timeout=0.5)
            if step is None or self.stop.is_set():
                continue
            try:
                image = self._timed("generator", lambda s=step: gen.generate_rgb(s.latent[None])[0])
                images.put(
                    GeneratedFrame(
                        image, step.viewer.capture_time if step.viewer.frame_index >= 0 else None, step
                    )
                )
            except Exception as e:  # noqa: BLE001
                errors(e)

    # ------------------------------------------------------------------ shared
    def _open_output(self, fps: float) -> tuple[Surface, Renderer, Recorder | None]:
        run = self.cfg.run
        surface = open_surface(
            run.size_px(), headless=run.headless, fullscreen=run.fullscreen, display=run.display
        )
        renderer = Renderer(surface.ctx, surface.size, run.render_scale)
        recorder = Recorder(run.record, surface.size, fps) if run.record else None
        return surface, renderer, recorder

    def _timed(self, stage: str, fn):
        t0 = self.wall.now()
        out = fn()
        t1 = self.wall.now()
        self.metrics.stage(stage, (t1 - t0) * 1000.0, t1)
        return out

    def _present(
        self, surface, renderer, recorder, image, step: Step, capture_time, repeated: bool, note: str
    ):
        inp = self.pipeline.render_input(image, step, note)
        self._timed("render", lambda: renderer.render(inp, surface.framebuffer))
        if recorder is not None or self.on_frame is not None:
            rgb = read_rgb(surface.framebuffer, surface.size)
            if recorder is not None:
                try:
                    recorder.write(rgb)
                except ValueError as e:  # a fullscreen toggle changed the size: keep showing, skip recording
                    self.record_errors(e)
            if self.on_frame is not None:
                self.on_frame(rgb, step)
        surface.present()
        # realtime capture times are on self.wall (the sources' clock); offline has no real latency
        latency_from = None if self.cfg.run.offline else capture_time
        self.metrics.presented_frame(self.wall.now(), latency_from, repeated)
        self.pipeline.publish(step, self.metrics.fps(), self.wall.now())
        self.presented += 1
        if self.cfg.run.frames and self.presented >= self.cfg.run.frames:
            self.stop.set()

    def _handle_keys(self, surface) -> bool:
        for key in surface.poll_keys():
            if key in ("escape", "quit"):
                log.info("quit requested (%s)", key)
                self.stop.set()
                return True
            if key == "f":
                surface.toggle_fullscreen()
            elif key == "d":
                self.pipeline.hud = not self.pipeline.hud
            elif key == "b":  # through the registry, so controllers' blackout buttons follow
                params = self.pipeline.params
                params.set("engine.blackout", 0.0 if params.get("engine.blackout") >= 0.5 else 1.0, "key")
            elif key == "j":
                self.pipeline.commands.put("jump", (), self.wall.now(), origin="key")
        return self.stop.is_set()

    def _finish(self, surface, renderer, recorder) -> None:
        if recorder is not None:
            recorder.close()
            log.info("recorded %d frames to %s", self.presented, self.cfg.run.record)
        renderer.release()
        surface.close()
        self.pipeline.close()
        if self.cfg.run.stats:
            self.metrics.write(self.cfg.run.stats)
            log.info("stats written to %s", self.cfg.run.stats)

    def run(self) -> int:
        def _stop(signum, _frame):
            log.info("signal %d: shutting down", signum)
            self.stop.set()

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, _stop)
            signal.signal(signal.SIGTERM, _stop)
        self.pipeline.start()
        try:
            if self.cfg.run.offline:
                self.run_offline()
            else:
                self.run_realtime()
        finally:
            self.pipeline.close()
        return 0
