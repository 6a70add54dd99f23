"""What crowd perception hands on: the people in view and the crowd's summary, as typed messages.

Kept apart from the OpenCV code so scenes (and the OSC sender) can read a Crowd without loading
OpenCV or MediaPipe. Coordinates are 0..1 of the frame (x right, y down), as for the viewer's
features, so a scene's mapping does not depend on the camera's resolution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# The names a Crowd contributes to a viewer's features mapping (the scalars only; per-person data
# stays in Crowd.people). `crowd_` keeps them apart from the single viewer's features.
CROWD_FEATURES = ("crowd_count", "crowd_x", "crowd_y", "crowd_spread", "crowd_motion")


@dataclass(frozen=True, slots=True)
class Person:
    """One tracked person (a foreground blob, or a face with no blob around it)."""

    id: int  # stable while the person stays in view; never reused within a run
    x: float  # centroid, 0..1 of the frame width
    y: float  # centroid, 0..1 of the frame height
    w: float  # box width, 0..1
    h: float  # box height, 0..1
    size: float  # foreground area, fraction of the frame (0..1): nearer people are bigger
    speed: float  # frame widths per second, smoothed
    faces: int = 0  # faces seen inside the box: a blob of a group near the camera counts them


@dataclass(frozen=True, slots=True)
class Crowd:
    """The crowd in one frame. `entered`/`left` hold the ids that changed in this frame only."""

    people: tuple[Person, ...]
    count: int  # people in view: each blob counts max(1, faces seen in it)
    x: float  # mean centroid of the people, 0.5 when nobody is there
    y: float
    spread: float  # RMS distance of the people from their centroid, 0..~0.7 (0 with one or none)
    motion: float  # Σ people's speed, frame widths per second (a calm hall ~0.1, a rush ~1)
    entered: tuple[int, ...] = ()
    left: tuple[int, ...] = ()
    capture_time: float = 0.0
    frame_index: int = -1


EMPTY = Crowd(people=(), count=0, x=0.5, y=0.5, spread=0.0, motion=0.0)


def summarise(
    people: tuple[Person, ...],
    entered: tuple[int, ...] = (),
    left: tuple[int, ...] = (),
    capture_time: float = 0.0,
    frame_index: int = -1,
) -> Crowd:
    """A Crowd from its people: count, centroid, spread and motion follow from them alone."""
    n = len(people)
    if n == 0:
        x = y = 0.5
        spread = 0.0
    else:
        x = sum(p.x for p in people) / n
        y = sum(p.y for p in people) / n
        spread = math.sqrt(sum((p.x - x) ** 2 + (p.y - y) ** 2 for p in people) / n)
    return Crowd(
        people=people,
        count=sum(max(1, p.faces) for p in people),
        x=x,
        y=y,
        spread=spread,
        motion=sum(p.speed for p in people),
        entered=entered,
        left=left,
        capture_time=capture_time,
        frame_index=frame_index,
    )


def crowd_features(c: Crowd) -> dict[str, float]:
    """The crowd's scalars under CROWD_FEATURES names, for a features mapping or a HUD line."""
    return {
        "crowd_count": float(c.count),
        "crowd_x": c.x,
        "crowd_y": c.y,
        "crowd_spread": c.spread,
        "crowd_motion": c.motion,
    }
