"""Sync from the sound system: beat, tempo, level and bands, as plain floats for scenes.

Scenes read `SceneInputs.sync`, a mapping of the names in SYNC_KEYS, and never
see OSC. The tracker is updated on the render thread with the time each event
happened (in realtime the receive or bundle time, offline the frame's time) and
asked for a snapshot once per frame, so a scene's pulse lands on the beat even
when perception runs slower than the picture. A sound system that goes quiet
must not freeze the picture mid-pulse: levels and beats go stale and fall to 0.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import deque
from collections.abc import Sequence

MAX_BANDS = 32
SYNC_KEYS = {
    "beat_phase": "0..1 position within the current beat (0 on the beat); 0 without tempo",
    "beat_pulse": "1 on the beat, decaying to about 0 within a quarter beat",
    "beat_count": "beats received since start (or the index the sound system sent)",
    "bpm": "tempo: from /sync/bpm or a tap tempo, else estimated from /sync/beat intervals; 0 if unknown",
    "level": "0..1 audio level from /audio/level; 0 when none arrived for `stale_s`",
    "bands": f"how many band values /audio/bands sent (at most {MAX_BANDS})",
    "band_<i>": "0..1 level of band i (band_0 = lowest)",
    "active": "1 while any sync or audio message arrived within `stale_s`, else 0",
}


class SyncTracker:
    def __init__(self, stale_s: float = 3.0) -> None:
        self.stale_s = stale_s
        self.last_beat: float | None = None
        self.beat_count = 0
        self.intervals: deque[float] = deque(maxlen=8)
        self.bpm_sent: float | None = None  # explicit tempo wins over the estimate
        self.taps: deque[float] = deque(maxlen=8)
        self.bpm_tapped: float | None = None
        self.tap_at: float | None = None  # the latest tap: without later beats, the phase runs from it
        self.level_value = 0.0
        self.bands_values: tuple[float, ...] = ()
        self.last_level = -1e9
        self.last_bands = -1e9
        self.last_any = -1e9

    # -------------------------------------------------------------- events
    def beat(self, t: float, index: int | None = None) -> None:
        if self.last_beat is not None and 0.15 <= t - self.last_beat <= 2.0:  # 30..400 bpm
            self.intervals.append(t - self.last_beat)
        elif self.last_beat is not None:
            self.intervals.clear()  # a pause or a double tap: start estimating afresh
        self.last_beat = t
        self.beat_count = index if index is not None and index >= 0 else self.beat_count + 1
        self.last_any = max(self.last_any, t)

    def tap(self, t: float) -> None:
        """Tap tempo (a person marking beats when no sound system does): three or more taps set the
        tempo from their median interval, and every tap puts the beat's phase on it, so one tap
        re-aligns a known tempo. It holds after the taps stop; a later /sync/bpm or later beats win."""
        if self.taps and not 0.15 <= t - self.taps[-1] <= 2.0:  # 30..400 bpm, as beat()
            self.taps.clear()
        self.taps.append(t)
        if len(self.taps) >= 3:
            self.bpm_tapped = 60.0 / statistics.median(b - a for a, b in itertools.pairwise(self.taps))
            self.bpm_sent = None  # the latest tempo wins: a sender that is still there sends it again
        self.tap_at = t
        self.last_any = max(self.last_any, t)

    def set_bpm(self, t: float, bpm: float) -> None:
        self.bpm_sent = min(max(bpm, 1.0), 999.0) if bpm > 0 else None
        self.last_any = max(self.last_any, t)

    def set_level(self, t: float, level: float) -> None:
        self.level_value = min(max(level, 0.0), 1.0)
        self.last_level = t
        self.last_any = max(self.last_any, t)

    def set_bands(self, t: float, values: Sequence[float]) -> None:
        self.bands_values = tuple(min(max(v, 0.0), 1.0) for v in values[:MAX_BANDS])
        self.last_bands = t
        self.last_any = max(self.last_any, t)

    # -------------------------------------------------------------- state
    def bpm(self) -> float:
        if self.bpm_sent:
            return self.bpm_sent
        if len(self.intervals) >= 2 and not self._tapped_last():
            return 60.0 / statistics.median(self.intervals)
        return self.bpm_tapped or 0.0

    def _tapped_last(self) -> bool:
        return self.tap_at is not None and (self.last_beat is None or self.tap_at > self.last_beat)

    def snapshot(self, t: float) -> dict[str, float]:
        bpm = self.bpm()
        phase, since = 0.0, math.inf
        if self.last_beat is not None and not self._tapped_last():
            since = max(0.0, t - self.last_beat)
            if bpm > 0:
                period = 60.0 / bpm
                phase = (since / period) % 1.0
                # free-run on the tempo between beats; once they stop, stop pulsing rather than run on forever
                since = math.inf if since > max(4 * period, self.stale_s) else phase * period
        elif bpm > 0:
            phase = ((t - (self.tap_at or 0.0)) * bpm / 60.0) % 1.0
            since = phase * 60.0 / bpm
        decay = 0.1 if bpm <= 0 else min(0.1, 7.5 / bpm)  # time constant ≤ an eighth of a beat
        out = {
            "beat_phase": phase,
            "beat_pulse": math.exp(-since / decay) if math.isfinite(since) else 0.0,
            "beat_count": float(self.beat_count),
            "bpm": bpm,
            "level": self.level_value if t - self.last_level <= self.stale_s else 0.0,
            "active": 1.0 if t - self.last_any <= self.stale_s else 0.0,
        }
        bands = self.bands_values if t - self.last_bands <= self.stale_s else ()
        out["bands"] = float(len(bands))
        for i, v in enumerate(bands):
            out[f"band_{i}"] = v
        return out
