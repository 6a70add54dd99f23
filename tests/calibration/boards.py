"""Chessboard photos rendered through a known lens, for the camera step's tests.

Each board square is a polygon whose edges are subdivided before cv2.projectPoints, so the lens's
distortion bends them as a real lens would; squares are filled at 4× and averaged down (anti-aliased
edges), laid on a white paper margin over a real photograph, then blurred and given sensor noise.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np

SS = 4  # supersampling factor
SHIFT = 4  # fillPoly's fractional bits
EDGE_STEPS = 12  # points per square side, so distortion curves the edges


def background(size: tuple[int, int], name: str = "coffee.png") -> np.ndarray:
    """A real photograph (scikit-image's data) in grey, stretched to `size`: clutter for the detector."""
    spec = importlib.util.find_spec("skimage")
    assert spec and spec.submodule_search_locations
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / name
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    assert image is not None, path
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _outline(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    """A rectangle on the board plane as a closed polyline with EDGE_STEPS points per side."""
    t = np.linspace(0.0, 1.0, EDGE_STEPS, endpoint=False)
    sides = [
        np.c_[x0 + (x1 - x0) * t, np.full_like(t, y0)],
        np.c_[np.full_like(t, x1), y0 + (y1 - y0) * t],
        np.c_[x1 - (x1 - x0) * t, np.full_like(t, y1)],
        np.c_[np.full_like(t, x0), y1 - (y1 - y0) * t],
    ]
    pts = np.vstack(sides)
    return np.c_[pts, np.zeros(len(pts))]


def board_polygons(
    cols: int, rows: int, square: float, margin: float = 0.8
) -> tuple[np.ndarray, list[np.ndarray]]:
    """The paper outline and the black squares, on the plane, for a board of cols×rows inner corners."""
    paper = _outline(
        -(1 + margin) * square, -(1 + margin) * square, (cols + margin) * square, (rows + margin) * square
    )
    blacks = [
        _outline((i - 1) * square, (j - 1) * square, i * square, j * square)
        for j in range(rows + 1)
        for i in range(cols + 1)
        if (i + j) % 2 == 0
    ]
    return paper, blacks


def project(points: np.ndarray, rvec, tvec, K, dist) -> np.ndarray:
    out, _ = cv2.projectPoints(points.astype(np.float64), rvec, tvec, K, dist)
    return out.reshape(-1, 2)


def pose_at(K, dist, board: tuple[int, int], square: float, size, rng: np.random.Generator, tries: int = 200):
    """A random pose (tilted up to ~40°) whose whole paper lies inside the image, or AssertionError."""
    cols, rows = board
    paper, _ = board_polygons(cols, rows, square)
    centre = np.array([(cols - 1) * square / 2, (rows - 1) * square / 2, 0.0])
    for _ in range(tries):
        rvec = np.array([rng.uniform(-0.7, 0.7), rng.uniform(-0.7, 0.7), rng.uniform(-0.35, 0.35)])
        R, _ = cv2.Rodrigues(rvec)
        u, v = rng.uniform(0.2, 0.8) * size[0], rng.uniform(0.2, 0.8) * size[1]
        ray = np.linalg.solve(K, [u, v, 1.0])
        z = rng.uniform(0.35, 0.8)
        tvec = ray * z - R @ centre
        p = project(paper, rvec, tvec, K, dist)
        cam = (R @ paper.T).T + tvec
        if (
            cam[:, 2].min() > 0.05
            and p.min() > 8
            and (p[:, 0].max() < size[0] - 8)
            and p[:, 1].max() < size[1] - 8
        ):
            return rvec, tvec
    raise AssertionError("no pose found inside the image")


def render(
    K,
    dist,
    rvec,
    tvec,
    board: tuple[int, int],
    square: float,
    size: tuple[int, int],
    rng: np.random.Generator,
    blur: float = 0.6,
    noise: float = 2.5,
    back: np.ndarray | None = None,
) -> np.ndarray:
    """One grey photo (uint8, size = (w, h)) of the board at pose (rvec, tvec) through K and dist."""
    w, h = size
    paper, blacks = board_polygons(*board, square)
    base = back if back is not None else np.full((h, w), 110, np.uint8)
    hi = cv2.resize(base, (w * SS, h * SS), interpolation=cv2.INTER_NEAREST).astype(np.uint8)

    def poly(points: np.ndarray) -> np.ndarray:
        p = (project(points, rvec, tvec, K, dist) + 0.5) * SS - 0.5  # pixel centres kept
        return np.round(p * (1 << SHIFT)).astype(np.int32)

    white, black = int(rng.integers(190, 235)), int(rng.integers(15, 50))
    cv2.fillPoly(hi, [poly(paper)], white, cv2.LINE_8, SHIFT)
    cv2.fillPoly(hi, [poly(b) for b in blacks], black, cv2.LINE_8, SHIFT)
    image = cv2.resize(hi, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
    if blur > 0:
        image = cv2.GaussianBlur(image, (0, 0), blur)
    image += rng.normal(0.0, noise, image.shape).astype(np.float32)
    return np.clip(image + 0.5, 0, 255).astype(np.uint8)
