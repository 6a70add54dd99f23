"""People far away as moving blobs: background subtraction, then a tracker that keeps their ids.

At 3–15 m a person is 20–150 px tall, too small for pose or face mesh, but a fixed camera sees
them as whatever differs from the empty hall. MOG2 learns that hall (people standing still for
longer than its history melt into it, which is what an "attractor" that stops moving should do),
its shadow label is dropped (a shadow is not a person), and a tall closing joins a body that the
subtraction broke into head, torso and legs.

The tracker matches each frame's blobs to the tracks of the frame before by predicted centroid
(greedy, nearest first, within `max_jump`); a track must be seen `confirm` frames before it counts
(noise, a door swinging), and lives `grace` frames unseen before it is dropped (two people crossing
merge into one blob for a moment; a short occlusion must not give them new ids).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import cv2
import numpy as np


@dataclass(frozen=True, slots=True)
class Blob:
    """One detection, in 0..1 frame coordinates."""

    x: float
    y: float
    w: float
    h: float
    size: float  # foreground pixels / frame pixels
    members: int = 1  # people this blob seems to hold: a group side by side is wider than tall

    def contains(self, x: float, y: float, margin: float = 0.0) -> bool:
        mx, my = margin * self.w, margin * self.h
        return (
            self.x - self.w / 2 - mx <= x <= self.x + self.w / 2 + mx
            and self.y - self.h / 2 - my <= y <= self.y + self.h / 2 + my
        )


class ForegroundBlobs:
    """MOG2 on a downscaled frame → cleaned mask → blobs above a minimum area."""

    def __init__(
        self,
        width: int = 384,
        history: int = 500,
        var_threshold: float = 25.0,
        min_area: float = 0.0006,
        person_aspect: float = 0.55,
    ) -> None:
        self.width = width
        self.person_aspect = person_aspect  # width / height of one walking person, arms and legs out
        self.min_area = min_area
        self.history = history
        self.var_threshold = var_threshold
        self._open = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
        # taller than wide: a body the subtraction cut at the belt is one column of pixels
        self._close = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 11))
        self.reset()

    def reset(self) -> None:
        """Forget the learned room (a moved camera): the next frames are learned afresh."""
        self._mog = cv2.createBackgroundSubtractorMOG2(self.history, self.var_threshold, True)
        self.mask: np.ndarray | None = None

    def __call__(self, image: np.ndarray) -> list[Blob]:
        h0, w0 = image.shape[:2]
        w = min(self.width, w0)
        h = max(1, round(h0 * w / w0))
        small = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA) if w != w0 else image
        fg = self._mog.apply(small)
        mask = (fg > 200).astype(np.uint8)  # 255 foreground, 127 shadow
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self._open)
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, self._close)
        self.mask = mask
        n, _, stats, centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
        area = float(w * h)
        blobs = []
        for i in range(1, n):
            bx, by, bw, bh, px = stats[i]
            if px / area < self.min_area:
                continue
            cx, cy = centroids[i]
            members = max(1, round(bw / (self.person_aspect * bh)))
            blobs.append(Blob(cx / w, cy / h, bw / w, bh / h, px / area, members))
        return blobs


@dataclass
class Track:
    id: int
    blob: Blob
    t: float  # capture time of the last match
    vx: float = 0.0  # frame widths (heights) per second, smoothed
    vy: float = 0.0
    hits: int = 1
    misses: int = 0
    confirmed: bool = False
    faces: int = 0  # faces seen inside the box lately (set by the crowd stage)

    @property
    def members(self) -> int:
        return max(self.blob.members, self.faces)

    @property
    def speed(self) -> float:
        return math.hypot(self.vx, self.vy)

    def predicted(self, t: float) -> tuple[float, float]:
        dt = max(0.0, min(t - self.t, 1.0))
        return self.blob.x + self.vx * dt, self.blob.y + self.vy * dt


@dataclass
class TrackEvents:
    entered: list[int] = field(default_factory=list)
    left: list[int] = field(default_factory=list)


class BlobTracker:
    """Stable ids for blobs across frames; `update` says who entered and who left in this frame."""

    def __init__(
        self, max_jump: float = 0.08, confirm: int = 3, grace: int = 8, velocity_smoothing: float = 0.5
    ) -> None:
        if confirm < 1 or grace < 0 or max_jump <= 0:
            raise ValueError("BlobTracker: confirm ≥ 1, grace ≥ 0 and max_jump > 0 are needed")
        self.max_jump = max_jump  # fraction of the frame width, per frame matched
        self.confirm = confirm
        self.grace = grace
        self.smoothing = velocity_smoothing
        self.tracks: list[Track] = []
        self._ids = itertools.count(1)

    def reset(self) -> None:
        self.tracks = []

    def visible(self, hold: int = 2) -> list[Track]:
        """The confirmed tracks seen in the last `hold` frames. Ids live on for `grace` frames, but a
        person who walked out of the frame should leave the count sooner than that."""
        return [t for t in self.tracks if t.confirmed and t.misses <= hold]

    def update(self, blobs: list[Blob], t: float) -> TrackEvents:
        events = TrackEvents()
        pairs = []
        for ti, tr in enumerate(self.tracks):
            px, py = tr.predicted(t)
            # a track unseen for a while may have walked further: allow more room per missed frame
            reach = self.max_jump * (1 + tr.misses)
            for bi, b in enumerate(blobs):
                d = math.hypot(b.x - px, b.y - py)
                if d <= reach:
                    pairs.append((d, ti, bi))
        pairs.sort()
        used_t: set[int] = set()
        used_b: set[int] = set()
        for _, ti, bi in pairs:
            if ti in used_t or bi in used_b:
                continue
            used_t.add(ti)
            used_b.add(bi)
            self._match(self.tracks[ti], blobs[bi], t, events)
        kept = []
        for ti, tr in enumerate(self.tracks):
            if ti not in used_t:
                tr.misses += 1
                if tr.misses > (self.grace if tr.confirmed else 0):
                    if tr.confirmed:
                        events.left.append(tr.id)
                    continue
            kept.append(tr)
        for bi, b in enumerate(blobs):
            if bi not in used_b:
                kept.append(Track(next(self._ids), b, t, confirmed=self.confirm <= 1))
                if self.confirm <= 1:
                    events.entered.append(kept[-1].id)
        self.tracks = kept
        return events

    def _match(self, tr: Track, b: Blob, t: float, events: TrackEvents) -> None:
        dt = t - tr.t
        if dt > 0:
            a = self.smoothing
            tr.vx = a * tr.vx + (1 - a) * (b.x - tr.blob.x) / dt
            tr.vy = a * tr.vy + (1 - a) * (b.y - tr.blob.y) / dt
        tr.blob, tr.t = b, t
        tr.hits += 1
        tr.misses = 0
        if not tr.confirmed and tr.hits >= self.confirm:
            tr.confirmed = True
            events.entered.append(tr.id)
