"""The camera step: lens intrinsics from a chessboard, saved as camera.json.

    python -m calibration camera --images "DIR/*.jpg" --board 9x6 --square 0.025
    python -m calibration camera --board 9x6 --square 0.025          # live, from the camera

A gallery's wide lens bends the room: people near the picture's edges look smaller and further than
they are. The intrinsics (focal length and centre in px, distortion coefficients) let the engine
straighten the picture before perception and turn a face's size into metres. The RMS reprojection
error says how well the model fits the views (below ~0.5 px is a good calibration); the worst views
are printed so a bad photo can be removed and the run repeated.
"""

from __future__ import annotations

import argparse
import glob
import math
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from calibration.camera_views import MAX_EDGE_PX, Board, View, edge_width, find_board, select
from calibration.files import CalibrationError, made_by, matrix, number, save

STEP = "camera"
MIN_VIEWS = 5
WORST_SHOWN = 3


@dataclass(frozen=True)
class CameraCalibration:
    """Intrinsics at `image_size` (w, h): K (3×3, px), dist (OpenCV's k1 k2 p1 p2 [k3 ...]), rms (px)."""

    K: tuple[tuple[float, float, float], ...]
    dist: tuple[float, ...]
    image_size: tuple[int, int]
    rms: float

    def matrix_for(self, size: tuple[int, int]) -> np.ndarray:
        """K for frames of another size (the camera delivering a scaled mode): focal and centre scale
        with the picture, pixel centres kept (x' + 0.5 = (x + 0.5) · s)."""
        sx, sy = size[0] / self.image_size[0], size[1] / self.image_size[1]
        K = np.array(self.K, np.float64)
        return np.array(
            [
                [K[0, 0] * sx, 0.0, (K[0, 2] + 0.5) * sx - 0.5],
                [0.0, K[1, 1] * sy, (K[1, 2] + 0.5) * sy - 0.5],
                [0, 0, 1],
            ]
        )

    def focal_px(self, size: tuple[int, int]) -> float:
        """The focal length (px) for frames of `size`: the mean of fx and fy there."""
        K = self.matrix_for(size)
        return float(math.sqrt(K[0, 0] * K[1, 1]))


def validate(data: dict, where: str) -> CameraCalibration:
    K = matrix(data, "camera_matrix", where, 3, 3)
    if not (K[0][0] > 0 and K[1][1] > 0):
        raise CalibrationError(
            f"{where}: camera_matrix focal lengths must be above 0, got {K[0][0]}, {K[1][1]}"
        )
    if K[2] != [0.0, 0.0, 1.0] or K[1][0] != 0.0:
        raise CalibrationError(f"{where}: camera_matrix must be [[fx, s, cx], [0, fy, cy], [0, 0, 1]]")
    dist = data.get("dist_coeffs")
    finite = isinstance(dist, list) and all(
        isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) for x in dist
    )
    if not (finite and len(dist) in (4, 5, 8, 12, 14)):
        raise CalibrationError(f"{where}: dist_coeffs must be a list of 4, 5, 8, 12 or 14 finite numbers")
    size = data.get("image_size")
    if not (isinstance(size, list) and len(size) == 2 and all(type(v) is int and v > 0 for v in size)):
        raise CalibrationError(f"{where}: image_size must be [width, height] in px, got {size!r}")
    if not (0 <= K[0][2] <= size[0] and 0 <= K[1][2] <= size[1]):
        raise CalibrationError(
            f"{where}: camera_matrix centre ({K[0][2]}, {K[1][2]}) lies outside image_size {size}"
        )
    rms = number(data, "rms_px", where, 0.0, 1000.0)
    return CameraCalibration(
        tuple(tuple(r) for r in K),
        tuple(float(x) for x in dist),
        (size[0], size[1]),
        rms,  # type: ignore[arg-type]
    )


def read_views(paths: list[str], board: Board) -> tuple[list[View], tuple[int, int]]:
    """Every photo's board; unreadable photos, photos of another size and none with a board stop the run."""
    views: list[View] = []
    size: tuple[int, int] | None = None
    for path in paths:
        image = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        if image is None:
            raise CalibrationError(f"{path}: unreadable image (not a picture OpenCV can open)")
        here = (image.shape[1], image.shape[0])
        if size is not None and here != size:
            raise CalibrationError(f"{path}: {here[0]}x{here[1]}, the other photos are {size[0]}x{size[1]}")
        size = here
        corners = find_board(image, board)
        if corners is None:
            print(f"  {Path(path).name}: no {board.cols}x{board.rows} board found")
            continue
        views.append(View(Path(path).name, corners, edge_width(image, board, corners)))
    if not views:
        raise CalibrationError(
            f"no {board.cols}x{board.rows} board found in any of the {len(paths)} photos "
            "(--board counts inner corners: a board of 10x7 squares is 9x6)"
        )
    assert size is not None
    return views, size


def calibrate(views: list[View], board: Board, size: tuple[int, int]) -> dict[str, Any]:
    """cv2.calibrateCamera over the views; camera.json's body, with every view's own RMS error."""
    if len(views) < MIN_VIEWS:
        raise CalibrationError(
            f"only {len(views)} usable view(s) of the board, at least {MIN_VIEWS} are needed "
            "(photograph it at more places and angles)"
        )
    obj = [board.object_points() for _ in views]
    img = [v.corners.reshape(-1, 1, 2).astype(np.float32) for v in views]
    rms, K, dist, rvecs, tvecs = cv2.calibrateCamera(obj, img, size, None, None)
    per_view = {}
    for v, o, r, t in zip(views, obj, rvecs, tvecs):
        projected, _ = cv2.projectPoints(o, r, t, K, dist)
        per_view[v.name] = float(
            np.sqrt(np.mean(np.sum((projected.reshape(-1, 2) - v.corners) ** 2, axis=1)))
        )
    return {
        "camera_matrix": K.tolist(),
        "dist_coeffs": dist.ravel().tolist(),
        "image_size": [int(size[0]), int(size[1])],
        "rms_px": float(rms),
        "view_errors_px": per_view,
        "board": {"inner_corners": [board.cols, board.rows], "square_m": board.square},
        "views": len(views),
    }


def report(body: dict[str, Any], rejected: list[tuple[str, str]]) -> None:
    K = body["camera_matrix"]
    for name, why in rejected:
        print(f"  {name}: skipped, {why}")
    print(
        f"camera: {body['views']} views, RMS reprojection error {body['rms_px']:.3f} px; "
        f"fx {K[0][0]:.1f} fy {K[1][1]:.1f} cx {K[0][2]:.1f} cy {K[1][2]:.1f} px at "
        f"{body['image_size'][0]}x{body['image_size'][1]}"
    )
    worst = sorted(body["view_errors_px"].items(), key=lambda kv: -kv[1])[:WORST_SHOWN]
    print("  worst views: " + ", ".join(f"{name} {err:.3f} px" for name, err in worst))


def run_photos(args: argparse.Namespace) -> int:
    board = Board.parse(args.board, args.square)
    paths = sorted(glob.glob(str(Path(args.images).expanduser())))
    if not paths:
        raise CalibrationError(f"--images {args.images!r}: no file matches")
    views, size = read_views(paths, board)
    kept, rejected = select(views, size, args.max_edge_px)
    body = calibrate(kept, board, size)
    report(body, rejected)
    how = [
        "camera",
        "--images",
        shlex.quote(args.images),
        "--board",
        args.board,
        "--square",
        f"{args.square:g}",
    ]
    path = save(args.room, STEP, made_by(how), body, validate)
    print(f"wrote {path}")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.images:
        return run_photos(args)
    from calibration.camera_live import run_live  # the window and the camera only when asked for

    return run_live(args)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("camera", help="lens intrinsics from chessboard photos or the live camera")
    p.add_argument("--images", help='photos of the board, a quoted glob: "DIR/*.jpg" (without: live camera)')
    p.add_argument("--board", default="9x6", help="inner corners COLSxROWS (default 9x6)")
    p.add_argument("--square", type=float, default=0.025, help="square side in metres (default 0.025)")
    p.add_argument("--max-edge-px", type=float, default=MAX_EDGE_PX, help="blur limit: widest edge in px")
    p.add_argument("--source", default="0", help="live: camera index (default 0)")
    p.add_argument("--size", default="1280x720", help="live: camera mode WxH (default 1280x720)")
    p.add_argument("--views", type=int, default=15, help="live: views to take before calibrating")
    p.set_defaults(func=run)
