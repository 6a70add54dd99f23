"""The engine's status as one JSON-able dict: what /status, /metrics and /engine/status report.

Remote monitoring asks one question — is the piece showing a living picture? — so the dict leads
with `ok` and the current frame rate, then what explains them: stage ages, camera, watchdog steps,
memory. Built on demand from the objects that already hold the figures; reading it never blocks
the render loop (each part takes its own short lock or reads a plain attribute).
"""

from __future__ import annotations

import time
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from engine.procstat import sample

if TYPE_CHECKING:
    from engine.app import App

STAGES = ("perception", "generator", "render")


def _version() -> str:
    try:
        return version("latent-mirror")
    except PackageNotFoundError:
        return "0.1.0"


VERSION = _version()


def _perception_process(runner: object) -> dict | None:
    """The perception child's pid, health and restarts; None until perception starts, or when it runs
    in a thread (`[run] perception_process = false`)."""
    status = getattr(getattr(runner, "perceiver", None), "status", None)
    return status() if callable(status) else None


def build_status(app: App) -> dict:
    now = app.wall.now()
    m = app.metrics
    summary_lat = m.summary()["latency_ms"]
    runner = app.runner
    source = getattr(runner, "source", None)
    proc = sample()
    stages = {}
    for s in STAGES:
        age = m.stage_age(s, now)
        stages[s] = {
            "age_s": None if age is None else round(age, 3),
            "ms_p50": m.recent_ms(s),
            "hz": round(m.rate(s), 2),
        }
    return {
        "ok": app.watchdog.ok,
        "uptime_s": round(time.monotonic() - app.started, 1),
        "version": VERSION,
        "fps": round(m.recent_fps(now), 2),
        "fps_avg": round(m.fps(), 2),
        "presented": m.presented,
        "latency_ms": {"p50": summary_lat.get("p50", 0.0), "p95": summary_lat.get("p95", 0.0)},
        "stages": stages,
        "camera": {
            "source": app.cfg.run.source,
            "live": bool(source.live) if source is not None else False,
            "status": source.status() if source is not None else ("offline" if app.cfg.run.offline else ""),
        },
        "perception_process": _perception_process(runner),
        "viewer_present": app.viewer_present,
        "scene": app.pipeline.scene.name,
        "scenes": app.pipeline.director.status(),  # crossfade, idle, the show's entry and the next
        "provider": app.pipeline.generator.provider,
        "model": app.pipeline.generator.manifest.name,
        "styles": app.pipeline.style_status(),  # the model's styles and the blend now ({}: none)
        "midi": app.pipeline.midi.status() if app.pipeline.midi is not None else None,
        "link": app.pipeline.link.status() if app.pipeline.link is not None else None,
        "rss_mb": proc.rss_mb,
        "threads": proc.threads,
        "open_files": proc.open_files,
        "errors": {k: e.count for k, e in app.errors.items()},
        "watchdog": app.watchdog.status(),
        "sleeping": bool(runner is not None and not runner.awake.is_set()),
        "recording": bool(app.output is not None and app.output.recording),
        "ndi": app.output.ndi.status() if app.output is not None and app.output.ndi is not None else None,
        "calibration": app.cfg.room.active(),  # the room's files in use (python -m calibration)
    }
