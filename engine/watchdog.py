"""A watchdog that looks at the picture, not only at the process.

systemd restarts a process that stops pinging; it cannot see a piece that runs but shows black
(one NaN in a latent), a frozen image while the latent moves (a wedged generator session), a
camera that went stale, or memory creeping up over weeks. This class sees those from cheap
samples the render loop hands it, and answers with the next repair to try. It escalates only
while a fault persists: reset the latent → rebuild the generator's session → exit non-zero so the
supervisor starts a fresh process. The camera has its own step (reopen it), which never ends the
process: an installation without a camera still drifts in attract mode. Each step is logged once
when taken and counted for /status.

Pure logic on an injected time: the app performs the steps, tests drive it with exact times.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

import numpy as np

from engine.config import WatchdogSettings

log = logging.getLogger(__name__)

LADDER = ("reset_latent", "rebuild_generator", "exit")
STEPS = (*LADDER, "reopen_camera")
BLACK_LEVEL = 3.0  # mean 8-bit level below which a generated image counts as black
MOVING = 0.05  # latent speed (σ/s) above which the image is expected to change


@dataclass
class PictureSample:
    """What one generated image tells the watchdog; computed on a thumbnail, not the full image."""

    finite: bool
    mean: float
    signature: np.ndarray  # a tiny grey thumbnail, to tell a frozen image from a slow one

    @classmethod
    def of(cls, image: np.ndarray, finite: bool = True) -> PictureSample:
        thumb = np.asarray(image[::16, ::16], np.float32)
        if thumb.ndim == 3:
            thumb = thumb.mean(axis=2)
        return cls(finite=finite, mean=float(thumb.mean()) if finite else 0.0, signature=thumb)

    def same_as(self, other: PictureSample) -> bool:
        return self.signature.shape == other.signature.shape and bool(
            np.abs(self.signature - other.signature).max() < 0.5
        )


class Watchdog:
    def __init__(self, settings: WatchdogSettings) -> None:
        self.s = settings
        self.faults: Counter[str] = Counter()  # fault kind → times it was found (rising edges)
        self.steps: Counter[str] = Counter()
        self.last = ""  # the newest step or fault, for /status
        self.current: set[str] = set()
        self._bad_since: dict[str, float] = {}
        self._rung = 0  # next step on the ladder
        self._last_step_at = -1e18
        self._last_bad = -1e18  # when a picture fault was last seen at all (lasting or not)
        self._camera_step_at = -1e18
        self._picture: PictureSample | None = None
        self._changed_at: float | None = None
        self._moving_since: float | None = None

    @property
    def ok(self) -> bool:
        return not self.current

    # ------------------------------------------------------- samples (render thread)
    def picture(self, sample: PictureSample, latent_speed: float, now: float) -> None:
        """A newly generated image was presented."""
        if self._picture is None or not sample.same_as(self._picture) or not sample.finite:
            self._changed_at = now
        self._picture = sample
        if latent_speed > MOVING:
            self._moving_since = self._moving_since if self._moving_since is not None else now
        else:
            self._moving_since = None
            self._changed_at = now  # a still latent may show a still picture

    # ------------------------------------------------------- decisions
    def check(
        self,
        now: float,
        stage_ages: dict[str, float | None],
        camera_stale: bool,
        rss_mb: float,
        expect_generator: bool = True,
        expect_perception: bool = False,
    ) -> list[str]:
        """The steps to take now (usually none). `stage_ages`: seconds since each stage last ran."""
        s = self.s
        found: dict[str, float] = {}  # fault → how long it must last before it counts
        p = self._picture
        if p is not None and not p.finite:
            found["nan"] = s.black_s / 10
        elif expect_generator and p is not None and p.mean < BLACK_LEVEL:
            found["black"] = s.black_s
        changed, moving = self._changed_at, self._moving_since
        if (  # no generator expected (asleep, a remote server away): the held picture may not change
            expect_generator
            and p is not None
            and changed is not None
            and moving is not None
            and now - max(changed, moving) > s.frozen_s
        ):
            found["frozen"] = 0.0
        gen_age = stage_ages.get("generator")
        if expect_generator and gen_age is not None and gen_age > s.stage_s:
            found["generator_silent"] = s.stage_s  # held: after a wake-up its last run is long ago
        per_age = stage_ages.get("perception")
        if expect_perception and per_age is not None and per_age > s.stage_s:
            found["perception_silent"] = s.stage_s  # frames arrive but nobody reads them: a hung MediaPipe
        if camera_stale:
            found["camera_stale"] = s.stage_s
        if rss_mb > s.memory_mb:
            found["memory"] = 0.0
        for kind in list(self._bad_since):
            if kind not in found:
                del self._bad_since[kind]
        lasting = set()
        for kind, hold in found.items():
            since = self._bad_since.setdefault(kind, now)
            if kind not in self.current and now - since >= hold:
                self.faults[kind] += 1
                log.warning("watchdog: %s", _DESCRIBE[kind])
            if now - since >= hold:
                lasting.add(kind)
        self.current = lasting
        if found.keys() - {"camera_stale"}:
            self._last_bad = now
        return self._escalate(now, lasting)

    def _escalate(self, now: float, lasting: set[str]) -> list[str]:
        steps: list[str] = []
        window = max(self.s.black_s, self.s.frozen_s, self.s.stage_s)
        if "camera_stale" in lasting and now - self._camera_step_at > 4 * self.s.stage_s:
            self._camera_step_at = now
            steps.append(self._take("reopen_camera"))
        picture = lasting - {"camera_stale"}
        if now - self._last_bad > window:
            self._rung = 0  # healthy for a whole window: the next fault starts at the bottom again
        if not picture:
            return steps
        if picture & {"memory", "perception_silent"}:  # only a fresh process repairs these
            self._rung = LADDER.index("exit")
        elif "generator_silent" in picture:
            self._rung = max(self._rung, LADDER.index("rebuild_generator"))
        # give each step a window to work before trying the next
        if now - self._last_step_at < window / 2:
            return steps
        self._last_step_at = now
        steps.append(self._take(LADDER[min(self._rung, len(LADDER) - 1)]))
        self._rung += 1
        self._bad_since = {k: v for k, v in self._bad_since.items() if k == "memory"}
        self._changed_at = now
        return steps

    def _take(self, step: str) -> str:
        self.steps[step] += 1
        self.last = step
        log.warning("watchdog: %s (%s)", step.replace("_", " "), ", ".join(sorted(self.current)))
        return step

    def status(self) -> dict:
        return {
            "faults": dict(self.faults),
            "steps": {k: self.steps.get(k, 0) for k in STEPS},
            "last": self.last,
            "current": sorted(self.current),
        }


_DESCRIBE = {
    "nan": "the generator produced NaN or infinite values",
    "black": "the generated picture is black",
    "frozen": "the picture has not changed while the latent moves",
    "generator_silent": "the generator stopped producing images",
    "perception_silent": "camera frames arrive but perception stopped reading them",
    "camera_stale": "the camera delivers no frames",
    "memory": "memory is past the ceiling ([watchdog] memory_mb)",
}
