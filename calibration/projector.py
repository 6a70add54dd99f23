"""projector.json: each output's corner-pin, mesh warp and soft-edge blend, and the command that edits it.

    python -m calibration projector [--output K] [--grid 5x4] [--blend left:0.15:2.2:0.03] [--windowed]
    python -m calibration projector --snapshot docs/calibration/projector.png   # the overlay, headless
    python -m calibration projector --no-window --blend right:0.2                # set numbers, no editor

One entry per output (a list): `corners` are where the picture's corners land, in output fractions
(top-left, top-right, bottom-right, bottom-left; (0, 0) is the output's top-left, so the numbers hold at
any resolution); `grid` is the N×M mesh of control points in the corner-pinned square
(calibration.projector_mesh); `blend` gives each overlapping side a ramp `width` (a fraction of the
picture), the projector's `gamma` and a `black` level lift for the part outside every overlap. The
engine draws entry `[run] display` (entry 0 when there is no such entry) as its last render pass
(engine.render.warp).
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from calibration import projector_mesh as mesh
from calibration.files import CalibrationError, load, made_by, matrix, number, save

STEP = "projector"
SIDES = ("left", "right", "top", "bottom")
DEFAULT_GRID = (4, 3)  # columns × rows of a fresh mesh
MAX_GRID = 33
ENTRY_KEYS = {"name", "corners", "grid", "blend"}


@dataclass(frozen=True)
class EdgeBlend:
    """One side's ramp: signal = (d / width) ** (1 / gamma) within `width` of that edge, so the light of
    two projectors' ramps over the same strip of picture adds up to one."""

    width: float = 0.0  # fraction of the picture, 0 = no blend on this side
    gamma: float = 2.2  # the projector's
    black: float = 0.0  # lift (signal) outside every overlap, to meet the overlap's doubled black


@dataclass(frozen=True)
class OutputWarp:
    corners: tuple[tuple[float, float], ...] = mesh.UNIT_CORNERS
    grid: tuple[tuple[tuple[float, float], ...], ...] = (((0.0, 0.0), (1.0, 0.0)), ((0.0, 1.0), (1.0, 1.0)))
    blend: tuple[EdgeBlend, ...] = (EdgeBlend(),) * 4  # left, right, top, bottom
    name: str = ""

    @classmethod
    def default(cls, cols: int = DEFAULT_GRID[0], rows: int = DEFAULT_GRID[1]) -> OutputWarp:
        return cls(grid=grid_tuples(mesh.default_grid(cols, rows)))

    @property
    def size(self) -> tuple[int, int]:
        """(columns, rows) of the control grid."""
        return len(self.grid[0]), len(self.grid)

    def grid_array(self) -> np.ndarray:
        return np.asarray(self.grid, np.float64)

    def homography(self) -> np.ndarray:
        return mesh.homography(self.corners)

    def with_grid(self, grid: np.ndarray) -> OutputWarp:
        return replace(self, grid=grid_tuples(grid))

    def is_identity(self) -> bool:
        """Full-frame corners, a flat mesh and no blend: the picture as it is (the engine skips the pass)."""
        cols, rows = self.size
        flat = np.allclose(self.grid_array(), mesh.default_grid(cols, rows), atol=1e-9)
        pin = np.allclose(self.corners, mesh.UNIT_CORNERS, atol=1e-9)
        return flat and pin and all(b.width == 0 for b in self.blend)

    def to_json(self) -> dict[str, Any]:
        cols, rows = self.size
        body: dict[str, Any] = {"name": self.name} if self.name else {}
        body["corners"] = [list(c) for c in self.corners]
        body["grid"] = {"cols": cols, "rows": rows, "points": [list(p) for row in self.grid for p in row]}
        body["blend"] = {s: vars(b).copy() for s, b in zip(SIDES, self.blend) if b.width > 0}
        return body


@dataclass(frozen=True)
class ProjectorCalibration:
    outputs: tuple[OutputWarp, ...]

    def for_output(self, index: int) -> OutputWarp:
        """The entry for output `index` ([run] display); entry 0 when the file has none for it."""
        return self.outputs[index] if 0 <= index < len(self.outputs) else self.outputs[0]


def grid_tuples(grid: np.ndarray) -> tuple[tuple[tuple[float, float], ...], ...]:
    """A rows × cols × 2 array as the frozen dataclass holds it."""
    return tuple(tuple((float(p[0]), float(p[1])) for p in row) for row in np.asarray(grid))


def _at(value: Any, key: str) -> dict[str, Any]:
    """A one-key mapping, so the shared field checks name a nested key by its whole path."""
    return {key: value}


def _count(data: dict, key: str, where: str, path: str) -> int:
    v = data.get(key)
    if isinstance(v, bool) or not isinstance(v, int) or not 2 <= v <= MAX_GRID:
        raise CalibrationError(f"{where}: {path}.{key} must be a whole number 2..{MAX_GRID}, got {v!r}")
    return v


def _corners(entry: dict, where: str, at: str) -> tuple[tuple[float, float], ...]:
    rows = matrix(_at(entry.get("corners"), f"{at}.corners"), f"{at}.corners", where, 4, 2)
    for k, (x, y) in enumerate(rows):
        if not (-1.0 <= x <= 2.0 and -1.0 <= y <= 2.0):
            raise CalibrationError(
                f"{where}: {at}.corners[{k}] = {[x, y]} is outside -1..2 (output fractions)"
            )
    turns = mesh.quad_turns(rows)
    if not (np.all(turns > 1e-6) or np.all(turns < -1e-6)):
        raise CalibrationError(
            f"{where}: {at}.corners is not a convex quadrilateral (order: top-left, top-right, "
            "bottom-right, bottom-left; no three on one line)"
        )
    return tuple((x, y) for x, y in rows)


def _grid(entry: dict, where: str, at: str) -> np.ndarray:
    g = entry.get("grid")
    if g is None:
        return mesh.default_grid(2, 2)  # no mesh: the corner pin alone
    if not isinstance(g, dict):
        raise CalibrationError(f"{where}: {at}.grid must be an object with cols, rows and points")
    cols, rows = _count(g, "cols", where, f"{at}.grid"), _count(g, "rows", where, f"{at}.grid")
    points = g.get("points")
    if isinstance(points, list) and len(points) != cols * rows:
        raise CalibrationError(
            f"{where}: {at}.grid.points has {len(points)} points; "
            f"cols × rows = {cols} × {rows} needs {cols * rows}"
        )
    pts = np.asarray(matrix(_at(points, f"{at}.grid.points"), f"{at}.grid.points", where, cols * rows, 2))
    if np.any(pts < -0.5) or np.any(pts > 1.5):
        k = int(np.argwhere(np.any((pts < -0.5) | (pts > 1.5), axis=1))[0, 0])
        raise CalibrationError(f"{where}: {at}.grid.points[{k}] is outside -0.5..1.5 (the pinned square)")
    grid = pts.reshape(rows, cols, 2)
    fold = mesh.first_fold(grid)
    if fold is not None:
        kind, c, r = fold
        what = "cell" if kind == "cell" else "the curve between the points around cell"
        raise CalibrationError(
            f"{where}: {at}.grid folds over itself at {what} (column {c}, row {r} from the top-left): "
            "every cell must stay a convex quad oriented like the picture"
        )
    return grid


def _blend(entry: dict, where: str, at: str) -> tuple[EdgeBlend, ...]:
    b = entry.get("blend", {})
    if not isinstance(b, dict):
        raise CalibrationError(f"{where}: {at}.blend must be an object with keys among {', '.join(SIDES)}")
    out = []
    for side in SIDES:
        s = b.get(side)
        if s is None:
            out.append(EdgeBlend())
            continue
        p = f"{at}.blend.{side}"
        if not isinstance(s, dict) or set(s) - {"width", "gamma", "black"}:
            raise CalibrationError(f"{where}: {p} must be an object with width, gamma, black")
        out.append(
            EdgeBlend(
                number(_at(s.get("width"), f"{p}.width"), f"{p}.width", where, 0.0, 0.5),
                number(_at(s.get("gamma", 2.2), f"{p}.gamma"), f"{p}.gamma", where, 0.5, 5.0),
                number(_at(s.get("black", 0.0), f"{p}.black"), f"{p}.black", where, 0.0, 0.5),
            )
        )
    extra = set(b) - set(SIDES)
    if extra:
        raise CalibrationError(f"{where}: {at}.blend.{sorted(extra)[0]} is not a side ({', '.join(SIDES)})")
    return tuple(out)


def validate_entry(entry: Any, where: str, at: str) -> OutputWarp:
    if not isinstance(entry, dict):
        raise CalibrationError(f"{where}: {at} must be an object with corners, grid and blend")
    extra = set(entry) - ENTRY_KEYS
    if extra:
        raise CalibrationError(f"{where}: {at}.{sorted(extra)[0]} is not a key (one of {sorted(ENTRY_KEYS)})")
    name = entry.get("name", "")
    if not isinstance(name, str):
        raise CalibrationError(f"{where}: {at}.name must be a string")
    corners = _corners(entry, where, at)
    grid = _grid(entry, where, at)
    return OutputWarp(corners, grid_tuples(grid), _blend(entry, where, at), name)


def validate(data: dict, where: str) -> ProjectorCalibration:
    outputs = data.get("outputs")
    if not isinstance(outputs, list) or not outputs:
        raise CalibrationError(f"{where}: outputs must be a non-empty list, one entry per output")
    return ProjectorCalibration(
        tuple(validate_entry(e, where, f"outputs[{i}]") for i, e in enumerate(outputs))
    )


def save_entry(room: Path, index: int, entry: OutputWarp, argv: list[str] | None = None) -> Path:
    """Write `entry` as output `index`, keeping the file's other outputs; validated before anything is
    written (a folded mesh raises CalibrationError and yesterday's file stays)."""
    old = load(room, STEP, validate)
    outputs = list(old.outputs) if old is not None else []
    outputs += [OutputWarp.default(2, 2)] * (index + 1 - len(outputs))
    outputs[index] = entry
    return save(room, STEP, made_by(argv), {"outputs": [o.to_json() for o in outputs]}, validate)


# ------------------------------------------------------------------ the command
def _grid_arg(text: str) -> tuple[int, int]:
    try:
        cols, rows = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--grid {text!r}: expected COLSxROWS, e.g. 5x4") from None
    if not (2 <= cols <= MAX_GRID and 2 <= rows <= MAX_GRID):
        raise argparse.ArgumentTypeError(f"--grid {text!r}: columns and rows must be 2..{MAX_GRID}")
    return cols, rows


def _blend_arg(text: str) -> tuple[str, EdgeBlend]:
    side, *nums = text.split(":")
    try:
        values = [float(v) for v in nums]
    except ValueError:
        values = []
    if side not in SIDES or not 1 <= len(values) <= 3 or not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(
            f"--blend {text!r}: expected SIDE:WIDTH[:GAMMA[:BLACK]], SIDE in {SIDES}"
        )
    return side, EdgeBlend(*values)


def _size_arg(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--size {text!r}: expected WxH, e.g. 1920x1080") from None
    if not (16 <= w <= 16384 and 16 <= h <= 16384):
        raise argparse.ArgumentTypeError(f"--size {text!r}: each side must be 16..16384")
    return w, h


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("projector", help="corner-pin, mesh warp and edge blend of one output (window editor)")
    p.add_argument("--output", type=int, default=0, help="the projector.json entry to edit ([run] display)")
    p.add_argument("--display", type=int, help="the screen the editor opens on (default: --output)")
    p.add_argument("--grid", type=_grid_arg, help="mesh control points COLSxROWS (keeps the saved shape)")
    p.add_argument(
        "--blend", type=_blend_arg, action="append", default=[], metavar="SIDE:WIDTH[:GAMMA[:BLACK]]"
    )
    p.add_argument(
        "--size",
        type=_size_arg,
        default="1280x720",
        help="window or snapshot size WxH (fullscreen: the display's)",
    )
    p.add_argument("--windowed", action="store_true", help="a window instead of fullscreen")
    p.add_argument(
        "--snapshot", type=Path, help="render the editor overlay headless to this PNG, save nothing"
    )
    p.add_argument("--no-window", action="store_true", help="apply --grid/--blend and save, no editor")
    p.set_defaults(func=run)


def starting_entry(args: argparse.Namespace) -> OutputWarp:
    """The saved entry (or a fresh one) with the command line's --grid and --blend applied."""
    old = load(args.room, STEP, validate)  # a bad file stops here: one line, nothing touched
    entry = old.outputs[args.output] if old is not None and args.output < len(old.outputs) else None
    entry = entry or OutputWarp.default()
    if args.grid and args.grid != entry.size:
        entry = entry.with_grid(mesh.resample(entry.grid_array(), *args.grid))
    if args.blend:
        blend = dict(zip(SIDES, entry.blend)) | dict(args.blend)
        entry = replace(entry, blend=tuple(blend[s] for s in SIDES))
    validate_entry(entry.to_json(), "--grid/--blend", f"outputs[{args.output}]")
    return entry


def run(args: argparse.Namespace) -> int:
    if args.output < 0:
        raise CalibrationError(f"--output {args.output}: must be 0 or more")
    entry = starting_entry(args)
    size = args.size
    if args.snapshot is not None:
        from calibration.projector_window import snapshot

        print(f"wrote {snapshot(entry, size, args.snapshot)}")
        return 0
    if args.no_window:
        print(f"wrote {save_entry(args.room, args.output, entry)}")
        return 0
    from calibration.projector_window import edit

    display = args.output if args.display is None else args.display
    return edit(entry, lambda e: save_entry(args.room, args.output, e), size, display, not args.windowed)
