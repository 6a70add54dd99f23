"""Chessboard views for the camera step: finding a board, judging it, and choosing which views to keep.

A calibration is only as good as its views: one blurred photo drags every number, and ten photos of
the same pose teach the solver nothing about the lens's edges. So each view is judged before it is
used: its sharpness (the width of the board's black/white edges, cv2.estimateChessboardSharpness,
which does not depend on what else is in the picture) and its novelty (how far its corners lie from
every view already kept). `ViewPicker` holds the same rules for the live camera, plus stillness (a
view is taken by itself once the board has been held still) and the image coverage it shows.
It is pure: corners and times in, decisions out, so it is tested without a camera or a window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from calibration.files import CalibrationError

MAX_EDGE_PX = 5.0  # an edge wider than this (px, 10–90 % rise) is a blurred view; sharp photos: ~1.5–3
DUPLICATE = 0.01  # photos whose corners lie within 1 % of the image diagonal of a kept view: duplicates
LIVE_NOVELTY = 0.05  # the live view takes a new view only 5 % of the diagonal away from every kept one
SUBPIX = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 40, 0.001)


@dataclass(frozen=True)
class Board:
    """A chessboard by its inner corners (9x6 for a board of 10×7 squares) and its square side (m)."""

    cols: int
    rows: int
    square: float

    @classmethod
    def parse(cls, text: str, square: float) -> Board:
        try:
            cols, rows = (int(v) for v in text.lower().split("x"))
        except ValueError:
            raise CalibrationError(
                f"--board {text!r}: expected inner corners as COLSxROWS, e.g. 9x6"
            ) from None
        if min(cols, rows) < 3 or cols == rows:
            raise CalibrationError(
                f"--board {text}: needs at least 3 inner corners each way, and a different count across "
                "and down (a square board's orientation is ambiguous)"
            )
        if not (math.isfinite(square) and square > 0):
            raise CalibrationError(f"--square {square}: the square side in metres must be above 0")
        return cls(cols, rows, square)

    @property
    def size(self) -> tuple[int, int]:
        return (self.cols, self.rows)

    def object_points(self) -> np.ndarray:
        """The inner corners on the board's plane (z = 0), in metres, in OpenCV's row-major order."""
        grid = np.mgrid[0 : self.cols, 0 : self.rows].T.reshape(-1, 2)
        return np.hstack([grid * self.square, np.zeros((len(grid), 1))]).astype(np.float32)


@dataclass(frozen=True)
class View:
    """One image's board: sub-pixel corners (N × 2 px) and how sharp its edges are (px)."""

    name: str
    corners: np.ndarray
    edge_px: float


def gray_of(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY if image.shape[2] == 3 else cv2.COLOR_BGRA2GRAY)


def find_board(gray: np.ndarray, board: Board, fast: bool = False) -> np.ndarray | None:
    """The board's inner corners (N × 2, sub-pixel) or None. The classic detector with cornerSubPix
    first (fast, and `fast` lets a live frame with no board cost ~2 ms); the sector-based detector
    (findChessboardCornersSB) when that misses, since it copes with blur and uneven light."""
    flags = cv2.CALIB_CB_ADAPTIVE_THRESH | cv2.CALIB_CB_NORMALIZE_IMAGE | (cv2.CALIB_CB_FAST_CHECK * fast)
    found, corners = cv2.findChessboardCorners(gray, board.size, flags=flags)
    if found:
        # the search window: a third of the smallest square side, so it never reaches the next corner
        c = corners.reshape(board.rows, board.cols, 2)
        side = min(
            np.linalg.norm(np.diff(c, axis=1), axis=2).min(), np.linalg.norm(np.diff(c, axis=0), axis=2).min()
        )
        win = int(max(2, min(11, side / 3)))
        corners = cv2.cornerSubPix(gray, corners, (win, win), (-1, -1), SUBPIX)
        return corners.reshape(-1, 2)
    if fast:
        return None
    found, corners = cv2.findChessboardCornersSB(gray, board.size, flags=cv2.CALIB_CB_ACCURACY)
    return corners.reshape(-1, 2) if found else None


def edge_width(gray: np.ndarray, board: Board, corners: np.ndarray) -> float:
    """Mean width of the board's edges in px (cv2.estimateChessboardSharpness): ~1.5–3 sharp, >5 blurred."""
    value = cv2.estimateChessboardSharpness(gray, board.size, corners.reshape(-1, 1, 2).astype(np.float32))
    return float(value[0][0])


def difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean corner distance (px) between two views of the same board. A board turned half round is
    found with its corners in reverse order, so both orders are tried."""
    return float(min(np.linalg.norm(a - b, axis=1).mean(), np.linalg.norm(a - b[::-1], axis=1).mean()))


def diagonal(size: tuple[int, int]) -> float:
    return math.hypot(*size)


def select(
    views: list[View], size: tuple[int, int], max_edge_px: float = MAX_EDGE_PX, novelty: float = DUPLICATE
):
    """Split views into (kept, rejected); rejected holds (name, reason) in the views' order."""
    kept: list[View] = []
    rejected: list[tuple[str, str]] = []
    for v in views:
        if not v.edge_px <= max_edge_px:
            rejected.append((v.name, f"blurred (edges {v.edge_px:.1f} px wide, at most {max_edge_px:g})"))
            continue
        near = min(kept, key=lambda k: difference(v.corners, k.corners), default=None)
        if near is not None and difference(v.corners, near.corners) < novelty * diagonal(size):
            rejected.append((v.name, f"a near-duplicate of {near.name}"))
            continue
        kept.append(v)
    return kept, rejected


@dataclass
class Decision:
    """What the live view shows for one frame: a one-line state, how still the board has been (0..1),
    and whether this frame's view was taken."""

    state: str
    hold: float = 0.0
    taken: bool = False


@dataclass
class ViewPicker:
    """Takes a view by itself when the board has been held still and is new; counts image coverage.

    still_px: largest corner movement (px) that still counts as held still; still_s: for how long.
    novelty: fraction of the image diagonal a view's corners must lie from every view taken.
    grid: (cols, rows) of cells the image is divided into for the coverage shown on screen.
    """

    size: tuple[int, int]
    still_px: float = 3.0
    still_s: float = 0.5
    novelty: float = LIVE_NOVELTY
    max_edge_px: float = MAX_EDGE_PX
    grid: tuple[int, int] = (8, 6)
    views: list[np.ndarray] = field(default_factory=list)
    cells: np.ndarray = field(init=False)
    _anchor: np.ndarray | None = None
    _since: float = 0.0

    def __post_init__(self) -> None:
        self.cells = np.zeros((self.grid[1], self.grid[0]), np.int32)

    @property
    def coverage(self) -> float:
        """Fraction of the grid's cells holding a corner of a taken view."""
        return float(np.count_nonzero(self.cells)) / self.cells.size

    def update(self, corners: np.ndarray | None, t: float, edge_px: float = 0.0) -> Decision:
        """One frame's board (None: not found) at capture time `t` (s)."""
        if corners is None:
            self._anchor = None
            return Decision("no board in view")
        if self._anchor is None or np.abs(corners - self._anchor).max() > self.still_px:
            self._anchor, self._since = corners.copy(), t  # moved: stillness starts again from here
        hold = min(1.0, (t - self._since) / self.still_s) if self.still_s > 0 else 1.0
        near = min((difference(corners, v) for v in self.views), default=math.inf)
        if near < self.novelty * diagonal(self.size):
            return Decision("too close to a view taken: move the board", hold)
        if edge_px > self.max_edge_px:
            return Decision(f"blurred (edges {edge_px:.1f} px): more light, or hold steadier", hold)
        if hold < 1.0:
            return Decision("hold still", hold)
        self.take(corners)
        return Decision(f"view {len(self.views)} taken", 1.0, taken=True)

    def take(self, corners: np.ndarray) -> None:
        self.views.append(corners.copy())
        gx, gy = self.grid
        w, h = self.size
        cx = np.clip((corners[:, 0] * gx / w).astype(int), 0, gx - 1)
        cy = np.clip((corners[:, 1] * gy / h).astype(int), 0, gy - 1)
        np.add.at(self.cells, (cy, cx), 1)

    def undo(self) -> None:
        """Forget the last view taken (a view the artist saw was bad)."""
        if not self.views:
            return
        self.views.pop()
        self.cells[:] = 0
        kept, self.views = self.views, []
        for v in kept:
            self.take(v)
