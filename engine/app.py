"""The installation as one object: builds the stages once, runs them realtime or offline, and
answers for the process — signals, exit code, stats, status.

A gallery machine never shows a traceback: errors inside a stage are logged (rate-limited) and
the loop carries on. What it cannot repair ends the process with a non-zero code, so the
supervisor (systemd, see deploy/) starts a fresh one: exit 3 when the picture watchdog has run
out of repairs, exit 4 when the GL output is lost, exit 1 when no frame was ever shown. SIGTERM
and Ctrl-C finish the recording and write the stats (exit 0); SIGHUP reloads the config file.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable

import numpy as np

from engine.clock import RealtimeClock
from engine.config import Config
from engine.control import keys
from engine.control.http import StatusServer, start_status_server
from engine.control.osc.safety import LogThrottle
from engine.control.web.panel import WebPanel
from engine.control.web.thumbnail import Thumbnail
from engine.messages import RenderInput
from engine.metrics import Metrics
from engine.ndi import check_ndi_name, load_ndi
from engine.notify import SystemdNotifier
from engine.output import Output, OutputLost
from engine.paths import check_writable_file
from engine.pipeline import Pipeline, Step
from engine.reload import ConfigReloader
from engine.render.recorder import check_record_path
from engine.schedule import Schedule
from engine.status import build_status
from engine.watch import Watcher
from engine.watchdog import Watchdog

log = logging.getLogger(__name__)

EXIT_OK, EXIT_NOTHING_SHOWN, EXIT_WATCHDOG, EXIT_OUTPUT_LOST = 0, 1, 3, 4


class ErrorLog:
    """A stage's failures: every one counted (the status page shows the count), and said through
    the one LogThrottle, so a failure repeated every frame is logged once a minute, not 30 times a
    second; the first comes with its traceback."""

    def __init__(self, stage: str, throttle: LogThrottle | None = None) -> None:
        self.stage, self.count = stage, 0
        self._throttle = throttle or LogThrottle(log, interval=60.0)

    def __call__(self, exc: BaseException) -> None:
        self.count += 1
        first = exc if self.count == 1 else False
        self._throttle(
            self.stage,
            "%s failed (%d times so far): %r",
            self.stage,
            self.count,
            exc,
            level=logging.ERROR,
            exc_info=first,
        )


class App:
    def __init__(
        self, cfg: Config, reload: Callable[[], Config] | None = None, config_path: str | None = None
    ) -> None:
        # Output paths are checked before anything loads: a typo must not cost a whole run.
        if cfg.run.record:
            check_record_path(cfg.run.record)
        if cfg.run.stats:
            check_writable_file(cfg.run.stats, "run.stats")
        if cfg.run.ndi:  # the name and the NDI runtime, before the models load
            check_ndi_name(cfg.run.ndi)
            load_ndi()
        self.cfg = cfg
        self.schedule = Schedule(cfg.schedule)
        self.metrics = Metrics()
        self.wall = RealtimeClock()  # measurement only; stage logic uses the injected clock
        self.started = time.monotonic()
        self.pipeline = Pipeline(cfg, self.metrics, clock=self.wall.now)
        self.stop = threading.Event()
        self.presented = 0
        self.viewer_present = False
        self.stop_requested = ""  # a signal or a key asked to stop: not a failure
        self.exit_code = EXIT_OK
        # called with every presented picture and the step behind it (tests, thumbnails); reads pixels back
        self.on_frame: Callable[[np.ndarray, Step], None] | None = None
        self.errors = {s: ErrorLog(s) for s in ("perception", "generator", "render", "recording")}
        self.watchdog = Watchdog(cfg.watchdog)
        self.notifier = SystemdNotifier.from_env()
        self.reloader = ConfigReloader(self, reload)
        self.config_path = config_path  # the file `reload` reads: --watch follows its edits too
        self.watcher: Watcher | None = None  # --watch (engine.watch), while running
        self.runner = None  # the realtime runner while it runs (status reads its source)
        self.output: Output | None = None
        self.pipeline.osc.status = self.status  # /engine/status over OSC (read when OSC in starts)
        self.http: StatusServer | None = None  # GET /status, /metrics and the staff's panel while running
        self.thumbnail = Thumbnail()  # the panel's picture of the output, read back only while one is open

    @property
    def watchdog_enabled(self) -> bool:
        return self.cfg.watchdog.enabled

    # ------------------------------------------------------------------ shared by both runners
    def open_output(self, fps: float) -> Output:
        room = self.cfg.room  # projector.json's entry for this output ([run] display), or no warp pass
        projector = None if room.projector is None else room.projector.for_output(self.cfg.run.display)
        self.output = Output(self.cfg.run, fps, projector)
        return self.output

    def timed(self, stage: str, fn):
        t0 = self.wall.now()
        out = fn()
        t1 = self.wall.now()
        self.metrics.stage(stage, (t1 - t0) * 1000.0, t1)
        return out

    def present(
        self,
        output: Output,
        image,
        step: Step,
        capture_time,
        repeated: bool,
        note: str,
        shown_at: float | None = None,
    ) -> None:
        """`shown_at`: the frame's time for the recording (offline: its fixed step; else now)."""
        if self.watcher is not None and self.watcher.note:  # a broken file under --watch: until fixed
            note = self.watcher.note
        inp: RenderInput = self.pipeline.render_input(image, step, note, recording=output.recording)
        t = self.wall.now() if shown_at is None else shown_at
        on_frame = None if self.on_frame is None else (lambda rgb, s=step: self.on_frame(rgb, s))
        if self.thumbnail.due():
            on_frame = self.thumbnail.tap(on_frame)
        self.timed("render", lambda: output.present(inp, t, on_frame))
        now = self.wall.now()
        # realtime capture times are on self.wall (the sources' clock); offline has no real latency
        latency_from = None if self.cfg.run.offline else capture_time
        self.metrics.presented_frame(now, latency_from, repeated)
        self.notifier.frame_presented(now)
        self.pipeline.publish(step, self.metrics.recent_fps(now), now)
        self.presented += 1
        self.viewer_present = step.viewer.features.get("presence", 0.0) >= 0.5
        if self.cfg.run.frames and self.presented >= self.cfg.run.frames:
            self.stop.set()

    def between_frames(self) -> None:
        """Work the render thread does between frames on behalf of signals (never in a handler)."""
        self.reloader.apply_pending()

    def handle_keys(self, output: Output) -> bool:
        for key in output.poll_keys():
            if key in ("escape", "quit"):
                log.info("quit requested (%s)", key)
                self.stop_requested = key
                self.stop.set()
                return True
            if key == "f":
                output.toggle_fullscreen()
            elif key == "d":
                self.pipeline.hud = not self.pipeline.hud
            else:  # the piece's own keys: the same queue and registry as OSC (engine.control.keys)
                keys.press(key, self.pipeline, self.wall.now())
        return self.stop.is_set()

    def finish_output(self, output: Output) -> None:
        for err in output.close():
            self.errors["recording" if err.startswith("recording") else "render"](RuntimeError(err))

    # ------------------------------------------------------------------ the process
    def status(self) -> dict:
        return build_status(self)

    def run(self) -> int:
        """Run until --frames, a signal, Esc or a fault it cannot repair; returns the exit code."""
        from engine.offline import run_offline
        from engine.realtime import RealtimeRunner, WatchdogExit

        previous = self._install_signals()
        try:
            self.pipeline.start()
            if self.cfg.run.watch:
                self.watcher = Watcher(self).start()
            self.http = start_status_server(
                self.cfg.http.listen, self.cfg.http.password, self.status, WebPanel.for_app(self)
            )
            if self.cfg.run.offline:
                run_offline(self)
            else:
                self.runner = RealtimeRunner(self)
                self.runner.run()
        except WatchdogExit as e:
            log.error("%s: exiting so the supervisor restarts the engine", e)
            self.exit_code = EXIT_WATCHDOG
        except OutputLost as e:
            log.error("%s: exiting so the supervisor restarts the engine", e)
            self.exit_code = EXIT_OUTPUT_LOST
        finally:
            if self.watcher is not None:
                self.watcher.close()
            self.notifier.stopping()
            self._close_quietly()
            self._restore_signals(previous)
        if self.exit_code == EXIT_OK and self.presented == 0 and not self.stop_requested:
            log.error("no frame was presented")
            self.exit_code = EXIT_NOTHING_SHOWN
        return self.exit_code

    def _close_quietly(self) -> None:
        """Every closing step runs, whatever failed before it; stats are written on every exit."""
        for name, fn in (
            ("OSC", self.pipeline.close),
            ("HTTP", self._close_http),
            ("stats", self._write_stats),
        ):
            try:
                fn()
            except Exception as e:  # noqa: BLE001
                log.error("closing %s failed: %s", name, e)
        self.notifier.close()

    def _close_http(self) -> None:
        if self.http is not None:
            self.http.close()
            self.http = None

    def _write_stats(self) -> None:
        if self.cfg.run.stats:
            self.metrics.info["exit"] = str(self.exit_code)
            self.metrics.write(self.cfg.run.stats)
            log.info("stats written to %s", self.cfg.run.stats)

    def _install_signals(self) -> dict:
        if threading.current_thread() is not threading.main_thread():
            return {}

        def _stop(signum, _frame):
            self.stop_requested = signal.Signals(signum).name
            log.info("signal %s: shutting down", self.stop_requested)
            self.stop.set()

        def _reload(_signum, _frame):
            self.reloader.request()

        previous = {}
        for sig, handler in ((signal.SIGINT, _stop), (signal.SIGTERM, _stop), (signal.SIGHUP, _reload)):
            previous[sig] = signal.signal(sig, handler)
        return previous

    @staticmethod
    def _restore_signals(previous: dict) -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
