"""The people in view: a box and a prominence per pose, and small ids that follow them between frames.

MediaPipe returns the poses of a frame in no particular order, so the viewer would be lost
whenever the order changed. Matching each pose to the nearest person of the previous frames
(by box centre, within a reach that grows with the person's size) gives each person an id
for as long as they stay in view. Ids are the smallest free positive integers, so a sound
patch can use them as voice numbers. Pure logic: no MediaPipe, time is the caller's frame count.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from engine.perception.landmarks import VISIBLE

Box = tuple[float, float, float, float]  # x0, y0, x1, y1, normalised to the frame
MAX_ID = 16  # ids stay in 1..MAX_ID (the `viewer_id` feature's range)
CENTRE_WEIGHT = 0.5  # prominence at a frame corner, relative to the same size at the centre: 1 - this
MIN_REACH = 0.1  # a person may move this far (frame fractions) between pose runs, even when small
# ...or this many of their own box widths, when wider: the width, not the height, because a person
# seen full height is most of the frame tall, and a reach that long let one person inherit another's
# id when a pose dropped out for a frame (the viewer changed without a crossfade)
REACH_PER_SIZE = 1.0


@dataclass(frozen=True, slots=True)
class Person:
    """One tracked person. `seen` is False while held through a short miss (last box kept)."""

    id: int
    box: Box
    prominence: float
    seen: bool = True

    @property
    def centre(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.box
        return (x0 + x1) / 2, (y0 + y1) / 2


def pose_box(pose: np.ndarray) -> Box | None:
    """The box around a pose's landmarks seen in the frame (visibility ≥ VISIBLE), clipped to it.

    MediaPipe also guesses landmarks outside the picture (legs below its edge); those would make
    a close person's box, and so their prominence, larger than what the camera sees.
    """
    p = np.asarray(pose, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 4:
        return None
    seen = p[p[:, 3] >= VISIBLE, :2]
    if len(seen) < 2:
        return None
    x0, y0 = np.clip(seen.min(axis=0), 0.0, 1.0)
    x1, y1 = np.clip(seen.max(axis=0), 0.0, 1.0)
    if x1 <= x0 or y1 <= y0:
        return None
    return float(x0), float(y0), float(x1), float(y1)


def prominence(box: Box) -> float:
    """Size × centrality: the box's linear size (√ of its share of the frame's area), weighted
    down by up to CENTRE_WEIGHT as its centre moves from the frame's centre to a corner.

    Size stands for nearness; the centre for being the one the piece faces. The linear size
    (not the area) keeps the ratio between two people proportional to how much nearer one is.
    """
    x0, y0, x1, y1 = box
    size = math.sqrt(max(0.0, x1 - x0) * max(0.0, y1 - y0))
    off = math.hypot((x0 + x1) - 1.0, (y0 + y1) - 1.0) / math.sqrt(2.0)  # 0 centre .. 1 corner
    return size * (1.0 - CENTRE_WEIGHT * min(1.0, off))


@dataclass(slots=True)
class _Track:
    person: Person
    last_seen: int


class PeopleTracker:
    """Ids by nearest centre across frames; a person unseen for more than `forget_after` frames is gone."""

    def __init__(self, forget_after: int) -> None:
        self.forget_after = forget_after
        self._tracks: dict[int, _Track] = {}

    def reset(self) -> None:
        self._tracks.clear()

    @property
    def people(self) -> list[Person]:
        """Everyone still tracked after the last update, seen or held, by id."""
        return [self._tracks[i].person for i in sorted(self._tracks)]

    def update(self, boxes: Sequence[Box], frame: int) -> list[int]:
        """Match this frame's boxes to the tracked people; returns an id per box, in order."""
        for track in self._tracks.values():
            if track.person.seen:
                track.person = replace(track.person, seen=False)
        for i in [i for i, tr in self._tracks.items() if frame - tr.last_seen > self.forget_after]:
            del self._tracks[i]
        ids: list[int | None] = [None] * len(boxes)
        pairs = sorted(
            (_gap(tr.person.box, box), tid, b)
            for tid, tr in self._tracks.items()
            for b, box in enumerate(boxes)
            if _gap(tr.person.box, box) <= _reach(tr.person.box)
        )
        taken: set[int] = set()
        for _, tid, b in pairs:  # greedy, nearest first: optimal enough for a handful of people
            if ids[b] is None and tid not in taken:
                ids[b] = tid
                taken.add(tid)
        for b, box in enumerate(boxes):
            tid = ids[b] if ids[b] is not None else self._free_id(frame)
            self._tracks[tid] = _Track(Person(tid, tuple(box), prominence(box)), frame)  # type: ignore[arg-type]
            ids[b] = tid
        return [int(i) for i in ids if i is not None]

    def _free_id(self, frame: int) -> int:
        free = next((i for i in range(1, MAX_ID + 1) if i not in self._tracks), None)
        if free is None:  # all ids held: the person unseen longest gives theirs up
            free = min(
                (i for i, tr in self._tracks.items() if tr.last_seen < frame),
                key=lambda i: self._tracks[i].last_seen,
                default=max(self._tracks),
            )
            del self._tracks[free]
        return free


def _centre(box: Box) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def _gap(a: Box, b: Box) -> float:
    (ax, ay), (bx, by) = _centre(a), _centre(b)
    return math.hypot(ax - bx, ay - by)


def _reach(box: Box) -> float:
    return max(MIN_REACH, REACH_PER_SIZE * (box[2] - box[0]))
