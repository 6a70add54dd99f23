"""Per-stage timing, fps, latency and frame pacing: what --stats writes.

Every presented frame knows the capture time of the camera frame behind it,
so capture→present latency is measured per frame, not estimated. For each fresh image the
latency is also cut into the hand-offs and stages it went through (`latency_path`): where the
milliseconds go, which a total alone cannot say. Samples are kept in bounded rings so months of
uptime cost constant memory.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from pathlib import Path

import numpy as np

RING = 20_000
RECENT_S = 5.0  # the window of the "current" frame rate the HUD, OSC and /status show
# The legs of one fresh image's capture→present latency, in order; they add up to its latency.
LATENCY_PATH = (
    "perception_wait",  # captured → perception starts on it (perception busy, or rate-capped)
    "perception",
    "to_step",  # perceived → the latent steps with it (the render thread busy, or a tick reusing it)
    "generator_wait",  # stepped → the generator starts on it (busy with the previous image)
    "generator",
    "display_wait",  # generated → the render thread presents it (the fps cap, or busy)
    "render",
)


def pct(values, qs: tuple[float, ...]) -> dict[str, float]:
    if not values:
        return {f"p{int(q) if q == int(q) else q}": 0.0 for q in qs}
    a = np.fromiter(values, float)
    return {f"p{int(q) if q == int(q) else q}": round(float(np.percentile(a, q)), 2) for q in qs}


def latency_legs(
    capture: float,
    perceived: tuple[float, float] | None,
    stepped: float,
    generated: tuple[float, float],
    shown: tuple[float, float],
) -> dict[str, float]:
    """The legs of LATENCY_PATH in ms from the times one image passed each point (seconds). Without
    perception times (the absent viewer) the first three legs are one: capture → step."""
    points = [capture, *(perceived or ()), stepped, *generated, *shown]
    names = LATENCY_PATH if perceived else ("to_step", *LATENCY_PATH[3:])
    return {k: round((b - a) * 1000.0, 3) for k, a, b in zip(names, points[:-1], points[1:], strict=True)}


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.stage_ms: dict[str, deque[float]] = defaultdict(lambda: deque(maxlen=RING))
        self.stage_count: dict[str, int] = defaultdict(int)
        self.latency_ms: deque[float] = deque(maxlen=RING)
        self.frame_ms: deque[float] = deque(maxlen=RING)
        self.presented = 0
        self.repeated = 0
        self.dropped = 0
        self.first_present: float | None = None
        self.last_present: float | None = None
        self.stage_first: dict[str, float] = {}
        self.stage_last: dict[str, float] = {}
        self.info: dict[str, str] = {}
        self._recent: deque[float] = deque(maxlen=2000)  # presentation times of the last frames
        self.path_ms: dict[str, deque[float]] = {k: deque(maxlen=RING) for k in LATENCY_PATH}

    def latency_path(self, legs: dict[str, float]) -> None:
        """One fresh image's legs in ms (keys from LATENCY_PATH; a missing leg is not counted)."""
        with self._lock:
            for k, ms in legs.items():
                self.path_ms[k].append(ms)

    def stage(self, name: str, ms: float, now: float) -> None:
        with self._lock:
            self.stage_ms[name].append(ms)
            self.stage_count[name] += 1
            self.stage_first.setdefault(name, now)
            self.stage_last[name] = now

    def presented_frame(self, now: float, capture_time: float | None, repeated: bool) -> None:
        with self._lock:
            if self.last_present is not None:
                self.frame_ms.append((now - self.last_present) * 1000.0)
            if self.first_present is None:
                self.first_present = now
            self.last_present = now
            self._recent.append(now)
            self.presented += 1
            if repeated:
                self.repeated += 1
            if capture_time is not None:
                self.latency_ms.append((now - capture_time) * 1000.0)

    def dropped_frames(self, n: int) -> None:
        with self._lock:
            self.dropped += n

    def rate(self, name: str) -> float:
        with self._lock:
            n = self.stage_count.get(name, 0)
            span = self.stage_last.get(name, 0) - self.stage_first.get(name, 0)
        return (n - 1) / span if n > 1 and span > 0 else 0.0

    def recent_fps(self, now: float) -> float:
        """Frames presented per second over the last RECENT_S seconds: what "fps" means on a HUD."""
        with self._lock:
            times = [t for t in self._recent if t >= now - RECENT_S]
        if len(times) < 2:
            return 0.0
        return (len(times) - 1) / max(times[-1] - times[0], 1e-9)

    def stage_age(self, name: str, now: float) -> float | None:
        """Seconds since the stage last finished a run; None if it never ran."""
        with self._lock:
            last = self.stage_last.get(name)
        return None if last is None else max(0.0, now - last)

    def fps(self) -> float:
        """The average since the first presented frame (the --stats figure)."""
        with self._lock:
            if self.presented < 2 or self.last_present is None or self.first_present is None:
                return 0.0
            span = self.last_present - self.first_present
            return (self.presented - 1) / span if span > 0 else 0.0

    def recent_ms(self, name: str) -> float:
        with self._lock:
            d = self.stage_ms.get(name)
            return float(np.median(list(d)[-30:])) if d else 0.0

    def summary(self) -> dict:
        """The --stats document. `fps` stays the average since the first presented frame (tools read
        that key); `fps_avg` names it plainly, `fps_recent` is the rate over the last RECENT_S seconds
        before the last presented frame, what the HUD showed at the end."""
        fps = self.fps()
        last = self.last_present
        recent = 0.0 if last is None else self.recent_fps(last)
        rates = {name: round(self.rate(name), 2) for name in list(self.stage_count)}
        with self._lock:
            return {
                "fps": round(fps, 2),
                "fps_avg": round(fps, 2),
                "fps_recent": round(recent, 2),
                "presented": self.presented,
                "stages_ms": {k: pct(v, (50, 95)) for k, v in self.stage_ms.items()},
                "stages_hz": rates,
                "latency_ms": pct(self.latency_ms, (50, 95, 99)),
                "latency_path_ms": {k: pct(v, (50, 95)) for k, v in self.path_ms.items() if v},
                "frame_time_ms": {
                    **pct(self.frame_ms, (50, 99)),
                    "max": round(max(self.frame_ms), 2) if self.frame_ms else 0.0,
                },
                "dropped_frames": self.dropped,
                "repeated_frames": self.repeated,
                **self.info,
            }

    def write(self, path: str | Path) -> None:
        """Write to a temporary file and rename, so a crash mid-write never leaves half a JSON."""
        p = Path(path)
        tmp = p.with_name(p.name + ".tmp")
        tmp.write_text(json.dumps(self.summary(), indent=2))
        tmp.replace(p)
