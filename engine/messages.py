"""The small typed messages that stages hand to each other.

Data flows one way (source → perception → scene → latent → generator → render →
out) and every message carries the capture time of the camera frame it stems
from, so the latency of every presented frame can be measured. Camera images
live only in `Frame` and never leave the process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from engine.perception.crowd_types import Crowd


@dataclass(frozen=True, slots=True)
class Frame:
    """One image from a source. RGB uint8 H×W×3; private to the process."""

    image: np.ndarray
    capture_time: float  # seconds on the injected clock
    index: int  # increasing per source; a repeated index means a repeated frame
    source: str  # e.g. "camera:0", "video:clip.mp4", "demo"


@dataclass(frozen=True, slots=True)
class Viewer:
    """What perception derived from a frame: named features in documented ranges.

    `features` always holds every name in engine.perception.features.FEATURES
    (presence 0 when nobody is there). `mask` is the person segmentation,
    float32 0..1 at low resolution, or None. `skeleton` holds normalised pose
    landmarks (33×3: x, y, visibility) for the HUD; it leaves the process only
    as /viewer/skeleton, and only when the user sets `[osc] send_landmarks`.
    `crowd` is everyone in view as blobs (engine.perception.crowd), or None where crowd
    perception is off. `perceived` is when perception started and finished on it (the realtime
    clock), for the latency path in --stats; None offline and for the absent viewer.
    """

    features: Mapping[str, float]
    capture_time: float
    frame_index: int
    mask: np.ndarray | None = None
    skeleton: np.ndarray | None = None
    crowd: Crowd | None = None
    perceived: tuple[float, float] | None = None


@dataclass(frozen=True, slots=True)
class Target:
    """Where a scene wants the latent to go, and how the picture should look.

    `directions` maps a PCA direction index to an offset in units of its σ.
    `speed` scales the integrator's speed bound (1 = configured speed).
    `uniforms` are render parameters (names the shader chain declares).
    """

    directions: Mapping[int, float]
    speed: float = 1.0
    # ≥ 0, unbounded: the idle wander's speed in keyframes per `drift_period` (0 holds the base still).
    # mirror gives up to 9 (idle drift 3 × (1 + sync level 2)), then `motion.drift` scales it by up to 4.
    drift: float = 0.0
    uniforms: Mapping[str, float] = field(default_factory=dict)
    capture_time: float = 0.0


@dataclass(frozen=True, slots=True)
class RenderInput:
    """Everything one presented frame needs; render code only reads it."""

    image: np.ndarray  # RGB uint8 H×W×3 from the generator
    uniforms: Mapping[str, float]
    mask: np.ndarray | None = None  # float32 0..1, any size (upscaled on the GPU)
    skeleton: np.ndarray | None = None
    hud_lines: tuple[str, ...] = ()
    note: str = ""  # small unobtrusive status note, e.g. "camera not found, retrying"
    recording: bool = False  # --record is writing this picture: the overlay shows a red dot
    t: float = 0.0  # the frame's clock time (offline: its fixed step): what animates the grain
    dissolve: float = 1.0  # share of this picture over the one held at the last scene switch (1 = none)
    cut: int = 0  # counts scene switches: a new value makes the renderer hold the picture on screen
