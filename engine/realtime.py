"""The realtime runner: each stage in its own thread, latest-wins hand-offs, the picture never waits.

The source captures in its own thread; perception and the generator each run in a thread of their
own and hand only their newest result on; the render loop sleeps until a viewer or an image
arrives or a period passes, then steps the latent integrator and presents as engine.cadence says.
It never waits for the generator, so a slow stage makes frames repeat, not lag. Each fresh image
carries the times it passed every hand-off, so --stats can say where its latency went
(engine.metrics.LATENCY_PATH).

The render loop is also where the unattended piece looks after itself: it feeds the picture
watchdog and performs its repairs, follows the opening hours (fading to black, then pausing
perception and the generator and closing the camera), and pings systemd for every frame really
shown.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from engine.cadence import Cadence
from engine.mailbox import Mailbox
from engine.messages import Frame, Viewer
from engine.metrics import latency_legs
from engine.perception.crowd import build_perceiver
from engine.perception.process import PerceptionProcess
from engine.perception.tracker import Perceiver
from engine.pipeline import Step, absent_viewer
from engine.procstat import sample as proc_sample
from engine.schedule import Dimmer
from engine.sources import open_source
from engine.sources.base import Source
from engine.watchdog import PictureSample

if TYPE_CHECKING:
    from engine.app import App

log = logging.getLogger(__name__)

SLEEP_FPS = 2.0  # frames per second while asleep: enough for systemd's pings, nearly no CPU


class WatchdogExit(RuntimeError):
    """The watchdog's last step: exit non-zero so the supervisor starts a fresh process."""


@dataclass
class GeneratedFrame:
    image: np.ndarray | None  # None: the generator produced NaN/inf (never shown)
    capture_time: float | None
    step: Step
    generated: tuple[float, float] = (0.0, 0.0)  # when the generator started and finished on it


class RealtimeRunner:
    def __init__(self, app: App) -> None:
        self.app = app
        self.cfg = app.cfg
        self.clock = app.wall
        self.source: Source = self._open_source()
        self.source_was_live = False
        self.news = threading.Event()  # a viewer or an image arrived: the render thread looks at once
        self.viewers: Mailbox[Viewer] = Mailbox(self.news)
        self.latents: Mailbox[Step] = Mailbox()
        self.images: Mailbox[GeneratedFrame] = Mailbox(self.news)
        self.awake = threading.Event()  # cleared while asleep: perception and generator wait
        self.awake.set()
        self.perceiver: Perceiver | PerceptionProcess | None = None  # from run(): the status page reads it
        self._rebuilding: threading.Thread | None = None  # the watchdog's generator rebuild, when one runs
        self.dimmer = Dimmer(app.schedule.fade_s)

    def _open_source(self) -> Source:
        cfg = self.cfg
        return open_source(
            cfg.run.source,
            self.clock,
            width=cfg.camera.width,
            height=cfg.camera.height,
            fps=cfg.camera.fps,
            stale_after_s=cfg.camera.stale_after_s,
        )

    def run(self) -> None:
        app, cfg = self.app, self.cfg
        output = app.open_output(cfg.run.fps)
        # Models load and warm up before the clock starts, so the first seconds are not all "nobody there".
        # the viewer, and the crowd where a scene reads it; in a child process unless told otherwise
        perceiver = PerceptionProcess(cfg) if cfg.run.perception_process else build_perceiver(cfg)
        perceiver.process(
            Frame(np.zeros((cfg.camera.height, cfg.camera.width, 3), np.uint8), 0.0, -1, "warmup")
        )
        perceiver.reset()
        self.perceiver = perceiver
        self.source.start()
        workers = [
            threading.Thread(target=self._perception_loop, args=(perceiver,), name="perception", daemon=True),
            threading.Thread(target=self._generator_loop, name="generator", daemon=True),
        ]
        for w in workers:
            w.start()
        try:
            self._render_loop(output)
        finally:
            app.stop.set()
            self.awake.set()
            self.latents.wake()
            for w in workers:
                w.join(timeout=5)
            self.source.close()
            app.finish_output(output)

    # ------------------------------------------------------------------ render thread
    def _render_loop(self, output) -> None:
        """Sleeps until a viewer or an image arrives or a period passes, then steps and presents as
        engine.cadence says: each hand-off costs a wake-up, not a wait for the next tick."""
        app, clock = self.app, self.clock
        cadence = Cadence(self.cfg.run.fps)
        t_prev = clock.now()
        next_check = t_prev + self.cfg.watchdog.check_every_s
        shown_seq = viewer_seq = -1
        last_good: GeneratedFrame | None = None
        step: Step | None = None
        while not app.stop.is_set():
            self.news.clear()  # before looking: a put from now on wakes the wait below
            t = clock.now()
            app.between_frames()
            wall = dt.datetime.now().astimezone()
            if app.pipeline.sleep_request is not None:
                app.schedule.force(app.pipeline.sleep_request, wall)
                log.info("%s requested over OSC", "sleep" if app.pipeline.sleep_request else "wake")
                app.pipeline.sleep_request = None
            sleeping = app.schedule.sleeping(wall)
            cadence.fps = SLEEP_FPS if not self.awake.is_set() else self.cfg.run.fps
            vseq, viewer = self.viewers.get()
            if step is None or cadence.wants_step(t, vseq != viewer_seq and self.awake.is_set()):
                dt_s, t_prev, viewer_seq = min(t - t_prev, 0.25), t, vseq
                level = self.dimmer.step(sleeping, dt_s)
                self._follow_schedule(sleeping)
                step = app.pipeline.advance(viewer or absent_viewer(t), t, dt_s, dim=1.0 - level)
                if self.awake.is_set():
                    self.latents.put(step)  # the generator starts on it now if it is free
                cadence.stepped(t)
            seq, gen = self.images.get()
            fresh = gen is not None and seq != shown_seq
            if cadence.wants_present(clock.now(), fresh):
                if fresh and app.watchdog_enabled:
                    sample = PictureSample.of(gen.image) if gen.image is not None else None
                    app.watchdog.picture(
                        sample or PictureSample(False, 0.0, np.zeros((1, 1), np.float32)),
                        app.pipeline.latent_speed,
                        t,
                    )
                if gen is not None and gen.image is not None:
                    last_good = gen
                if last_good is not None:
                    # asleep and dark: the last picture under full black; still presented, for the pings
                    shown = last_good if gen is None or gen.image is None else gen
                    r0 = clock.now()
                    try:
                        app.present(
                            output,
                            shown.image,
                            step if not self.awake.is_set() else shown.step,
                            shown.capture_time,
                            seq == shown_seq,
                            self._note(),
                        )
                    except Exception as e:  # noqa: BLE001 - keep the projector alive; Output rebuilds GL
                        app.errors["render"](e)
                    if fresh and shown is gen and gen.capture_time is not None:
                        v = gen.step.viewer
                        app.metrics.latency_path(
                            latency_legs(
                                gen.capture_time, v.perceived, gen.step.t, gen.generated, (r0, clock.now())
                            )
                        )
                    cadence.presented(r0)
                    shown_seq = seq
                else:
                    cadence.presented(clock.now())  # nothing to show yet: look again in a period
                if app.handle_keys(output):
                    break
            if app.watchdog_enabled and t >= next_check:
                next_check = t + self.cfg.watchdog.check_every_s
                self._watch(t, sleeping)
            fresh = self.images.get()[0] != shown_seq
            clock.wait_until(cadence.next_due(fresh), self.news)

    def _note(self) -> str:
        status = getattr(self.app.pipeline.generator, "status", None)  # a remote generator's link
        notes = ("" if self.source.live else self.source.status(), status() if status else "")
        return "  ".join(n for n in notes if n)

    def _follow_schedule(self, sleeping: bool) -> None:
        if sleeping and self.dimmer.dark and self.awake.is_set():
            log.info("closed (opening hours): the picture is black, perception and generator pause")
            self.awake.clear()
            self.source.close()
        elif not sleeping and not self.awake.is_set():
            log.info("opening: waking up")
            self.source = self._open_source()
            self.source.start()
            self.awake.set()

    def _watch(self, now: float, sleeping: bool) -> None:
        app = self.app
        live = self.source.live
        self.source_was_live = self.source_was_live or live
        ages = {s: app.metrics.stage_age(s, now) for s in ("perception", "generator", "render")}
        steps = app.watchdog.check(
            now,
            ages,
            camera_stale=self.source_was_live and not live and self.awake.is_set(),
            rss_mb=proc_sample().rss_mb,
            # a remote generator whose server is away holds the picture by design: no stall, no exit
            expect_generator=self.awake.is_set()
            and not sleeping
            and getattr(app.pipeline.generator, "healthy", True),
            expect_perception=self.awake.is_set() and live,
        )
        for step in steps:
            if step == "reset_latent":
                app.pipeline.reset_latent()
            elif step == "rebuild_generator":
                self._rebuild_generator()
            elif step == "reopen_camera":
                old, self.source = self.source, self._open_source()
                old.close()
                self.source.start()
                self.source_was_live = False
            elif step == "exit":
                raise WatchdogExit(f"watchdog: {', '.join(sorted(app.watchdog.current))} persists")

    def _rebuild_generator(self) -> None:
        """Off the render thread: a new session can take seconds (a TensorRT engine to load, a Triton
        server's handshake), and meanwhile the held picture, fades and HUD go on. The generator stage
        reads `pipeline.generator` afresh each frame, so it moves to the new one when it is ready."""
        if self._rebuilding is not None and self._rebuilding.is_alive():
            return

        def rebuild() -> None:
            try:
                self.app.pipeline.rebuild_generator()
                log.warning("watchdog: the generator was rebuilt")
            except Exception as e:  # noqa: BLE001 - the stall persists, so the watchdog's next rung acts
                log.error("watchdog: rebuilding the generator failed: %s", e)

        self._rebuilding = threading.Thread(target=rebuild, name="generator-rebuild", daemon=True)
        self._rebuilding.start()

    # ------------------------------------------------------------------ worker threads
    def _perception_loop(self, perceiver: Perceiver | PerceptionProcess) -> None:
        app, clock = self.app, self.clock
        last_index: int | None = None
        last_source: Source | None = None
        last_absent = -1e9
        period = 1.0 / self.cfg.run.perception_hz
        next_run = 0.0
        try:
            while not app.stop.is_set():
                if not self.awake.is_set():
                    self.awake.wait(0.5)
                    continue
                wait = next_run - clock.now()
                if wait > 0:  # at its own rate: leave the CPU to the generator and the render loop
                    app.stop.wait(wait)
                    continue
                source = self.source
                if source is not last_source:  # reopened: its frame indices start again
                    last_source, last_index = source, None
                frame = source.latest()
                if frame is None or frame.index == last_index:
                    now = clock.now()
                    if frame is None and now - last_absent > 0.2:  # camera gone: nobody is there
                        self.viewers.put(absent_viewer(now))
                        last_absent = now
                    app.stop.wait(0.004)
                    continue
                if last_index is not None and frame.index > last_index + 1:
                    app.metrics.dropped_frames(frame.index - last_index - 1)
                last_index = frame.index
                t0 = clock.now()
                next_run = t0 + period
                try:
                    viewer = app.timed("perception", lambda f=frame: perceiver.process(f))
                    self.viewers.put(dataclasses.replace(viewer, perceived=(t0, clock.now())))
                except Exception as e:  # noqa: BLE001
                    app.errors["perception"](e)
        finally:
            perceiver.close()

    def _generator_loop(self) -> None:
        app = self.app
        if hasattr(app.pipeline.generator, "submit"):  # remote: several requests in flight, newest wins
            from engine.generator.remote import run_remote_loop

            return run_remote_loop(self)
        seq = 0
        while not app.stop.is_set():
            seq, step = self.latents.wait_newer(seq, timeout=0.5)
            if step is None or app.stop.is_set() or not self.awake.is_set():
                continue
            try:
                gen = app.pipeline.generator  # read each time: the watchdog may rebuild it
                t0 = self.clock.now()
                raw = app.timed("generator", lambda s=step, g=gen: g.generate(s.latent[None]))
                finite = bool(np.isfinite(raw).all())
                if not finite:
                    app.errors["generator"](FloatingPointError("the generator produced NaN/inf"))
                image = gen.to_rgb8(raw)[0] if finite else None
                capture = step.viewer.capture_time if step.viewer.frame_index >= 0 else None
                self.images.put(GeneratedFrame(image, capture, step, (t0, self.clock.now())))
            except Exception as e:  # noqa: BLE001
                app.errors["generator"](e)
