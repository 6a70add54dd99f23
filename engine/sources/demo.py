"""The demo source: a real photograph of a person that moves, for showing the piece with no camera.

Face and pose trackers need a real face, so a drawn one will not do. A portrait is cut out with a
soft oval onto a plain backdrop of its own colour and moved as a rigid card seen in perspective:
drifting sideways, coming closer and going back, tilting, nodding and turning the head. Every
image is a pure function of the frame index (time = index / fps, looping every `period_s`), so the
realtime player and an offline render show the very same pictures. The motion is bounded so the
face stays large and inside the frame, where MediaPipe's face mesh always finds it.

`demo:visits` (or `demo:visits=40/20`, seconds present / away) adds visitors who come and go: the
person walks in from one side, stays, walks out the other, and the room stays empty for a while,
so that presence, enter/leave and attract mode can be shown, and soaked, without a camera.

`demo:tilts` (or `demo:tilts=2.5`, seconds per pose) holds the person still in the middle of the
frame with the head tilted TILT_DEG to one side, and tilts it to the other side in one frame every
few seconds: a step at a known frame index, from which `python -m engine.bench --response` measures
how long the picture takes to answer a viewer. A tilt, not a turn: a turned photograph stays a flat
face to the face mesh (±30° reads as a head yaw of only -0.005 / -0.088), a tilted one is a tilted
head (±15° reads as head_roll -0.26 / +0.41).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np

from engine.clock import Clock
from engine.messages import Frame
from engine.sources.base import PacedSource, Producer, SourceError, read_only
from engine.sources.still import load_photo

PORTRAIT = Path(__file__).resolve().parents[2] / "assets" / "demo" / "portrait.jpg"

# In the bundled portrait (512×512): the point between the eyes, the face's height from hair to
# chin, the oval that keeps head and shoulders, and the backdrop's colour around her.
ANCHOR = (228.0, 118.0)
FACE_HEIGHT = 175.0
OVAL_CENTER, OVAL_AXES = (228.0, 235.0), (150.0, 265.0)
BACKDROP = (198, 190, 184)
VISITS = (40.0, 20.0)  # default seconds present / away for "demo:visits": a visitor a minute
WALK_S = 1.5  # seconds to walk in or out of the frame
TILTS_HOLD_S = 2.5  # default seconds each head pose holds for "demo:tilts"
TILT_DEG = 15.0  # "demo:tilts" tilts the head from -TILT_DEG to +TILT_DEG and back


class DemoSource(PacedSource):
    """A moving portrait at `size` (width, height), looping every `period_s` seconds."""

    def __init__(
        self,
        clock: Clock | None = None,
        fps: float = 30.0,
        size: tuple[int, int] = (640, 480),
        period_s: float = 20.0,
        photo: str | Path | None = None,
        visits: tuple[float, float] | None = None,
        tilts: float | None = None,
    ) -> None:
        super().__init__("demo", clock, fps)
        self.size = size
        self.loop_frames = max(1, round(period_s * self.fps))
        self.visits = visits  # (seconds present, seconds away), None: always there
        # "demo:tilts": frames each head pose holds (None: the moving demo)
        self.tilt_frames = None if tilts is None else max(1, round(tilts * self.fps))
        self._card = _make_card(load_photo(photo or PORTRAIT, max_side=None))
        self._empty = read_only(np.full((size[1], size[0], 3), BACKDROP, np.uint8))

    def _describe(self) -> str:
        return "demo (no camera)"

    def render(self, index: int) -> np.ndarray:
        """The image for frame `index`; the same index always gives the same pixels."""
        w, h = self.size
        if self.tilt_frames is not None:
            matrix = _still_matrix(math.radians(self.tilt_deg(index)), w, h)
        else:
            shift = self._visit_shift(index / self.fps)
            if shift is None:
                return self._empty
            matrix = _pose_matrix(2 * math.pi * (index % self.loop_frames) / self.loop_frames, w, h, shift)
        return read_only(
            cv2.warpPerspective(
                self._card,
                matrix,
                (w, h),
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=BACKDROP,
            )
        )

    def tilt_deg(self, index: int) -> float:
        """The head's tilt in degrees at frame `index` under "demo:tilts": -TILT_DEG for the first
        `tilt_frames` frames, then +TILT_DEG, and so on; it changes at multiples of tilt_frames."""
        if self.tilt_frames is None:
            raise ValueError("tilt_deg: this demo was not opened as 'demo:tilts'")
        return TILT_DEG if (index // self.tilt_frames) % 2 else -TILT_DEG

    def _visit_shift(self, t: float) -> float | None:
        """Sideways offset in frame widths while a visitor is here (walking in from the right, out
        to the left); None while the room is empty."""
        if self.visits is None:
            return 0.0
        present, away = self.visits
        u = t % (present + away)
        if u >= present:
            return None
        walk = min(WALK_S, present / 2)
        ramp = min(u / walk, (present - u) / walk, 1.0)
        ramp = ramp * ramp * (3 - 2 * ramp)
        return (1.0 - ramp) * (0.9 if u < present / 2 else -0.9)

    def _producer(self) -> tuple[Producer, Callable[[], None]]:
        return self.render, (lambda: None)

    def frames(self, limit: int | None = None) -> Iterator[Frame]:
        """Endless unless `limit` is given; loops every `loop_frames` frames."""
        index = 0
        while limit is None or index < limit:
            image = self.render(index)
            yield Frame(image=image, capture_time=index / self.fps, index=index, source=self.name)
            index += 1


def demo_from_spec(
    spec: str, clock: Clock | None = None, fps: float = 30.0, size: tuple[int, int] = (640, 480)
) -> DemoSource:
    """`demo`, `demo:visits[=PRESENT/AWAY]` or `demo:tilts[=SECONDS]`; SourceError names the spec."""
    kind, _, option = spec.strip().lower().partition(":")
    if kind != "demo":
        raise SourceError(f"source '{spec}' is not a demo spec")
    if not option:
        return DemoSource(clock, fps=fps, size=size)
    name, eq, value = option.partition("=")
    if name == "tilts":
        try:
            hold = float(value) if eq else TILTS_HOLD_S
        except ValueError:
            hold = -1.0
        if not 0.2 <= hold <= 3600:
            raise SourceError(
                f"source '{spec}': expected 'demo:tilts=SECONDS' with 0.2..3600 s, e.g. demo:tilts=2.5"
            )
        return DemoSource(clock, fps=fps, size=size, tilts=hold)
    visits = VISITS
    if name == "visits" and eq:
        try:
            present, away = (float(v) for v in value.split("/"))
        except ValueError:
            present = away = -1.0
        visits = (present, away)
    if name != "visits" or not (2 * WALK_S <= visits[0] <= 86400 and 0 < visits[1] <= 86400):
        raise SourceError(
            f"source '{spec}': expected 'demo', 'demo:tilts[=SECONDS]', 'demo:visits' or "
            f"'demo:visits=PRESENT/AWAY' in seconds (present {2 * WALK_S:g}..86400, away above 0), "
            "e.g. demo:visits=40/20"
        )
    return DemoSource(clock, fps=fps, size=size, visits=visits)


def _make_card(photo: np.ndarray) -> np.ndarray:
    """The portrait faded into the backdrop outside a soft oval, so that the card's edges vanish
    when it is warped onto a backdrop of the same colour."""
    h, w = photo.shape[:2]
    sx, sy = w / 512.0, h / 512.0  # the constants above are for the 512-pixel original
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    (cx, cy), (ax, ay) = OVAL_CENTER, OVAL_AXES
    r = np.hypot((xx - cx * sx) / (ax * sx), (yy - cy * sy) / (ay * sy))
    alpha = np.clip((1.0 - r) / 0.18, 0.0, 1.0)
    alpha *= np.clip((h - 6 * sy - yy) / (90 * sy), 0.0, 1.0)  # fade out before the bottom edge
    alpha = (alpha * alpha * (3 - 2 * alpha))[..., None]  # smoothstep: no visible rim
    card = photo.astype(np.float32) * alpha + np.array(BACKDROP, np.float32) * (1 - alpha)
    card = np.clip(card + 0.5, 0, 255).astype(np.uint8)
    return cv2.resize(card, (512, 512), interpolation=cv2.INTER_AREA) if (w, h) != (512, 512) else card


def _pose_matrix(phase: float, width: int, height: int, shift: float = 0.0) -> np.ndarray:
    """Homography from the card to the output for one moment of the loop.

    Each motion runs a whole number of cycles per loop, at different rates so that they combine
    in ever new ways, and the loop closes without a jump.
    """
    s = 0.42 * height / FACE_HEIGHT * math.exp(0.25 * math.sin(2 * phase + 1.9))  # closer / farther
    dx = 0.19 * width * math.sin(phase) + shift * width  # drift left and right; walk in and out
    dy = 0.04 * height * math.sin(2 * phase + 0.7)
    roll = math.radians(12) * math.sin(3 * phase + 0.3)  # tilt the head
    yaw = math.radians(30) * math.sin(4 * phase + 1.1)  # turn
    pitch = math.radians(8) * math.sin(5 * phase + 2.3)  # nod
    return _card_matrix(width, height, s, dx, dy, roll, yaw, pitch)


def _still_matrix(roll: float, width: int, height: int) -> np.ndarray:
    """The card at rest in the middle of the frame, the head tilted by `roll` (radians)."""
    return _card_matrix(width, height, 0.42 * height / FACE_HEIGHT, 0.0, 0.0, roll, 0.0, 0.0)


def _card_matrix(
    width: int, height: int, s: float, dx: float, dy: float, roll: float, yaw: float, pitch: float
) -> np.ndarray:
    """Scale s, offset (dx, dy) from the rest position, and the head's roll, yaw, pitch (radians)."""
    f = 500.0  # focal length in card pixels: how strong the perspective of a turn looks

    to_anchor = np.array([[1, 0, -ANCHOR[0]], [0, 1, -ANCHOR[1]], [0, 0, 1]], np.float64)
    turn = np.array([[math.cos(yaw), 0, 0], [0, 1, 0], [-math.sin(yaw) / f, 0, 1]], np.float64)
    nod = np.array([[1, 0, 0], [0, math.cos(pitch), 0], [0, -math.sin(pitch) / f, 1]], np.float64)
    c, si = math.cos(roll), math.sin(roll)
    tilt = np.array([[c, -si, 0], [si, c, 0], [0, 0, 1]], np.float64)
    place = np.array([[s, 0, width / 2 + dx], [0, s, 0.40 * height + dy], [0, 0, 1]], np.float64)
    return place @ tilt @ nod @ turn @ to_anchor
