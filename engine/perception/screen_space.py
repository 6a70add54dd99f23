"""The viewer in screen space: perception's camera coordinates moved to where the viewer sees
themselves on the wall, using the room's screen.json (calibration/screen.py).

Only what has a position moves: the x/y features, the skeleton and the mask. The mask is warped at
its own low resolution into the screen's aspect, so the render chain's cover fit becomes the
identity and the silhouette lands on the homography's spot. A camera that mirrors its own picture
(`camera_mirrored`) is un-mirrored first — x, yaw, roll and lean change sign, the hands swap, the
skeleton's sides swap — so "left" in a feature name stays the person's own left.
The scene's `mirror` uniform is untouched: whether the wall acts as a mirror is still the scene's.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import cv2
import numpy as np

from engine.messages import Frame, Viewer
from engine.perception.features import FEATURES

NEGATED_WHEN_MIRRORED = ("x", "head_yaw", "head_roll", "lean")
SWAPPED_WHEN_MIRRORED = (("left_hand_height", "right_hand_height"),)
# MediaPipe pose's 33 landmarks with the person's left and right exchanged (eyes, ears, mouth, limbs).
POSE_MIRROR = (0, 4, 5, 6, 1, 2, 3, 8, 7, 10, 9, *(i + (1 if i % 2 else -1) for i in range(11, 33)))


def unmirror_features(features: dict[str, float]) -> dict[str, float]:
    out = dict(features)
    for name in NEGATED_WHEN_MIRRORED:
        if name in out:
            out[name] = -out[name] + 0.0  # + 0.0: no -0.0 in the OSC stream
    for a, b in SWAPPED_WHEN_MIRRORED:
        if a in out and b in out:
            out[a], out[b] = out[b], out[a]
    return out


def unmirror_skeleton(skeleton: np.ndarray) -> np.ndarray:
    s = np.array(skeleton, np.float32, copy=True)
    s[:, 0] = 1.0 - s[:, 0]
    return s[list(POSE_MIRROR)] if len(s) == len(POSE_MIRROR) else s


def project(H: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # noqa: N803
    """N×2 points through H, and which of them are in front (a point past the horizon has no image)."""
    p = np.c_[np.asarray(points, np.float64).reshape(-1, 2), np.ones(len(points))] @ H.T
    ok = p[:, 2] > 1e-9
    return p[:, :2] / np.where(ok, p[:, 2], 1.0)[:, None], ok


class ScreenMapping:
    """Maps one Viewer from camera to screen space; pure apart from a cache of pixel homographies."""

    def __init__(self, screen: Any) -> None:
        self.H = np.array(screen.homography, np.float64)
        self.mirrored = bool(screen.camera_mirrored)
        sw, sh = screen.screen_size
        self.screen_aspect = sh / sw
        self._warps: dict[tuple[int, int], tuple[np.ndarray, tuple[int, int]]] = {}

    def __call__(self, viewer: Viewer) -> Viewer:
        features = dict(viewer.features)
        mask, skeleton = viewer.mask, viewer.skeleton
        if self.mirrored:
            features = unmirror_features(features)
            mask = None if mask is None else np.ascontiguousarray(np.asarray(mask)[:, ::-1])
            skeleton = None if skeleton is None else unmirror_skeleton(skeleton)
        if features.get("presence", 0.0) >= 0.5:  # absent: x, y stay neutral, not the centre's image
            xy, ok = project(self.H, np.array([[features["x"] + 1.0, features["y"] + 1.0]]) / 2.0)
            for name, value in zip(("x", "y"), xy[0]):
                features[name] = FEATURES[name].clamp(2.0 * value - 1.0 if ok[0] else float("nan"))
        if skeleton is not None:
            skeleton = self.skeleton(skeleton)
        if mask is not None:
            mask = self.mask(mask)
        return dataclasses.replace(viewer, features=features, mask=mask, skeleton=skeleton)

    def skeleton(self, skeleton: np.ndarray) -> np.ndarray:
        s = np.array(skeleton, np.float32, copy=True)
        xy, ok = project(self.H, s[:, :2])
        s[:, :2] = np.where(ok[:, None], xy, 0.0)
        if s.shape[1] > 2:
            s[~ok, 2] = 0.0  # unplaceable: drawn nowhere
        return s

    def mask(self, mask: np.ndarray) -> np.ndarray:
        """The mask warped into the screen's aspect at the same width (cv2.warpPerspective)."""
        m = np.asarray(mask, np.float32)
        m = m[:, :, 0] if m.ndim == 3 else m
        h, w = m.shape
        if (h, w) not in self._warps:
            from calibration.screen import pixel_homography

            out = (w, max(1, round(w * self.screen_aspect)))
            self._warps[(h, w)] = (pixel_homography(self.H, (w, h), out), out)
        Hp, out = self._warps[(h, w)]  # noqa: N806
        if not m.any():
            return np.zeros((out[1], out[0]), np.float32)
        return cv2.warpPerspective(m, Hp, out, flags=cv2.INTER_LINEAR, borderValue=0.0)


class InScreenSpace:
    """A perceiver whose Viewers come out in screen space: same process / reset / close."""

    def __init__(self, inner: Any, screen: Any) -> None:
        self.inner = inner
        self.mapping = ScreenMapping(screen)
        self._last: tuple[Viewer, Viewer] | None = None

    def process(self, frame: Frame) -> Viewer:
        viewer = self.inner.process(frame)
        if self._last is None or self._last[0] is not viewer:  # a repeated frame: the same answer
            self._last = (viewer, self.mapping(viewer))
        return self._last[1]

    def reset(self) -> None:
        self._last = None
        self.inner.reset()

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def in_screen_space(perceiver: Any, screen: Any) -> Any:
    """`perceiver` mapped by `screen` (cfg.room.screen), or unchanged where there is none."""
    return perceiver if screen is None else InScreenSpace(perceiver, screen)
