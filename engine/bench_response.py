"""Response latency as a viewer feels it: how long the picture takes to answer a gesture.

Capture→present latency says how old a presented frame's camera image is; a viewer feels something
else: after tilting the head, how long until the picture starts to move, and until it is halfway to
where it is going. That includes everything that smooths on purpose (the One Euro filters, the
latent integrator's time constant and speed limit, the feedback trails), which capture→present
latency does not see at all.

The real engine runs in realtime on `demo:tilts=HOLD` (engine/sources/demo.py): the real portrait,
still, its head tilting from one side to the other in one frame every HOLD seconds. Every presented
picture is read back, shrunk and compared with the last picture presented before the step:

- start: the first presented picture whose distance from that baseline exceeds the noise, i.e.
  NOISE_FACTOR × the largest distance any picture in the PRE_S before the step had from it (the
  drift and the trails move the picture a little all the time);
- half: the first whose distance reaches half the final change (the median distance over the last
  quarter of the hold, when the picture has settled).

The same is measured on the latent and on the filtered head_roll feature behind each presented
picture, so the report can say which stage the time goes to. Each number is the median over steps.
"""

from __future__ import annotations

import logging
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from engine.app import App
from engine.config import load_config
from engine.pipeline import Step

log = logging.getLogger(__name__)

THUMB_W = 160  # presented pictures are compared at this width: enough for the picture's change, cheap
PRE_S = 0.5  # the noise window before each step
NOISE_FACTOR = 1.5
NOISE_FLOOR = {"image": 0.25, "latent": 1e-3, "feature": 2e-3}  # grey levels, latent norm, feature units
MIN_SIGNAL = 2.0  # a step counts when its final change is this many times its threshold
# Steps not measured: the first hold and the first step let the latent settle from where it started
# (the first hold alone does not: the picture still creeps toward its pose then, which inflates the noise)
WARMUP_STEPS = 1


@dataclass
class Trace:
    """What was presented, frame by frame: time, the shrunk picture, the latent and feature behind it."""

    t: list[float] = field(default_factory=list)
    thumbs: list[np.ndarray] = field(default_factory=list)
    latents: list[np.ndarray] = field(default_factory=list)
    roll: list[float] = field(default_factory=list)
    source_t0: float = math.inf  # clock time of the source's frame 0: its frame i is due at t0 + i / fps


class Probe:
    """App.on_frame: records every presented picture, and stops the run once the last step settled."""

    def __init__(self, app: App, steps: int, hold_frames: int, fps: float) -> None:
        self.app, self.trace = app, Trace()
        self.span_s = (steps + WARMUP_STEPS + 1) * hold_frames / fps
        self.fps = fps

    def __call__(self, rgb: np.ndarray, step: Step) -> None:
        now = self.app.wall.now()
        tr = self.trace
        h, w = rgb.shape[:2]
        thumb = cv2.resize(rgb, (THUMB_W, max(1, round(h * THUMB_W / w))), interpolation=cv2.INTER_AREA)
        tr.t.append(now)
        tr.thumbs.append(thumb)
        tr.latents.append(step.latent.astype(np.float32, copy=True))
        tr.roll.append(float(step.viewer.features.get("head_roll", 0.0)))
        runner = self.app.runner
        frame = runner.source.latest() if runner is not None else None
        if frame is not None:  # the source publishes frame i as soon as it is due: the earliest says t0
            tr.source_t0 = min(tr.source_t0, frame.capture_time - frame.index / self.fps)
        if now > tr.source_t0 + self.span_s:
            self.app.stop.set()


def _distances(trace: Trace, signal: str, ref: int) -> np.ndarray:
    if signal == "image":
        base = trace.thumbs[ref].astype(np.float32)
        return np.array([float(np.abs(x.astype(np.float32) - base).mean()) for x in trace.thumbs])
    if signal == "latent":
        base = trace.latents[ref]
        return np.array([float(np.linalg.norm(x - base)) for x in trace.latents])
    return np.abs(np.asarray(trace.roll) - trace.roll[ref])


def measure_step(t: np.ndarray, dist: np.ndarray, t_step: float, hold_s: float, floor: float) -> dict:
    """start/half in ms after `t_step` for one step, from each presented frame's distance to the
    baseline (the last frame before the step); NaN where the change never rose above the noise."""
    pre = (t >= t_step - PRE_S) & (t < t_step)
    settled = (t >= t_step + 0.75 * hold_s) & (t < t_step + hold_s)
    after = (t >= t_step) & (t < t_step + hold_s)
    nan = {"start_ms": math.nan, "half_ms": math.nan, "threshold": math.nan, "change": math.nan}
    if not pre.any() or not settled.any():
        return nan
    threshold = max(NOISE_FACTOR * float(dist[pre].max()), floor)
    change = float(np.median(dist[settled]))
    if change < MIN_SIGNAL * threshold:
        return {**nan, "threshold": threshold, "change": change}
    ts, ds = t[after], dist[after]
    start = ts[np.argmax(ds > threshold)] if (ds > threshold).any() else math.nan
    half = ts[np.argmax(ds >= change / 2)] if (ds >= change / 2).any() else math.nan
    return {
        "start_ms": (start - t_step) * 1000.0,
        "half_ms": (half - t_step) * 1000.0,
        "threshold": threshold,
        "change": change,
    }


def analyse(trace: Trace, steps: int, hold_frames: int, fps: float) -> tuple[dict, list]:
    """The median start/half per signal over the steps, and the image curves for the plot."""
    if not math.isfinite(trace.source_t0) or len(trace.t) < 2:
        raise RuntimeError("the response run presented no frames from the source")
    t = np.asarray(trace.t)
    hold_s = hold_frames / fps
    out: dict = {}
    curves = []
    for signal in ("image", "latent", "feature"):
        per_step = []
        for k in range(WARMUP_STEPS + 1, WARMUP_STEPS + steps + 1):
            t_step = trace.source_t0 + k * hold_s
            before = np.nonzero(t < t_step)[0]
            if not len(before):
                continue
            dist = _distances(trace, signal, int(before[-1]))
            m = measure_step(t, dist, t_step, hold_s, NOISE_FLOOR[signal])
            per_step.append(m)
            if signal == "image" and math.isfinite(m["change"]) and m["change"] > 0:
                sel = (t >= t_step - PRE_S) & (t < t_step + hold_s)
                curves.append(((t[sel] - t_step) * 1000.0, dist[sel] / m["change"]))
        prefix = "" if signal == "image" else f"{signal}_"
        for key in ("start_ms", "half_ms"):
            out[f"{prefix}{key}"] = _median([m[key] for m in per_step], 1)
            if signal == "image":
                out[f"{key}_each"] = [_median([m[key]], 1) for m in per_step]
        if signal == "image":
            out["steps_seen"] = sum(math.isfinite(m["half_ms"]) for m in per_step)
            out["image_change"] = _median([m["change"] for m in per_step], 2)
            out["image_threshold"] = _median([m["threshold"] for m in per_step], 2)
    return out, curves


def _median(values: list[float], digits: int) -> float | None:
    """The median of the finite values, None where there is none (JSON has no NaN)."""
    finite = [v for v in values if math.isfinite(v)]
    return round(float(np.median(finite)), digits) if finite else None


def measure_response(
    steps: int = 5,
    hold_s: float = 2.5,
    size: str = "1280x720",
    fps: float = 30.0,
    config: Path | None = None,
) -> tuple[dict, list]:
    """Run the engine in realtime on `demo:tilts` and measure `steps` steps (the `response` JSON
    block, and the image curves for response_plot)."""
    if steps < 1:
        raise ValueError(f"response steps must be at least 1, got {steps}")
    source = f"demo:tilts={hold_s:g}"
    with tempfile.TemporaryDirectory() as tmp:
        run = {"source": source, "headless": True, "offline": False, "fps": fps, "size": size}
        run |= {"stats": str(Path(tmp) / "stats.json")}
        # a safety cap on frames, in case the source never starts: three times the run's length
        run["frames"] = int((steps + WARMUP_STEPS + 1) * hold_s * fps * 3) + 60
        cfg = load_config(config, {"run": run, "osc": {"listen": "127.0.0.1:0"}})
        app = App(cfg)
        src_fps = cfg.camera.fps
        hold_frames = max(1, round(hold_s * src_fps))
        probe = Probe(app, steps, hold_frames, src_fps)
        app.on_frame = probe
        code = app.run()
        if code != 0:
            raise RuntimeError(f"the response run ended with exit code {code}")
        summary = app.metrics.summary()
    out, curves = analyse(probe.trace, steps, hold_frames, src_fps)
    if out["steps_seen"] < steps:
        log.warning(
            "response: %d of %d steps rose clearly above the noise (median change %s, threshold %s)",
            out["steps_seen"],
            steps,
            out["image_change"],
            out["image_threshold"],
        )
    out |= {
        "steps": steps,
        "hold_s": hold_s,
        "source": source,
        "presented_fps": summary["fps_avg"],
        "perception_hz": summary["stages_hz"].get("perception", 0.0),
        "generator_hz": summary["stages_hz"].get("generator", 0.0),
        "latency_ms_p50": summary["latency_ms"]["p50"],
    }
    return out, curves
