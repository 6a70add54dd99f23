"""Drawing the screen editor: the camera picture (mirror-flipped as the viewer sees it), the quad the
screen maps from with its homography's grid inside, the four corner handles, and the help line.

The grid is the screen's quarters carried back into the camera picture through the homography, so
the artist sees how the picture will be stretched, not only where its corners are.

    python -m calibration.screen_overlay --screenshot docs/calibration/screen.png   # headless (EGL)
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import moderngl
import numpy as np

from calibration.screen import apply_homography, homography_from_corners
from calibration.screen_ui import HELP, CornerEditor, Key, View
from engine.render.glutil import StreamTexture, load_program
from engine.render.overlay import TextBox

BACKDROP = (0.07, 0.07, 0.08)
EDGE_RGBA = (1.0, 0.85, 0.1, 1.0)
GRID_RGBA = (1.0, 1.0, 1.0, 0.45)
HANDLE_RGBA = (1.0, 0.85, 0.1, 1.0)
SELECTED_RGBA = (1.0, 0.35, 0.1, 1.0)
HANDLE_RIM_RGBA = (0.0, 0.0, 0.0, 0.8)
GRID_LINES = 4  # the screen in quarters each way
MAX_VERTICES = 4096


def segments(a: np.ndarray, b: np.ndarray, width: float, size: tuple[int, int]) -> np.ndarray:
    """Thick lines a→b (window pixels, y down) as triangles in NDC (core GL has no wide lines)."""
    a, b = np.asarray(a, np.float64).reshape(-1, 2), np.asarray(b, np.float64).reshape(-1, 2)
    d = b - a
    n = np.stack([-d[:, 1], d[:, 0]], axis=1)
    n *= (width / 2) / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-9)
    tris = np.stack([a - n, a + n, b + n, a - n, b + n, b - n], axis=1).reshape(-1, 2)
    return ndc(tris, size)


def squares(centres: np.ndarray, side: float, size: tuple[int, int]) -> np.ndarray:
    c = np.asarray(centres, np.float64).reshape(-1, 1, 2)
    h = side / 2
    offs = np.array([[-h, -h], [h, -h], [h, h], [-h, -h], [h, h], [-h, h]])
    return ndc((c + offs).reshape(-1, 2), size)


def ndc(points: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    w, h = size
    p = np.asarray(points, np.float64)
    return np.c_[p[:, 0] / w * 2 - 1, 1 - p[:, 1] / h * 2].astype(np.float32)


class ScreenOverlay:
    """Draws the editor into a framebuffer; owns its GL objects."""

    def __init__(self, ctx: moderngl.Context) -> None:
        self.ctx = ctx
        self.quad = load_program(ctx, "overlay.vert", "overlay.frag")
        self.quad_vao = ctx.vertex_array(self.quad, [])
        self.solid = load_program(ctx, "bones.vert", "bones.frag")
        self.vbo = ctx.buffer(reserve=MAX_VERTICES * 8)
        self.vao = ctx.vertex_array(self.solid, [(self.vbo, "2f", "in_pos")])
        self.picture = StreamTexture(ctx)
        self._text_h = 0
        self.help: TextBox | None = None
        self.status: TextBox | None = None

    def draw(self, fbo: moderngl.Framebuffer, picture: np.ndarray, editor: CornerEditor, view: View) -> None:
        size = (fbo.viewport[2], fbo.viewport[3])
        fbo.use()
        self.ctx.clear(*BACKDROP)
        self.image(picture, view, size)
        self.ctx.enable(moderngl.BLEND)
        self.ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA
        try:
            self._geometry(editor, view, size)
            self._text(editor, size)
        finally:
            self.ctx.disable(moderngl.BLEND)

    def image(self, picture: np.ndarray, view: View, size: tuple[int, int]) -> None:
        """The picture in the view's rectangle; the rectangle's x ends swap for the mirror flip."""
        x0, y0, w, h = view.rect
        left, right = (x0 + w, x0) if view.mirrored else (x0, x0 + w)
        (lx, ty), (rx, by) = ndc(np.array([[left, y0], [right, y0 + h]]), size)
        self.picture.upload(np.ascontiguousarray(picture)).use(0)
        self.quad["u_rect"].value = (float(lx), float(ty), float(rx), float(by))  # row 0 (top) at t = 0
        self.quad["u_opacity"].value = 1.0
        self.quad_vao.render(moderngl.TRIANGLE_STRIP, vertices=4)

    def _fill(self, triangles: np.ndarray, rgba: tuple[float, ...]) -> None:
        if not len(triangles):
            return
        self.vbo.write(triangles[:MAX_VERTICES].tobytes())
        self.solid["u_color"].value = rgba
        self.vao.render(moderngl.TRIANGLES, vertices=min(len(triangles), MAX_VERTICES))

    def _geometry(self, editor: CornerEditor, view: View, size: tuple[int, int]) -> None:
        px = max(1.5, size[1] / 360)  # line width follows the window like the engine's HUD
        corners = view.to_window(editor.corners)
        try:
            back = np.linalg.inv(homography_from_corners(editor.corners))  # screen → camera
        except np.linalg.LinAlgError:
            back = None  # three corners in a line: no grid until they part
        if back is not None:
            t = np.arange(1, GRID_LINES) / GRID_LINES
            starts = np.concatenate([np.c_[t, 0 * t], np.c_[0 * t, t]])
            ends = np.concatenate([np.c_[t, 0 * t + 1], np.c_[0 * t + 1, t]])
            a = view.to_window(apply_homography(back, starts))
            b = view.to_window(apply_homography(back, ends))
            self._fill(segments(a, b, px, size), GRID_RGBA)
        self._fill(segments(corners, np.roll(corners, -1, axis=0), 2 * px, size), EDGE_RGBA)
        side = 7 * px
        self._fill(squares(corners, side + 2 * px, size), HANDLE_RIM_RGBA)
        self._fill(squares(corners, side, size), HANDLE_RGBA)
        sel = corners[editor.selected : editor.selected + 1]
        self._fill(squares(sel, 1.6 * side + 2 * px, size), HANDLE_RIM_RGBA)
        self._fill(squares(sel, 1.6 * side, size), SELECTED_RGBA)

    def _text(self, editor: CornerEditor, size: tuple[int, int]) -> None:
        if self._text_h != size[1] or self.help is None or self.status is None:
            for box in (self.help, self.status):
                if box is not None:
                    box.release()
            self.help = TextBox(self.ctx, max(12, size[1] // 36), backing_alpha=150)
            self.status = TextBox(self.ctx, max(12, size[1] // 32), (255, 220, 90, 255), backing_alpha=150)
            self._text_h = size[1]
        (iw, ih), (sw, sh) = editor.image_size, editor.screen_size
        names = ["top-left", "top-right", "bottom-right", "bottom-left"]
        if editor.view_mirrored:  # named where the artist sees it, as a mirroring scene shows it
            names = ["top-right", "top-left", "bottom-left", "bottom-right"]
        lines = [
            f"screen {sw}x{sh} from camera {iw}x{ih}   camera mirrors its picture: "
            f"{'yes' if editor.camera_mirrored else 'no'}   selected: {names[editor.selected]} corner",
        ]
        if editor.message:
            lines.append(editor.message)
        self.status.set(tuple(lines))
        self.help.set((HELP,))
        margin = max(4, size[1] // 90)
        self._box(self.status, margin, size[1] - margin - self.status.size[1], size)
        self._box(self.help, margin, margin, size)

    def _box(self, box: TextBox, x: int, y: int, size: tuple[int, int]) -> None:
        """A text box with its bottom-left at (x, y), GL pixels (y up)."""
        assert box.texture is not None
        (w, h), (bw, bh) = size, box.size
        self.quad["u_rect"].value = (x / w * 2 - 1, y / h * 2 - 1, (x + bw) / w * 2 - 1, (y + bh) / h * 2 - 1)
        self.quad["u_opacity"].value = 1.0
        box.texture.use(0)
        self.quad_vao.render(moderngl.TRIANGLE_STRIP, vertices=4)

    def release(self) -> None:
        for box in (self.help, self.status):
            if box is not None:
                box.release()
        self.picture.release()
        for obj in (self.quad_vao, self.vao, self.vbo, self.quad, self.solid):
            obj.release()


class ImageShow:
    """A picture filling the output (the marker board on the projector), nothing else."""

    def __init__(self, ctx: moderngl.Context) -> None:
        self.ctx = ctx
        self.quad = load_program(ctx, "overlay.vert", "overlay.frag")
        self.vao = ctx.vertex_array(self.quad, [])
        self.texture = StreamTexture(ctx, linear=False)

    def draw(self, fbo: moderngl.Framebuffer, image: np.ndarray) -> None:
        fbo.use()
        self.texture.upload(np.ascontiguousarray(np.repeat(image[:, :, None], 3, axis=2))).use(0)
        self.quad["u_rect"].value = (-1.0, 1.0, 1.0, -1.0)  # row 0 at the top
        self.quad["u_opacity"].value = 1.0
        self.vao.render(moderngl.TRIANGLE_STRIP, vertices=4)

    def release(self) -> None:
        self.texture.release()
        self.vao.release()
        self.quad.release()


# ---------------------------------------------------------------------------- docs screenshot
HALL = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")  # a fixed camera over a hall
EXAMPLE_CORNERS = np.array([[0.16, 0.34], [0.86, 0.30], [0.97, 0.93], [0.05, 0.97]])


def hall_picture(index: int = 120) -> np.ndarray:
    """One real frame of OpenCV's vtest.avi (people walking, seen from above), RGB."""
    import cv2

    cap = cv2.VideoCapture(str(HALL))
    cap.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, bgr = cap.read()
    cap.release()
    if not ok:
        raise FileNotFoundError(f"{HALL}: cannot read frame {index} (apt package opencv-doc)")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def screenshot(path: Path, size: tuple[int, int] = (1280, 720), picture: np.ndarray | None = None) -> Any:
    """Render the editor headless over a real camera frame and save it as a PNG; returns the pixels."""
    import cv2

    from engine.render.context import HeadlessSurface
    from engine.render.readback import read_rgb

    picture = hall_picture() if picture is None else picture
    image_size = (picture.shape[1], picture.shape[0])
    editor = CornerEditor(image_size, (1920, 1080), EXAMPLE_CORNERS)
    editor.handle(Key("tab"))  # the top-right corner selected
    editor.message = "drag the corners to where the screen's edges meet the floor"
    surface = HeadlessSurface(size)
    try:
        overlay = ScreenOverlay(surface.ctx)
        overlay.draw(surface.framebuffer, picture, editor, View(image_size, size, mirrored=True))
        rgb = read_rgb(surface.framebuffer, size)
        overlay.release()
    finally:
        surface.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return rgb


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m calibration.screen_overlay", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--screenshot", type=Path, required=True, help="PNG to write")
    a = ap.parse_args(argv)
    screenshot(a.screenshot)
    print(f"wrote {a.screenshot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
