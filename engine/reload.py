"""SIGHUP: read the config file again and apply what can change while the piece runs.

A curator adjusting a gain or the opening hours should not have to restart the projector.
Parameters, `[run] style`, the latent's motion, opening hours, the watchdog and the log
level change live; any other changed key is named in one log line as needing a restart. A file that
no longer loads is refused with its one-line error and the running config stays. The signal handler
only sets a flag: the reload runs on the render thread between frames, like every other change of state.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from engine.config import Config, ConfigError
from engine.schedule import Schedule, ScheduleError

if TYPE_CHECKING:
    from engine.app import App

log = logging.getLogger(__name__)

LIVE = ("params", "latent", "schedule", "watchdog")
LIVE_RUN = ("log_level", "style")  # the [run] keys that change live


def changed_keys(old: Config, new: Config) -> list[str]:
    """Dotted names of every setting that differs (sections compared field by field)."""
    out = []
    for f in dataclasses.fields(Config):
        a, b = getattr(old, f.name), getattr(new, f.name)
        if dataclasses.is_dataclass(a):
            out += [
                f"{f.name}.{g.name}"
                for g in dataclasses.fields(a)
                if getattr(a, g.name) != getattr(b, g.name)
            ]
        elif a != b:
            out.append(f.name)
    return out


class ConfigReloader:
    def __init__(self, app: App, load: Callable[[], Config] | None) -> None:
        self.app = app
        self.load = load
        self._pending = threading.Event()
        self.reloads = 0
        self.origin = "SIGHUP"  # who asked, for the log lines: SIGHUP, or "watch" (engine.watch, --watch)
        self.error = ""  # why the last reload was refused ("" after one that worked): the HUD shows it

    def request(self, origin: str = "SIGHUP") -> None:
        """From the signal handler: nothing but a flag."""
        self.origin = origin
        self._pending.set()

    def apply_pending(self) -> None:
        if not self._pending.is_set():
            return
        self._pending.clear()
        if self.load is None:
            log.warning("%s: started without --config, nothing to reload", self.origin)
            return
        self.app.notifier.reloading()
        try:
            self._apply(self.load())
            self.error = ""
        except (ConfigError, ScheduleError, ValueError) as e:
            self.error = str(e)
            log.error("%s: config not reloaded, the running one stays: %s", self.origin, e)
        # READY follows with the next presented frame (the notifier asks for it after RELOADING)

    def _apply(self, new: Config) -> None:
        app = self.app
        old = app.cfg
        keys = changed_keys(old, new)
        schedule = Schedule(new.schedule)  # validate everything before changing anything
        pipeline = app.pipeline
        style = pipeline.styles.config_values(new.run.style, new.params)  # an unknown style, named
        pipeline.params.check(new.params)  # out of range or unknown: refused like at start, not clamped
        before = pipeline.styles.config_values(old.run.style, old.params)
        for name, value in new.params.items():
            if old.params.get(name) != value:
                pipeline.params.set(name, value, origin="config")
        if style != before:  # the file's style changed: it is the style now; else a VJ's live blend stays
            for name, value in style.items():
                pipeline.params.set(name, value, origin="config")
        pipeline.integrator.settings = new.latent
        app.schedule = schedule
        app.watchdog.s = new.watchdog
        logging.getLogger().setLevel(new.run.log_level)
        live = {k: getattr(new, k) for k in LIVE}
        run = dataclasses.replace(old.run, **{k: getattr(new.run, k) for k in LIVE_RUN})
        app.cfg = dataclasses.replace(old, **live, run=run)
        restart = [k for k in keys if k.split(".")[0] not in LIVE and k.removeprefix("run.") not in LIVE_RUN]
        self.reloads += 1
        log.info("%s: config reloaded (%d changes)", self.origin, len(keys) - len(restart))
        if restart:
            log.warning("%s: these changed but need a restart: %s", self.origin, ", ".join(restart))
