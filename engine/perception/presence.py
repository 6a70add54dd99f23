"""Presence with hysteresis, so a passer-by's glance or one missed detection does not flip a scene."""

from __future__ import annotations


class PresenceGate:
    """Presence with hysteresis: switches only after a run of agreeing frames."""

    def __init__(self, on_frames: int, off_frames: int) -> None:
        self.on_frames = on_frames
        self.off_frames = off_frames
        self.present = False
        self._run = 0

    def update(self, seen: bool) -> bool:
        """Feed whether anyone was seen in this frame; returns the debounced presence."""
        if seen == self.present:
            self._run = 0
        else:
            self._run += 1
            if self._run >= (self.on_frames if seen else self.off_frames):
                self.present, self._run = seen, 0
        return self.present

    def reset(self) -> None:
        self.present, self._run = False, 0
