"""The projector editor's state: which point is selected, where the points are, what S, R and Esc do.

Pure logic driven by events (key names as pygame spells them, mouse positions in output pixels, top-left
origin), so tests drive it headless with synthetic events; calibration.projector_window is the thin
window loop and the GL drawing on top.

Two sets of points: the 4 corners of the corner pin and the N×M mesh points (M switches). A mesh point
is moved in output pixels like a corner, and stored back in the pinned square through the inverse pin,
so moving a corner later carries the mesh with it.
Keys: drag with the mouse; arrows nudge 1 px (Shift: 10 px); Tab / Shift+Tab cycle points; M corners ↔
mesh; S saves (and editing goes on); R resets the points being edited (corners: the full output; mesh:
flat); Esc leaves (anything not saved is dropped; the file stays as it was).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from calibration import projector_mesh as mesh
from calibration.files import CalibrationError
from calibration.projector import OutputWarp, grid_tuples, validate_entry

PICK_PX = 24.0  # a click this close to a point grabs it
NUDGE = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}


class Editor:
    def __init__(
        self, entry: OutputWarp, size: tuple[int, int], save: Callable[[OutputWarp], Path | str]
    ) -> None:
        self.size = (int(size[0]), int(size[1]))
        self._save = save
        self._template = entry  # name and blend ride along unchanged
        self.corners = np.array(entry.corners, np.float64)
        self.grid = entry.grid_array().copy()
        self.mode = "corners"  # or "mesh"
        self.selected = 0
        self.dragging = False
        self._grab = np.zeros(2)  # point minus mouse at the grab, so a point never jumps to the cursor
        self.result: str | None = None  # "left" once Esc was pressed
        self.saves = 0
        self.message = ""
        self.shown = entry  # the last valid state: what the window draws while an edit is invalid
        self._problem = ""
        self._refresh()

    # ------------------------------------------------------------------ what the window reads
    @property
    def entry(self) -> OutputWarp:
        corners = tuple((float(x), float(y)) for x, y in self.corners)
        return replace(self._template, corners=corners, grid=grid_tuples(self.grid))

    @property
    def problem(self) -> str:
        """Why the current points cannot be saved (a fold, a degenerate pin), or ""."""
        return self._problem

    def points_px(self, mode: str | None = None) -> np.ndarray:
        """The points of `mode` (default: the one edited) in output pixels, K×2."""
        if (mode or self.mode) == "corners":
            pts = self.corners
        else:
            pts = mesh.apply_h(self.shown.homography(), self.grid.reshape(-1, 2))
        return pts * np.array(self.size, np.float64)

    def lines(self) -> tuple[str, ...]:
        x, y = self.points_px()[self.selected]
        if self.mode == "corners":
            what = f"corner {('top-left', 'top-right', 'bottom-right', 'bottom-left')[self.selected]}"
        else:
            cols = self.grid.shape[1]
            what = f"mesh point (column {self.selected % cols}, row {self.selected // cols})"
        out = [
            f"projector: {what} at {x:.1f}, {y:.1f} px",
            "drag, arrows (Shift ×10), Tab next, M corners/mesh, S save, R reset, Esc leave",
        ]
        note = self.problem or self.message
        return (*out, note) if note else tuple(out)

    # ------------------------------------------------------------------ events
    def key(self, name: str, shift: bool = False) -> None:
        if name == "escape":
            self.result = "left"
        elif name == "tab":
            n = len(self.points_px())
            self.selected = (self.selected + (-1 if shift else 1)) % n
        elif name in NUDGE:
            step = 10.0 if shift else 1.0
            self._move_to(self.points_px()[self.selected] + np.array(NUDGE[name]) * step)
        elif name == "m":
            self.mode = "mesh" if self.mode == "corners" else "corners"
            self.selected = 0
            self.dragging = False
        elif name == "r":
            self._reset()
        elif name == "s":
            self._save_now()

    def mouse_down(self, x: float, y: float) -> None:
        mouse = np.array([x, y], np.float64)
        for mode in (self.mode, "mesh" if self.mode == "corners" else "corners"):
            pts = self.points_px(mode)
            dist = np.linalg.norm(pts - mouse, axis=1)
            k = int(np.argmin(dist))
            if dist[k] <= PICK_PX:
                if mode != self.mode:
                    self.mode = mode
                self.selected = k
                self.dragging = True
                self._grab = pts[k] - mouse
                return

    def mouse_move(self, x: float, y: float) -> None:
        if self.dragging:
            self._move_to(np.array([x, y], np.float64) + self._grab)

    def mouse_up(self, x: float | None = None, y: float | None = None) -> None:
        if self.dragging and x is not None and y is not None:
            self.mouse_move(x, y)
        self.dragging = False

    # ------------------------------------------------------------------ edits
    def _move_to(self, px: np.ndarray) -> None:
        frac = px / np.array(self.size, np.float64)
        if self.mode == "corners":
            self.corners[self.selected] = frac
        else:
            # into the pinned square through the pin drawn now (the last valid one)
            q = mesh.apply_h(np.linalg.inv(self.shown.homography()), frac)
            self.grid.reshape(-1, 2)[self.selected] = q
        self.message = ""
        self._refresh()

    def _reset(self) -> None:
        if self.mode == "corners":
            self.corners = np.array(mesh.UNIT_CORNERS, np.float64)
        else:
            rows, cols = self.grid.shape[:2]
            self.grid = mesh.default_grid(cols, rows)
        self.message = f"{self.mode} reset (Esc leaves without saving)"
        self._refresh()

    def _save_now(self) -> None:
        problem = self.problem
        if problem:
            self.message = problem
            return
        try:
            where = self._save(self.entry)
        except CalibrationError as e:
            self.message = f"not saved: {e}"
            return
        self.saves += 1
        self.message = f"saved {where}"

    def _refresh(self) -> None:
        """Validate after each edit (not each frame): the mesh check tessellates."""
        entry = self.entry
        try:
            validate_entry(entry.to_json(), "not saved", "this output")
        except CalibrationError as e:
            self._problem = str(e)
            return
        self._problem = ""
        self.shown = entry
