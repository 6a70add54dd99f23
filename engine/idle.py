"""When the room is empty: after `[scenes] idle_after_s` without anybody, the idle scene.

A scene built for a viewer shows little to an empty room, and a piece that runs for months spends
most hours there; the idle scene (`drift`, an attract mode) is made for it. Someone arriving ends
idle at once, so the first person in never waits for the piece to notice them. Time is the frame
time the pipeline passes in, so offline runs fall back at the same frame every time.
"""

from __future__ import annotations

from engine.messages import Viewer


def someone_there(viewer: Viewer) -> bool:
    """A viewer seen by pose, or anybody the crowd counts: a hall of far walkers, whom single-person
    pose misses, is not an empty room."""
    crowded = viewer.crowd is not None and viewer.crowd.count > 0
    return viewer.features.get("presence", 0.0) >= 0.5 or crowded


class IdleFallback:
    def __init__(self, after_s: float) -> None:
        self.after_s = after_s
        self.active = False
        self._absent_since: float | None = None

    def update(self, present: bool, t: float) -> bool | None:
        """True as idle begins, False as it ends (someone arrived), None while nothing changes."""
        if present:
            self._absent_since = None
            if self.active:
                self.active = False
                return False
            return None
        if self._absent_since is None:
            self._absent_since = t
        if not self.active and t - self._absent_since >= self.after_s:
            self.active = True
            return True
        return None

    def reset(self, t: float) -> None:
        """An operator chose what is on: idle ends, and the empty room is counted from now."""
        self.active = False
        self._absent_since = t if self._absent_since is not None else None
