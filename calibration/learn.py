"""The learn step: this room's own ranges of every feature, from its real visitors (ranges.json).

    python -m calibration learn --minutes 10                  # live, from the configured camera
    python -m calibration learn --source clip.mp4 | demo      # a recording (demo: --frames N)

A feature's documented range assumes any room: `distance` spans 6 m to 40 cm, but in a small room
visitors stand between 1.5 and 3 m, so a scene mapping distance to zoom would use a third of its
travel. Learning records the features the engine's own perception produces (zone, lens and screen
included) on frames where someone is present, and keeps p5..p95 of each: robust to a visitor
leaning into the lens for a second. With ranges.json the engine maps each feature's p5..p95 onto
its documented range, clamped, before the scenes see it (`rescale`); the raw value stays in the
same mapping as `raw_<name>` (so /viewer/raw_<name> over OSC too). Counts (presence, count,
viewer_id) and metres (distance_m) are never rescaled; nor is a feature that never varied here.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from calibration.files import CalibrationError, made_by, number, path_for, save
from engine.messages import Frame, Viewer
from engine.perception.features import FACTS, FEATURES

STEP = "ranges"
MIN_SAMPLES = 100  # present frames: under this a percentile is a guess (5 % of 100 is 5 frames)
KEEP_RAW = (*FACTS, "distance_m")  # counted, or in metres: a room does not change their scale
MIN_SPAN = 1e-3  # p95 - p5 below this: the feature never varied here; rescaling would amplify noise
RAW_PREFIX = "raw_"


@dataclass(frozen=True)
class FeatureRange:
    p5: float
    p95: float
    samples: int


@dataclass(frozen=True)
class Ranges:
    """p5..p95 per feature over `samples` present frames of `source`."""

    features: Mapping[str, FeatureRange]
    samples: int
    source: str = ""

    def rescaled(self) -> tuple[str, ...]:
        """The features `rescale` maps: known, not counts or metres, and varied in this room."""
        return tuple(
            n
            for n, r in self.features.items()
            if n in FEATURES and n not in KEEP_RAW and r.p95 - r.p5 >= MIN_SPAN
        )


def validate(data: dict, where: str) -> Ranges:
    samples = int(number(data, "samples", where, 1))
    feats = data.get("features")
    if not isinstance(feats, dict) or not feats:
        raise CalibrationError(f"{where}: features must be an object of name → {{p5, p95, samples}}")
    out: dict[str, FeatureRange] = {}
    for name, r in feats.items():
        key = f"features.{name}"
        if name not in FEATURES:
            raise CalibrationError(f"{where}: {key} is no feature this engine has; run learn again")
        if not isinstance(r, dict):
            raise CalibrationError(f"{where}: {key} must be an object {{p5, p95, samples}}")
        spec = FEATURES[name]
        p5 = number(r, "p5", f"{where}: {key}", spec.lo, spec.hi)
        p95 = number(r, "p95", f"{where}: {key}", spec.lo, spec.hi)
        if p5 > p95:
            raise CalibrationError(f"{where}: {key}: p5 {p5} is above p95 {p95}")
        out[name] = FeatureRange(p5, p95, int(number(r, "samples", f"{where}: {key}", 1)))
    return Ranges(out, samples, str(data.get("source", "")))


# ------------------------------------------------------------------ learning and rescaling
def learn(samples: Sequence[Mapping[str, float]]) -> dict[str, dict[str, float]]:
    """p5, p95 and count per feature over feature dicts of present frames (counts left out)."""
    names = [n for n in FEATURES if n not in FACTS]
    out = {}
    for name in names:
        values = np.array([s[name] for s in samples if name in s], np.float64)
        if len(values):
            p5, p95 = np.percentile(values, [5, 95])
            out[name] = {"p5": round(float(p5), 5), "p95": round(float(p95), 5), "samples": len(values)}
    return out


def rescale(features: Mapping[str, float], ranges: Ranges) -> dict[str, float]:
    """Each learned feature's p5..p95 mapped linearly onto its documented range, clamped; the value
    before as `raw_<name>`. While nobody is present the neutral values pass unchanged (raw = value),
    so the scenes' calm state stays neutral and the set of names never changes."""
    out = dict(features)
    present = features.get("presence", 0.0) >= 0.5
    for name in ranges.rescaled():
        if name not in features:
            continue
        value = float(features[name])
        out[RAW_PREFIX + name] = value
        if present:
            r, spec = ranges.features[name], FEATURES[name]
            out[name] = spec.clamp(spec.lo + (value - r.p5) / (r.p95 - r.p5) * (spec.hi - spec.lo))
    return out


class Rescaler:
    """Viewer → Viewer with rescaled features; the same Viewer object twice costs one rescale."""

    def __init__(self, ranges: Ranges | None) -> None:
        self.ranges = ranges
        self._last: tuple[Viewer, Viewer] | None = None

    def __call__(self, viewer: Viewer) -> Viewer:
        if self.ranges is None:
            return viewer
        if self._last is not None and self._last[0] is viewer:
            return self._last[1]
        out = dataclasses.replace(viewer, features=rescale(viewer.features, self.ranges))
        self._last = (viewer, out)
        return out


# ------------------------------------------------------------------ recording
def record(perceiver: Any, frames: Iterable[Frame], progress_s: float = 10.0) -> list[dict[str, float]]:
    """The features of every frame where someone is present, as the engine perceives them."""
    samples: list[dict[str, float]] = []
    shown = time.monotonic()
    for n, frame in enumerate(frames, 1):
        f = perceiver.process(frame).features
        if f.get("presence", 0.0) >= 0.5:
            samples.append({k: float(v) for k, v in f.items()})
        if time.monotonic() - shown >= progress_s:
            shown = time.monotonic()
            print(f"  {n} frames, {len(samples)} with a visitor", flush=True)
    return samples


def live_frames(source: Any, seconds: float) -> Iterable[Frame]:
    """New frames of a started realtime source for `seconds` (a repeated index is skipped)."""
    end, last = time.monotonic() + seconds, None
    while time.monotonic() < end:
        frame = source.latest()
        if frame is None or frame.index == last:
            time.sleep(0.005)
            continue
        last = frame.index
        yield frame


def save_ranges(room: Path, samples: Sequence[Mapping[str, float]], source: str, minimum: int) -> Path:
    if len(samples) < minimum:
        raise CalibrationError(
            f"{path_for(room, STEP)}: only {len(samples)} frames with a visitor present "
            f"(at least {minimum} needed); nothing written: record longer, or where people are"
        )
    body = {"source": source, "samples": len(samples), "features": learn(samples)}
    return save(room, STEP, made_by(), body, validate)


def room_for_learning(folder: Path) -> Any:
    """The room as perception sees it (lens, screen, zone), without ranges.json: a stale or bad
    ranges file is what learning replaces, so it must not stop it."""
    from calibration.files import STEPS, load
    from calibration.room import Room, _validator

    if not Path(folder).is_dir():
        return Room(folder=Path(folder))
    values = {s: load(folder, s, v) for s in STEPS if s != STEP and (v := _validator(s)) is not None}
    return Room(folder=Path(folder), **values)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("learn", help="record visitors' features and store this room's ranges")
    p.add_argument("--minutes", type=float, default=10.0, help="how long to record (live; demo: its time)")
    p.add_argument("--source", help="video file, 'demo' or camera index (default: the config's source)")
    p.add_argument("--frames", type=int, help="stop after N frames (a file or the demo)")
    p.add_argument("--config", type=Path, help="the engine's TOML: camera size, [perception]")
    p.add_argument("--min-samples", type=int, default=MIN_SAMPLES, help="present frames needed")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.clock import FixedStepClock, RealtimeClock
    from engine.config import ConfigError, load_config
    from engine.perception.crowd import build_perceiver
    from engine.sources import CameraSource, SourceError, open_source

    try:
        cfg = load_config(args.config)
        spec = (args.source or cfg.run.source).strip()
        live = spec.isdigit() and len(spec) == 1
        cam = cfg.camera
        # a file or the demo is read frame by frame on its own clock, as `--offline` does
        clock = RealtimeClock() if live else FixedStepClock(cam.fps)
        source = open_source(spec, clock, width=cam.width, height=cam.height, fps=cam.fps, loop=False)
    except (ConfigError, SourceError) as e:
        raise CalibrationError(str(e)) from None
    try:
        perceiver = build_perceiver(dataclasses.replace(cfg, room=room_for_learning(args.room)))
    except BaseException:
        source.close()
        raise
    try:
        if isinstance(source, CameraSource):
            print(f"learning from {source.name} for {args.minutes:g} min: visitors, please", flush=True)
            source.start()
            frames = live_frames(source, args.minutes * 60)
        else:
            endless = spec.lower().startswith("demo")
            limit = args.frames or (round(args.minutes * 60 * source.fps) if endless else None)
            frames = source.frames(limit)
        samples = record(perceiver, frames)
    finally:
        perceiver.close()
        source.close()
    path = save_ranges(args.room, samples, spec, args.min_samples)
    ranges = validate_file(path)
    print(f"saved {path}: {ranges.samples} frames with a visitor")
    for name, r in ranges.features.items():
        note = "" if name in ranges.rescaled() else "  (kept raw)"
        print(f"  {name:18s} p5 {r.p5:+.3f}  p95 {r.p95:+.3f}{note}")
    return 0


def validate_file(path: Path) -> Ranges:
    from calibration.files import load

    out = load(path.parent, STEP, validate)
    assert out is not None
    return out
