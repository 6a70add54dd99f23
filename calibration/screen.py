"""screen: which part of the camera's picture lands on which part of the screen (screen.json).

The camera rarely sees what the viewer sees: it sits beside or above the screen and looks at the
audience at an angle, so a silhouette drawn straight from its picture lands beside the person it
belongs to. A homography from the camera's picture to the screen, applied to the mask, the skeleton
and the x/y features (engine/perception/screen_space.py), puts it back where the viewer stands.

    python -m calibration screen                       # drag the four corners over the live picture
    python -m calibration screen --corners "0.1,0.2 0.9,0.2 0.95,0.9 0.05,0.9"   # typed instead
    python -m calibration screen --markers             # project ArUco markers, solve by itself
    python -m calibration screen --from-image PHOTO    # a photo of the projected markers
    python -m calibration screen --write-markers board.png   # the marker picture to project

Coordinates are normalised 0..1 (x right, y down, pixel edges at 0 and 1) in the camera's *true*
picture: a camera that mirrors its own picture is declared with `camera_mirrored` and un-mirrored
first, so that the homography never holds a flip; the scene's `mirror` uniform stays the one place
that decides whether the wall behaves like a mirror.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from calibration.files import CalibrationError, made_by, matrix, number, path_for, save

STEP = "screen"
UNIT_SQUARE = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])  # TL, TR, BR, BL of the screen
CORNER_RANGE = (-1.0, 2.0)  # a screen may reach past the camera's view (markers), not absurdly far
MIN_SINE = 0.01  # a corner's angle within ~0.6° of straight: three corners (nearly) in a line
MAX_CONDITION = 1e6  # of the normalised homography: beyond it the mapping is numerically singular
MATCH_TOL = 1e-3  # corners must map onto the screen's corners this closely (a hand-edited file)
METHODS = ("manual", "markers")


@dataclass(frozen=True)
class ScreenCalibration:
    """screen.json, validated. `homography` maps camera (normalised) to screen (normalised)."""

    corners: tuple[tuple[float, float], ...]  # TL, TR, BR, BL of the screen in the camera picture
    image_size: tuple[int, int]  # the camera picture it was made on, [w, h]
    screen_size: tuple[int, int]  # the output it maps onto, [w, h]: its aspect shapes the warped mask
    homography: tuple[tuple[float, ...], ...]
    camera_mirrored: bool = False
    method: str = "manual"
    residual_px: float | None = None  # markers: RMS fit error over the marker corners, screen pixels

    @property
    def H(self) -> np.ndarray:  # noqa: N802 - the usual name of a homography
        return np.array(self.homography, np.float64)

    def to_screen(self, points: np.ndarray) -> np.ndarray:
        """Camera-normalised N×2 points to screen-normalised ones."""
        return apply_homography(self.H, points)


# ------------------------------------------------------------------------------------- the maths
def apply_homography(H: np.ndarray, points: np.ndarray) -> np.ndarray:  # noqa: N803
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    p = np.c_[pts, np.ones(len(pts))] @ np.asarray(H, np.float64).T
    with np.errstate(divide="ignore", invalid="ignore"):
        return p[:, :2] / p[:, 2:3]


def homography_from_corners(corners: np.ndarray) -> np.ndarray:
    """The 3×3 that takes the four corners (TL, TR, BR, BL) to the unit square, solved in float64
    (cv2.getPerspectiveTransform takes float32 points: ~1e-7 of the frame, visible at 4K)."""
    src = np.asarray(corners, np.float64).reshape(4, 2)
    a, b = [], []
    for (x, y), (u, v) in zip(src, UNIT_SQUARE):
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        b += [u, v]
    h = np.linalg.solve(np.array(a), np.array(b))
    return np.append(h, 1.0).reshape(3, 3)


def normaliser(size: tuple[int, int]) -> np.ndarray:
    """Pixel (centre) coordinates → normalised 0..1 coordinates whose 0 and 1 are the image's edges."""
    w, h = size
    return np.array([[1.0 / w, 0.0, 0.5 / w], [0.0, 1.0 / h, 0.5 / h], [0.0, 0.0, 1.0]])


def pixel_homography(H: np.ndarray, src: tuple[int, int], dst: tuple[int, int]) -> np.ndarray:  # noqa: N803
    """A normalised homography as one between pixel grids of the given sizes (for cv2.warpPerspective)."""
    return np.linalg.inv(normaliser(dst)) @ np.asarray(H, np.float64) @ normaliser(src)


def check_quad(corners: np.ndarray, where: str, key: str = "corners") -> None:
    """Four corners that can be a screen: no three in a line, convex, and running clockwise in the
    picture (TL→TR→BR→BL, y down); counter-clockwise would hide a mirror flip in the mapping."""
    c = np.asarray(corners, np.float64).reshape(4, 2)
    edges = np.roll(c, -1, axis=0) - c
    after = np.roll(edges, -1, axis=0)
    turns = edges[:, 0] * after[:, 1] - edges[:, 1] * after[:, 0]
    lengths = np.linalg.norm(edges, axis=1)
    if lengths.min() < 1e-4 or np.min(np.abs(turns) / (lengths * np.roll(lengths, -1))) < MIN_SINE:
        raise CalibrationError(f"{where}: {key} are degenerate: three of them lie (nearly) on one line")
    if not (np.all(turns > 0) or np.all(turns < 0)):
        raise CalibrationError(f"{where}: {key} do not form a convex quad (two corners crossed over?)")
    if np.all(turns < 0):
        raise CalibrationError(
            f"{where}: {key} run counter-clockwise (TL, TR, BR, BL expected): a mirrored camera is "
            "declared with camera_mirrored, not by swapping corners"
        )


def check_homography(H: np.ndarray, where: str) -> None:  # noqa: N803
    if abs(np.linalg.det(H)) < 1e-12 or np.linalg.cond(H) > MAX_CONDITION:
        raise CalibrationError(f"{where}: homography is (nearly) singular: it flattens the picture")


# ------------------------------------------------------------------------------- file ↔ object
def body(
    corners: np.ndarray,
    image_size: tuple[int, int],
    screen_size: tuple[int, int],
    camera_mirrored: bool,
    method: str = "manual",
    residual_px: float | None = None,
    where: str = "screen.json",
) -> dict[str, Any]:
    """What screen.json holds (less the envelope); the homography follows from the corners."""
    c = np.round(np.asarray(corners, np.float64).reshape(4, 2), 6)  # as stored: H agrees exactly
    check_quad(c, where)
    out: dict[str, Any] = {
        "method": method,
        "corners": [[float(x), float(y)] for x, y in c],
        "image_size": [int(image_size[0]), int(image_size[1])],
        "screen_size": [int(screen_size[0]), int(screen_size[1])],
        "homography": [[float(v) for v in row] for row in homography_from_corners(c)],
        "camera_mirrored": bool(camera_mirrored),
    }
    if residual_px is not None:
        out["residual_px"] = round(float(residual_px), 4)
    return out


def _size(data: dict, key: str, where: str) -> tuple[int, int]:
    v = data.get(key)
    ok = (
        isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) and not isinstance(x, bool) for x in v)
    )
    if not ok or not all(16 <= x <= 16384 for x in v):
        raise CalibrationError(f"{where}: {key} must be [width, height] in pixels (16..16384), got {v!r}")
    return int(v[0]), int(v[1])


def validate(data: dict, where: str) -> ScreenCalibration:
    corners = np.array(matrix(data, "corners", where, 4, 2))
    if corners.min() < CORNER_RANGE[0] or corners.max() > CORNER_RANGE[1]:
        raise CalibrationError(f"{where}: corners must lie within {CORNER_RANGE[0]}..{CORNER_RANGE[1]}")
    check_quad(corners, where)
    H = np.array(matrix(data, "homography", where, 3, 3))  # noqa: N806
    check_homography(H, where)
    if not np.allclose(apply_homography(H, corners), UNIT_SQUARE, atol=MATCH_TOL):
        raise CalibrationError(
            f"{where}: homography does not take the corners to the screen's corners (edited by hand?); "
            "run `python -m calibration screen` again"
        )
    mirrored = data.get("camera_mirrored", False)
    if not isinstance(mirrored, bool):
        raise CalibrationError(f"{where}: camera_mirrored must be true or false, got {mirrored!r}")
    method = data.get("method", "manual")
    if method not in METHODS:
        raise CalibrationError(f"{where}: method must be one of {', '.join(METHODS)}, got {method!r}")
    residual = number(data, "residual_px", where, 0.0) if "residual_px" in data else None
    return ScreenCalibration(
        corners=tuple((float(x), float(y)) for x, y in corners),
        image_size=_size(data, "image_size", where),
        screen_size=_size(data, "screen_size", where),
        homography=tuple(tuple(float(v) for v in row) for row in H),
        camera_mirrored=mirrored,
        method=method,
        residual_px=residual,
    )


def save_screen(room: Path, content: dict[str, Any]) -> Path:
    return save(room, STEP, made_by(), content, validate)


# ----------------------------------------------------------------------------------------- CLI
def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' must look like 1280x720") from None
    return w, h


def parse_corners(text: str) -> np.ndarray:
    """ "x,y x,y x,y x,y" (TL TR BR BL, normalised) → 4×2."""
    try:
        pts = [[float(v) for v in p.split(",")] for p in text.replace(";", " ").split()]
        arr = np.array(pts, np.float64)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--corners '{text}': expected four 'x,y' pairs") from None
    if arr.shape != (4, 2):
        raise argparse.ArgumentTypeError(f"--corners '{text}': expected four 'x,y' pairs (TL TR BR BL)")
    return arr


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("screen", help="register the camera to the screen (screen.json)")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--markers", action="store_true", help="project ArUco markers and solve by itself")
    how.add_argument("--from-image", metavar="PHOTO", help="a camera photo of the projected markers")
    how.add_argument("--corners", type=parse_corners, help="'x,y x,y x,y x,y' TL TR BR BL, 0..1")
    how.add_argument("--write-markers", metavar="PNG", help="write the marker picture and stop")
    p.add_argument("--source", default="0", help="camera index or video/image (default 0)")
    p.add_argument("--screen", type=parse_size, default=(1280, 720), help="output size WxH (1280x720)")
    p.add_argument("--image-size", type=parse_size, help="camera picture WxH, for --corners (640x480)")
    p.add_argument(
        "--camera-mirrored",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the camera mirrors its own picture (default: as saved before, else no)",
    )
    p.add_argument("--max-residual", type=float, default=2.0, help="markers: largest RMS px to save")
    p.add_argument("--fullscreen", action="store_true", help="the window fullscreen (on the projector)")
    p.add_argument("--display", type=int, default=0, help="display index for the window")
    p.set_defaults(func=run)


def previous(room: Path) -> ScreenCalibration | None:
    """What is saved now, if it reads: the editor starts from it, and the mirror flag carries over."""
    from calibration.files import load

    try:
        return load(room, STEP, validate)
    except CalibrationError:
        return None


def straightener(room: Path) -> Callable[[np.ndarray], np.ndarray]:
    """The room's lens correction (camera.json) as the engine applies it before perception, so the
    corners live in the same picture perception sees; the identity without camera.json."""
    from calibration.files import load

    try:
        from calibration.camera import validate as camera_validate
        from calibration.undistort import Undistort
    except ModuleNotFoundError:
        return lambda image: image
    cal = load(room, "camera", camera_validate)
    return (lambda image: image) if cal is None else Undistort(cal).frame


def run(args: argparse.Namespace) -> int:
    from calibration import markers

    if args.write_markers:
        board = markers.make_board(args.screen)
        markers.write_png(args.write_markers, board.image)
        print(f"wrote {args.write_markers}: {len(board.corners)} ArUco markers for a {args.screen} screen")
        return 0
    before = previous(args.room)
    mirrored = args.camera_mirrored
    if mirrored is None:
        mirrored = before.camera_mirrored if before is not None else False
    if args.from_image:
        photo = straightener(args.room)(markers.read_photo(args.from_image))
        content = markers.calibrate(photo, args.screen, mirrored, args.max_residual, args.from_image)
    elif args.corners is not None:
        where = str(path_for(args.room, STEP))
        content = body(args.corners, args.image_size or (640, 480), args.screen, mirrored, where=where)
    else:
        from calibration import screen_ui

        if args.markers:
            content = screen_ui.live_markers(args, mirrored)
        else:
            content = screen_ui.live_manual(args, before, mirrored)
        if content is None:
            print("left without saving; screen.json unchanged")
            return 0
    path = save_screen(args.room, content)
    residual = f", residual {content['residual_px']:.3f} px" if "residual_px" in content else ""
    print(f"saved {path} ({content['method']}, camera_mirrored={content['camera_mirrored']}{residual})")
    return 0
