"""Which person is the viewer, and a glide between viewers, so a crowd does not make the piece flicker.

The viewer is the most prominent person (engine.perception.people.prominence), but sticky: a
rival takes over only after being `ratio` times as prominent as the viewer, without a break,
for `hold_s` seconds. Two people of about the same size never trade places, and someone
walking past in front steals the piece only if they stay. When the viewer leaves (their
track is forgotten), the most prominent person left takes over at once. An `allowed` hook
limits who may be the viewer (a calibrated zone, for instance): people it rejects are
ignored, and a viewer who leaves the zone is replaced at once.

Time is injected (capture times in seconds), so all of it is tested without a camera.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from engine.perception.people import Person

Allowed = Callable[[Person], bool]


class ViewerSelector:
    """Picks the viewer's id among tracked people, with hysteresis in prominence and time."""

    def __init__(self, ratio: float = 1.3, hold_s: float = 1.0, allowed: Allowed | None = None) -> None:
        if ratio < 1.0 or hold_s < 0.0:
            raise ValueError(f"ViewerSelector needs ratio >= 1 and hold_s >= 0, got {ratio}, {hold_s}")
        self.ratio = ratio
        self.hold_s = hold_s
        self.allowed = allowed
        self.viewer: int | None = None
        self._rival: int | None = None
        self._rival_since = 0.0

    def reset(self) -> None:
        self.viewer, self._rival = None, None

    def update(self, people: Sequence[Person], t: float) -> int | None:
        """The viewer's id after this frame (None when nobody may be the viewer)."""
        eligible = [p for p in people if self.allowed is None or self.allowed(p)]
        current = next((p for p in eligible if p.id == self.viewer), None)
        seen = [p for p in eligible if p.seen]
        if current is None:
            best = max(seen, key=_rank, default=None)
            self.viewer, self._rival = (best.id if best else None), None
            return self.viewer
        rivals = [p for p in seen if p.id != current.id and p.prominence >= self.ratio * current.prominence]
        rival = max(rivals, key=_rank, default=None)
        if rival is None:
            self._rival = None
        elif rival.id != self._rival or t < self._rival_since:  # a new rival, or a restarted clock
            self._rival, self._rival_since = rival.id, t
        if rival is not None and t - self._rival_since >= self.hold_s:
            self.viewer, self._rival = rival.id, None
        return self.viewer


def _rank(p: Person) -> tuple[float, int]:
    return p.prominence, -p.id  # ties go to the older (smaller) id: deterministic


def smoothstep(x: float) -> float:
    x = min(1.0, max(0.0, x))
    return x * x * (3.0 - 2.0 * x)


class FeatureCrossfade:
    """After a change of viewer, features glide from the old viewer's last values to the new one's.

    The weight follows a smoothstep over `duration_s`, so the glide starts and ends without a
    kink; names in `keep` (presence, count, the viewer's id) are facts and pass straight through.
    """

    def __init__(self, duration_s: float, keep: Iterable[str] = ()) -> None:
        self.duration_s = duration_s
        self.keep = frozenset(keep)
        self._from: dict[str, float] | None = None
        self._t0 = 0.0

    @property
    def active(self) -> bool:
        return self._from is not None

    def reset(self) -> None:
        self._from = None

    def start(self, previous: Mapping[str, float], t: float) -> None:
        """Begin a glide from `previous` (what was shown last) at time t."""
        if self.duration_s > 0:
            self._from, self._t0 = dict(previous), t

    def __call__(self, features: Mapping[str, float], t: float) -> dict[str, float]:
        out = dict(features)
        if self._from is None:
            return out
        w = smoothstep((t - self._t0) / self.duration_s)
        if w >= 1.0 or t < self._t0:
            self._from = None
            return out
        for name, value in features.items():
            if name not in self.keep and name in self._from:
                out[name] = self._from[name] + (value - self._from[name]) * w
        return out
