"""Dragging the screen's four corners over the live camera picture, and the live marker solve.

The picture is shown the way the viewer sees themselves (mirror-flipped), so the quad the artist
drags is, corner for corner, what a mirroring scene puts on the wall. Drag a corner with the mouse
or select it (click, Tab / Shift+Tab) and nudge it with the arrow keys: 1 camera pixel, Shift 10, in
the direction they point on screen. M declares the camera as one that mirrors its own picture. S
saves (when the corners make a screen; otherwise the reason shows and nothing is written), R starts
over from the whole picture, Esc leaves without saving.

CornerEditor is the whole behaviour as a state machine fed with Key/Press/Drag/Release events, so it
is tested without a screen; the loops below only turn pygame's events into those and draw.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from calibration.files import CalibrationError
from calibration.screen import UNIT_SQUARE, body

HELP = "drag / Tab: corner   arrows: 1 px (Shift 10)   M: camera mirrored   S: save   R: reset   Esc: leave"
PICK = 0.06  # a press this close to a corner (share of the picture's long side) grabs it
NUDGE = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}
MIRROR_ORDER = [1, 0, 3, 2]  # TL↔TR, BR↔BL: the same corners once the picture is flipped


@dataclass(frozen=True)
class Key:
    name: str  # pygame's key name: "tab", "left", "s", "r", "escape", "m", "quit"
    shift: bool = False


@dataclass(frozen=True)
class Press:
    x: float  # camera picture, normalised 0..1 (View.to_camera turns window pixels into this)
    y: float


@dataclass(frozen=True)
class Drag:
    x: float
    y: float


@dataclass(frozen=True)
class Release:
    pass


Event = Key | Press | Drag | Release


class CornerEditor:
    """The four corners (TL, TR, BR, BL in the camera's true picture) and what S and Esc did.

    `state` is "editing", "saved" or "left"; `on_save(content)` writes screen.json (or raises
    CalibrationError, whose line then shows as `message`)."""

    def __init__(
        self,
        image_size: tuple[int, int],
        screen_size: tuple[int, int],
        corners: np.ndarray | None = None,
        camera_mirrored: bool = False,
        view_mirrored: bool = True,
        on_save: Callable[[dict[str, Any]], Any] | None = None,
    ) -> None:
        self.image_size, self.screen_size = image_size, screen_size
        self.corners = np.array(UNIT_SQUARE if corners is None else corners, np.float64).reshape(4, 2)
        self.camera_mirrored = camera_mirrored
        self.view_mirrored = view_mirrored
        self.on_save = on_save
        self.selected = 0
        self.state = "editing"
        self.message = ""
        self.saved: Any = None
        self._grab: tuple[int, np.ndarray] | None = None  # corner held by the mouse, and its offset

    def content(self) -> dict[str, Any]:
        return body(self.corners, self.image_size, self.screen_size, self.camera_mirrored)

    def handle(self, event: Event) -> None:
        if self.state != "editing":
            return
        if isinstance(event, Key):
            self._key(event)
        elif isinstance(event, Press):
            self._press(np.array([event.x, event.y]))
        elif isinstance(event, Drag) and self._grab is not None:
            i, offset = self._grab
            self.corners[i] = np.clip(np.array([event.x, event.y]) + offset, 0.0, 1.0)
        elif isinstance(event, Release):
            self._grab = None

    def _key(self, key: Key) -> None:
        name = key.name
        if name in ("escape", "quit"):
            self.state = "left"
        elif name == "tab":
            self.selected = (self.selected + (-1 if key.shift else 1)) % 4
        elif name in NUDGE:
            dx, dy = NUDGE[name]
            if self.view_mirrored:
                dx = -dx  # right on screen is left in the camera's own picture
            step = 10 if key.shift else 1
            w, h = self.image_size
            c = self.corners[self.selected] + (dx * step / w, dy * step / h)
            self.corners[self.selected] = np.clip(c, 0.0, 1.0)
        elif name == "m":
            self.camera_mirrored = not self.camera_mirrored
            # keep each handle over the same part of the room: the true picture flipped under it
            self.corners = np.c_[1.0 - self.corners[:, 0], self.corners[:, 1]][MIRROR_ORDER]
            self.selected = MIRROR_ORDER[self.selected]
            self.message = f"camera mirrors its own picture: {'yes' if self.camera_mirrored else 'no'}"
        elif name == "r":
            self.corners = UNIT_SQUARE.copy()
            self.selected = 0
            self.message = "reset: the whole picture"
        elif name == "s":
            self._save()

    def _press(self, at: np.ndarray) -> None:
        w, h = self.image_size
        scale = np.array([w, h], np.float64) / max(w, h)  # distances in the picture's own proportions
        d = np.linalg.norm((self.corners - at) * scale, axis=1)
        i = int(np.argmin(d))
        if d[i] <= PICK:
            self.selected = i
            self._grab = (i, self.corners[i] - at)

    def _save(self) -> None:
        try:
            content = self.content()
            self.saved = self.on_save(content) if self.on_save is not None else content
        except CalibrationError as e:
            self.message = f"not saved: {e}"
            return
        self.state = "saved"
        self.message = "saved"


@dataclass(frozen=True)
class View:
    """Where the camera picture sits in the window: fitted whole, centred, flipped if mirrored."""

    image_size: tuple[int, int]
    window_size: tuple[int, int]
    mirrored: bool = True

    @property
    def rect(self) -> tuple[float, float, float, float]:
        """x0, y0, width, height in window pixels (y down)."""
        (iw, ih), (ww, wh) = self.image_size, self.window_size
        s = min(ww / iw, wh / ih)
        return ((ww - iw * s) / 2, (wh - ih * s) / 2, iw * s, ih * s)

    def to_window(self, points: np.ndarray) -> np.ndarray:
        p = np.asarray(points, np.float64).reshape(-1, 2).copy()
        if self.mirrored:
            p[:, 0] = 1.0 - p[:, 0]
        x0, y0, w, h = self.rect
        return np.c_[x0 + p[:, 0] * w, y0 + p[:, 1] * h]

    def to_camera(self, x: float, y: float) -> tuple[float, float]:
        x0, y0, w, h = self.rect
        u, v = (x - x0) / w, (y - y0) / h
        return (1.0 - u if self.mirrored else u), v


# ------------------------------------------------------------------------------ the window loops
def _events(pg: Any, view: View | None) -> list[Event]:
    """pygame's queue as editor events (the engine's window reads keys only: mouse is added here)."""
    out: list[Event] = []
    for e in pg.event.get():
        if view is None and e.type not in (pg.QUIT, pg.KEYDOWN):
            continue
        if e.type == pg.QUIT:
            out.append(Key("quit"))
        elif e.type == pg.KEYDOWN:
            out.append(Key(pg.key.name(e.key), bool(e.mod & pg.KMOD_SHIFT)))
        elif e.type == pg.MOUSEBUTTONDOWN and e.button == 1:
            out.append(Press(*view.to_camera(*e.pos)))
        elif e.type == pg.MOUSEMOTION and e.buttons[0]:
            out.append(Drag(*view.to_camera(*e.pos)))
        elif e.type == pg.MOUSEBUTTONUP and e.button == 1:
            out.append(Release())
    return out


def _open(args: argparse.Namespace) -> tuple[Any, Any, Callable[[np.ndarray], np.ndarray]]:
    from calibration.screen import straightener
    from engine.clock import RealtimeClock
    from engine.render.context import WindowSurface
    from engine.sources import open_source

    straighten = straightener(args.room)
    surface = WindowSurface((1280, 720), fullscreen=args.fullscreen, display=args.display, vsync=True)
    source = open_source(args.source, RealtimeClock())
    source.start()
    return surface, source, straighten


def _picture(source: Any, straighten: Callable, mirrored: bool, wait_s: float = 10.0) -> np.ndarray:
    """The newest camera picture, lens-corrected and un-mirrored: the camera's true picture."""
    deadline = time.monotonic() + wait_s
    while (frame := source.latest()) is None:
        if time.monotonic() > deadline:
            raise CalibrationError(f"no picture from the camera: {source.status()}")
        time.sleep(0.02)
    image = straighten(np.asarray(frame.image))
    return np.ascontiguousarray(image[:, ::-1]) if mirrored else image


def live_manual(args: argparse.Namespace, before: Any, mirrored: bool) -> dict[str, Any] | None:
    """The editor over the live picture; screen.json's content when S saved, None after Esc."""
    from calibration.screen_overlay import ScreenOverlay

    surface, source, straighten = _open(args)
    pg = surface._pg
    try:
        first = _picture(source, straighten, mirrored)
        size = (first.shape[1], first.shape[0])
        corners = np.array(before.corners) if before is not None and before.image_size == size else None
        editor = CornerEditor(size, args.screen, corners, mirrored)
        overlay = ScreenOverlay(surface.ctx)
        while editor.state == "editing":
            view = View(size, surface.size, mirrored=True)
            for event in _events(pg, view):
                editor.handle(event)
            picture = _picture(source, straighten, editor.camera_mirrored)
            overlay.draw(surface.framebuffer, picture, editor, view)
            surface.present()
        overlay.release()
        return editor.saved if editor.state == "saved" else None
    finally:
        source.close()
        surface.close()


def live_markers(args: argparse.Namespace, mirrored: bool, settle_s: float = 1.5) -> dict[str, Any] | None:
    """Show the marker board on the output, let the camera settle, solve from its picture."""
    from calibration.markers import calibrate, make_board
    from calibration.screen_overlay import ImageShow

    surface, source, straighten = _open(args)
    show = ImageShow(surface.ctx)
    try:
        board = make_board(args.screen)

        def project() -> None:
            show.draw(surface.framebuffer, board.image)
            surface.present()

        end = time.monotonic() + settle_s  # exposure and the projector's own latency
        while time.monotonic() < end:
            project()
            if any(isinstance(e, Key) and e.name in ("escape", "quit") for e in _events(surface._pg, None)):
                return None
        last: CalibrationError | None = None
        for _ in range(10):  # a frame caught mid-refresh or mid-exposure: try the next ones
            project()
            try:
                return calibrate(
                    _picture(source, straighten, False), args.screen, mirrored, args.max_residual
                )
            except CalibrationError as e:
                last = e
                time.sleep(0.1)
        assert last is not None
        raise last
    finally:
        show.release()
        source.close()
        surface.close()
