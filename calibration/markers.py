"""Projected ArUco markers: the picture the projector shows, and the homography solved from a camera
photo of it — for rooms where the camera can see the wall.

The board is a grid of DICT_4X4_50 markers spread over the whole output, so the fit is constrained up
to the screen's edges. Every marker's four corners are known in screen pixels; the detector finds
them in the camera picture with sub-pixel refinement, and cv2.findHomography with RANSAC drops a
misread one. The residual printed is the RMS distance, in screen pixels, between where the fitted
homography sends each detected corner and where that corner was drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from calibration.files import CalibrationError
from calibration.screen import UNIT_SQUARE, apply_homography, body, normaliser

DICTIONARY = cv2.aruco.DICT_4X4_50
MODULES = 6  # a 4×4 code plus a one-module black border on each side
FILL = 0.7  # marker side / grid cell: the rest is white quiet zone the detector needs
MIN_MARKERS = 4
RANSAC_PX = 3.0  # screen pixels: a corner farther than this from the fit is a misread


@dataclass(frozen=True)
class Board:
    screen_size: tuple[int, int]
    image: np.ndarray  # H×W uint8, white with black markers, what the projector shows
    corners: dict[int, np.ndarray]  # marker id → 4×2 TL, TR, BR, BL in screen pixel(-centre) coords


@dataclass(frozen=True)
class Fit:
    homography_px: np.ndarray  # camera pixels → screen pixels
    image_size: tuple[int, int]
    found: int  # markers recognised
    used: int  # corners RANSAC kept
    residual_px: float  # RMS over the kept corners, screen pixels
    worst_px: float


def dictionary() -> Any:
    return cv2.aruco.getPredefinedDictionary(DICTIONARY)


def make_board(screen_size: tuple[int, int], cols: int | None = None, rows: int | None = None) -> Board:
    """A grid of markers over the screen: 8 across for a landscape output, as many rows as keep cells
    square. The side is a multiple of the 6 modules so every module is whole pixels (sharp edges)."""
    w, h = int(screen_size[0]), int(screen_size[1])
    cols = cols or (8 if w >= h else 5)
    rows = rows or max(2, round(cols * h / w))
    d = dictionary()
    if cols * rows > d.bytesList.shape[0]:
        raise CalibrationError(f"markers: a {cols}×{rows} grid needs more than the dictionary's markers")
    cell_w, cell_h = w / cols, h / rows
    k = int(min(cell_w, cell_h) * FILL) // MODULES
    if k < 2:
        raise CalibrationError(f"markers: a {w}×{h} screen is too small for a {cols}×{rows} marker grid")
    side = k * MODULES
    image = np.full((h, w), 255, np.uint8)
    corners: dict[int, np.ndarray] = {}
    for r in range(rows):
        for c in range(cols):
            i = r * cols + c
            x = int(round((c + 0.5) * cell_w - side / 2))
            y = int(round((r + 0.5) * cell_h - side / 2))
            image[y : y + side, x : x + side] = cv2.aruco.generateImageMarker(d, i, side, borderBits=1)
            x0, y0, x1, y1 = x - 0.5, y - 0.5, x + side - 0.5, y + side - 0.5  # the square's outer edge
            corners[i] = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)
    return Board((w, h), image, corners)


def detect(image: np.ndarray) -> dict[int, np.ndarray]:
    """Marker id → its 4×2 corners in camera pixels, sub-pixel refined."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    params = cv2.aruco.DetectorParameters()
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    params.cornerRefinementWinSize = 3
    found, ids, _ = cv2.aruco.ArucoDetector(dictionary(), params).detectMarkers(np.ascontiguousarray(gray))
    if ids is None:
        return {}
    return {int(i): np.asarray(c, np.float64).reshape(4, 2) for i, c in zip(ids.ravel(), found)}


def fit(image: np.ndarray, board: Board, where: str = "markers") -> Fit:
    """The camera→screen homography from one camera picture of the projected board."""
    seen = {i: c for i, c in detect(image).items() if i in board.corners}
    if len(seen) < MIN_MARKERS:
        raise CalibrationError(
            f"{where}: found {len(seen)} of the {len(board.corners)} projected markers (need "
            f"{MIN_MARKERS}): is the projection in the camera's view, in focus and not washed out?"
        )
    cam = np.concatenate([seen[i] for i in sorted(seen)])
    scr = np.concatenate([board.corners[i] for i in sorted(seen)])
    H, inliers = cv2.findHomography(cam, scr, cv2.RANSAC, RANSAC_PX)  # noqa: N806
    if H is None:
        raise CalibrationError(f"{where}: no homography fits the {len(seen)} markers found")
    keep = inliers.ravel().astype(bool)
    err = np.linalg.norm(apply_homography(H, cam[keep]) - scr[keep], axis=1)
    h, w = image.shape[:2]
    return Fit(H, (w, h), len(seen), int(keep.sum()), float(np.sqrt(np.mean(err**2))), float(err.max()))


def calibrate(
    image: np.ndarray,
    screen_size: tuple[int, int],
    camera_mirrored: bool,
    max_residual: float = 2.0,
    where: str = "markers",
) -> dict[str, Any]:
    """screen.json's content from a camera picture of the board shown on a screen of `screen_size`.

    A mirrored camera's picture is un-mirrored first: its markers would read as no markers at all,
    and the homography is kept in the camera's true picture like the manual one."""
    if camera_mirrored:
        image = np.ascontiguousarray(image[:, ::-1])
    board = make_board(screen_size)
    f = fit(image, board, where)
    print(
        f"markers: {f.found}/{len(board.corners)} found, {f.used} corners used; residual "
        f"{f.residual_px:.3f} px RMS, worst {f.worst_px:.3f} px (screen pixels)"
    )
    if f.residual_px > max_residual:
        raise CalibrationError(
            f"{where}: residual {f.residual_px:.2f} px is above --max-residual {max_residual} px "
            "(a moving camera, a curved wall, or the lens needs `python -m calibration camera` first)"
        )
    H = normaliser(screen_size) @ f.homography_px @ np.linalg.inv(normaliser(f.image_size))  # noqa: N806
    corners = apply_homography(np.linalg.inv(H), UNIT_SQUARE)
    return body(corners, f.image_size, screen_size, camera_mirrored, "markers", f.residual_px, where)


def read_photo(path: str | Path) -> np.ndarray:
    from engine.sources.base import SourceError
    from engine.sources.still import load_photo

    try:
        return load_photo(path, max_side=None)
    except SourceError as e:
        raise CalibrationError(f"{path}: {e}") from None


def write_png(path: str | Path, image: np.ndarray) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), image):
        raise CalibrationError(f"{path}: could not write the marker picture")
