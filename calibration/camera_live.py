"""The camera step from the live camera: hold the board up, views are taken by themselves.

The artist walks the board around the picture; whenever it has been held still for half a second
somewhere new, a view is taken (a flash of its outline), and the grid cells its corners fall in
turn green, so the empty parts of the picture show where the board must still go: a lens is only
known where it has seen the board, and the edges, where it bends most, matter most.
Keys: Enter or C calibrates with the views so far (at least 5), Backspace or U drops the last view,
Esc leaves without saving. It calibrates by itself after --views views.

`LiveSession` (frames and keys in, decisions and camera.json's body out) and `draw` (the overlay, a
picture) hold all of it and are tested without a camera or a window; `run_live` only pumps frames
from the engine's own camera source into a window (engine.render.context) and keys back.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import cv2
import moderngl
import numpy as np

from calibration.camera_views import Board, Decision, View, ViewPicker, edge_width, find_board
from calibration.files import CalibrationError

GREEN, CYAN, WHITE, AMBER = (40, 200, 90), (60, 200, 230), (255, 255, 255), (255, 190, 40)


class LiveSession:
    """The live step's state: which views were taken, and what the screen says now."""

    def __init__(self, board: Board, target: int = 15, picker: dict[str, Any] | None = None) -> None:
        self.board = board
        self.target = target
        self._picker_args = picker or {}
        self.picker: ViewPicker | None = None
        self.views: list[View] = []
        self.corners: np.ndarray | None = None
        self.decision = Decision("waiting for the camera")
        self.flash_until = -1.0

    @property
    def size(self) -> tuple[int, int] | None:
        return self.picker.size if self.picker is not None else None

    @property
    def done(self) -> bool:
        return len(self.views) >= self.target

    def frame(self, image: np.ndarray, t: float) -> Decision:
        """One camera frame (RGB or grey) at capture time t (s)."""
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        size = (gray.shape[1], gray.shape[0])
        if self.picker is None or self.picker.size != size:
            self.picker = ViewPicker(size, **self._picker_args)  # a new camera mode: start again
            self.views = []
        corners = find_board(gray, self.board, fast=True)
        edge = edge_width(gray, self.board, corners) if corners is not None else 0.0
        self.corners = corners
        self.decision = self.picker.update(corners, t, edge)
        if self.decision.taken:
            assert corners is not None
            self.views.append(View(f"live{len(self.views) + 1:02d}", corners.copy(), edge))
            self.flash_until = t + 0.3
        return self.decision

    def key(self, name: str) -> str | None:
        """A key (pygame's name) → "quit", "calibrate" or None; undo is handled here."""
        if name in ("escape", "quit"):
            return "quit"
        if name in ("return", "c"):
            if len(self.views) < 5:
                self.decision = Decision(f"{len(self.views)} view(s): at least 5 are needed to calibrate")
                return None
            return "calibrate"
        if name in ("backspace", "u") and self.views and self.picker is not None:
            self.views.pop()
            self.picker.undo()
            self.decision = Decision(f"last view dropped, {len(self.views)} left")
        return None

    def status_line(self) -> str:
        cover = self.picker.coverage if self.picker is not None else 0.0
        return f"views {len(self.views)}/{self.target}   coverage {cover:.0%}   {self.decision.state}"


def draw(image: np.ndarray, session: LiveSession, t: float) -> np.ndarray:
    """The overlay over one RGB frame: coverage cells, taken views, the board found now, the state."""
    out = np.ascontiguousarray(image if image.ndim == 3 else np.stack([image] * 3, axis=-1)).copy()
    h, w = out.shape[:2]
    picker = session.picker
    if picker is not None:
        gx, gy = picker.grid
        tint = out.copy()
        for (r, c), n in np.ndenumerate(picker.cells):
            if n:
                x0, y0, x1, y1 = c * w // gx, r * h // gy, (c + 1) * w // gx, (r + 1) * h // gy
                cv2.rectangle(tint, (x0, y0), (x1 - 1, y1 - 1), GREEN, -1)
        out = cv2.addWeighted(tint, 0.3, out, 0.7, 0)
        for c in range(1, gx):
            cv2.line(out, (c * w // gx, 0), (c * w // gx, h), (0, 0, 0), 1)
        for r in range(1, gy):
            cv2.line(out, (0, r * h // gy), (w, r * h // gy), (0, 0, 0), 1)
        cols, rows = session.board.size
        for v in picker.views:
            quad = v.reshape(rows, cols, 2)[[0, 0, -1, -1], [0, -1, -1, 0]]
            cv2.polylines(out, [np.round(quad).astype(np.int32)], True, CYAN, 1, cv2.LINE_AA)
    if session.corners is not None:
        corners = session.corners.reshape(-1, 1, 2).astype(np.float32)
        cv2.drawChessboardCorners(out, session.board.size, corners, True)
        centre = tuple(int(v) for v in session.corners.mean(axis=0))
        hold = session.decision.hold
        cv2.ellipse(out, centre, (28, 28), -90, 0, 360 * hold, AMBER if hold < 1 else GREEN, 5, cv2.LINE_AA)
    if t < session.flash_until and picker is not None and picker.views:
        cols, rows = session.board.size
        quad = picker.views[-1].reshape(rows, cols, 2)[[0, 0, -1, -1], [0, -1, -1, 0]]
        cv2.polylines(out, [np.round(quad).astype(np.int32)], True, WHITE, 4, cv2.LINE_AA)
    scale = max(0.5, w / 1600)
    _text(out, session.status_line(), (12, h - 14), scale)
    _text(
        out,
        "Enter: calibrate   Backspace: drop last view   Esc: leave",
        (12, int(30 * scale) + 8),
        scale * 0.8,
    )
    return out


def _text(out: np.ndarray, line: str, at: tuple[int, int], scale: float) -> None:
    (tw, th), base = cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
    x, y = at
    cv2.rectangle(out, (x - 6, y - th - 8), (x + tw + 6, y + base + 4), (0, 0, 0), -1)
    cv2.putText(out, line, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, WHITE, 2, cv2.LINE_AA)


class Screen:
    """Draws an RGB picture over a whole GL framebuffer (the engine's blit pass)."""

    def __init__(self, ctx: moderngl.Context) -> None:
        from engine.render.glutil import StreamTexture, load_program

        self.ctx = ctx
        self.prog = load_program(ctx, "fullscreen.vert", "blit.frag")
        self.vao = ctx.vertex_array(self.prog, [])
        self.texture = StreamTexture(ctx)

    def show(self, fbo: moderngl.Framebuffer, picture: np.ndarray) -> None:
        tex = self.texture.upload(np.ascontiguousarray(picture[::-1]))  # GL's row 0 is the bottom
        fbo.use()
        tex.use(0)
        if "u_src" in self.prog:
            self.prog["u_src"].value = 0  # type: ignore[union-attr]
        self.vao.render(moderngl.TRIANGLES, vertices=3)

    def release(self) -> None:
        self.texture.release()
        self.vao.release()
        self.prog.release()


def run_live(args: argparse.Namespace) -> int:
    """The window loop: camera frames → session → overlay → window; keys → session."""
    from calibration.camera import calibrate, report, validate
    from calibration.files import made_by, save
    from engine.clock import RealtimeClock
    from engine.render.context import NoDisplayError, WindowSurface
    from engine.sources import SourceError, open_source

    board = Board.parse(args.board, args.square)
    if args.views < 5:
        raise CalibrationError(f"--views {args.views}: at least 5 views are needed to calibrate")
    try:
        w, h = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        raise CalibrationError(f"--size {args.size!r}: expected WIDTHxHEIGHT, e.g. 1280x720") from None
    try:
        source = open_source(args.source, RealtimeClock(), width=w, height=h)
    except SourceError as e:
        raise CalibrationError(f"--source: {e}") from None
    session = LiveSession(board, args.views, {"max_edge_px": args.max_edge_px})
    try:
        surface = WindowSurface((w, h), title="calibration: camera")
    except NoDisplayError as e:
        source.close()
        raise CalibrationError(f'{e} (or calibrate from photos: --images "DIR/*.jpg")') from None
    screen = Screen(surface.ctx)
    action: str | None = None
    last_index = -1
    try:
        source.start()
        while action is None and not session.done:
            frame = source.latest()
            if frame is None or frame.index == last_index:
                time.sleep(0.005)
            else:
                last_index = frame.index
                session.frame(frame.image, frame.capture_time)
                screen.show(surface.framebuffer, draw(frame.image, session, frame.capture_time))
                surface.present()
            for key in surface.poll_keys():
                action = action or session.key(key)
    finally:
        screen.release()
        surface.close()
        source.close()
    if action == "quit":
        print("camera: left without saving")
        return 0
    assert session.size is not None
    body = calibrate(session.views, board, session.size)
    report(body, [])
    how = ["camera", "--board", args.board, "--square", f"{args.square:g}", "--source", args.source]
    print(f"wrote {save(args.room, 'camera', made_by(how), body, validate)}")
    return 0


def replay(
    session: LiveSession, images: list[np.ndarray], hold_s: float = 0.6, fps: float = 30.0, t: float = 0.0
) -> float:
    """Feed each image to the session as a camera would, held for hold_s from time t; returns the
    time after the last frame."""
    for image in images:
        for _ in range(max(1, round(hold_s * fps))):
            session.frame(image, t)
            t += 1.0 / fps
    return t


def screenshot(paths: list[str], board: Board, out: str) -> np.ndarray:
    """The live overlay, rendered headless (EGL) through the window's own blit, after the photos but
    the last were held up, and the last one half-way through being held still."""
    from engine.render.context import HeadlessSurface
    from engine.render.readback import read_rgb

    images = [cv2.cvtColor(cv2.imread(p), cv2.COLOR_BGR2RGB) for p in paths]
    session = LiveSession(board)
    t = replay(session, images[:-1])
    t = replay(session, images[-1:], hold_s=0.3, t=t + 1.0) - 1 / 30
    picture = draw(images[-1], session, t)
    surface = HeadlessSurface((picture.shape[1], picture.shape[0]))
    try:
        screen = Screen(surface.ctx)
        screen.show(surface.framebuffer, picture)
        rgb = read_rgb(surface.framebuffer)
        screen.release()
    finally:
        surface.close()
    cv2.imwrite(out, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return rgb


if __name__ == "__main__":  # python -m calibration.camera_live OUT.png PHOTO... (the docs' screenshot)
    import sys

    screenshot(sys.argv[2:], Board(9, 6, 0.025), sys.argv[1])
