"""Overlays drawn over the graded picture: HUD text, pose skeleton, status note, recording dot.

Text is rasterised with pygame.font (which needs no display) only when it
changes, then drawn as one blended quad per frame, so an unchanged HUD costs a
single textured rectangle.

The red dot in the top-right corner shows whenever the presented picture is being recorded. The
recording holds the rendered picture, never the camera image, but visitors cannot know that: a
sign they can see is part of the piece's promise (docs/privacy.md). It cannot be turned off.
"""

from __future__ import annotations

import os

import moderngl
import numpy as np

from engine.render.glutil import load_program

# MediaPipe pose (33 landmarks) bones, as in mediapipe.solutions.pose.POSE_CONNECTIONS.
POSE_BONES: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10),
    (11, 12), (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19),
    (12, 14), (14, 16), (16, 18), (16, 20), (16, 22), (18, 20),
    (11, 23), (12, 24), (23, 24),
    (23, 25), (24, 26), (25, 27), (26, 28), (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
)  # fmt: skip
VISIBILITY_MIN = 0.5
DOT_RGBA = (0.92, 0.06, 0.06, 1.0)  # opaque: a recording sign must not fade into the picture
DOT_RING_RGBA = (0.0, 0.0, 0.0, 0.55)  # a dark rim keeps the dot visible on a red picture
DOT_SEGMENTS = 32
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # keep the log free of the banner


class TextBox:
    """Lines of text on a translucent dark backing, cached as an RGBA texture."""

    def __init__(
        self,
        ctx: moderngl.Context,
        font_px: int,
        color: tuple[int, int, int, int] = (255, 255, 255, 255),
        backing_alpha: int = 140,
    ) -> None:
        import pygame.font

        pygame.font.init()
        self.ctx = ctx
        self.font = pygame.font.Font(None, font_px)
        self.color = color
        self.backing_alpha = backing_alpha
        self.pad = max(2, font_px // 4)
        self.texture: moderngl.Texture | None = None
        self._lines: tuple[str, ...] = ()

    @property
    def size(self) -> tuple[int, int]:
        return self.texture.size if self.texture is not None else (0, 0)

    def set(self, lines: tuple[str, ...]) -> None:
        lines = tuple(lines)
        if lines == self._lines and self.texture is not None:
            return
        import pygame

        self._lines = lines
        rendered = [self.font.render(line, True, self.color) for line in lines]
        line_h = self.font.get_linesize()
        w = max((r.get_width() for r in rendered), default=0) + 2 * self.pad
        h = line_h * len(rendered) + 2 * self.pad
        surf = pygame.Surface((max(w, 1), max(h, 1)), pygame.SRCALPHA)
        surf.fill((0, 0, 0, self.backing_alpha))
        for i, r in enumerate(rendered):
            surf.blit(r, (self.pad, self.pad + i * line_h))
        data = pygame.image.tobytes(surf, "RGBA", True)  # flipped: GL wants the bottom row first
        if self.texture is None or self.texture.size != surf.get_size():
            if self.texture is not None:
                self.texture.release()
            self.texture = self.ctx.texture(surf.get_size(), 4, data)
            self.texture.filter = (moderngl.NEAREST, moderngl.NEAREST)  # drawn 1:1, keep glyphs crisp
        else:
            self.texture.write(data)

    def release(self) -> None:
        if self.texture is not None:
            self.texture.release()
            self.texture = None


def skeleton_quads(
    skeleton: np.ndarray, out_size: tuple[int, int], scale: tuple[float, float], mirror: bool, width_px: float
) -> np.ndarray:
    """Bones as thick line quads in NDC (core GL has no wide lines), 6 vertices per visible bone.

    `scale` is the cover-fit scale of the camera frame (as for the mask), so
    bones lie over the silhouette.
    """
    pts = np.asarray(skeleton, dtype=np.float32)
    if pts.ndim != 2 or pts.shape[0] < 33 or pts.shape[1] < 2:
        return np.zeros((0, 2), np.float32)
    vis = pts[:, 2] if pts.shape[1] > 2 else np.ones(len(pts), np.float32)
    px = 0.5 + (pts[:, 0] - 0.5) / scale[0]
    if mirror:
        px = 1.0 - px
    py = 0.5 + (0.5 - pts[:, 1]) / scale[1]
    w, h = out_size
    xy = np.stack([px * w, py * h], axis=1)  # pixels, so thickness is the same in x and y
    bones = np.array([b for b in POSE_BONES if vis[b[0]] >= VISIBILITY_MIN and vis[b[1]] >= VISIBILITY_MIN])
    if len(bones) == 0:
        return np.zeros((0, 2), np.float32)
    a, b = xy[bones[:, 0]], xy[bones[:, 1]]
    d = b - a
    n = np.stack([-d[:, 1], d[:, 0]], axis=1)
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-6)
    n *= width_px / 2
    quads = np.stack([a - n, a + n, b + n, a - n, b + n, b - n], axis=1).reshape(-1, 2)
    return (quads / np.array([w, h], np.float32) * 2.0 - 1.0).astype(np.float32)


def disc_triangles(center: tuple[float, float], radius: float, out_size: tuple[int, int]) -> np.ndarray:
    """A filled circle as DOT_SEGMENTS triangles in NDC (pixel centre and radius, GL y up)."""
    a = np.linspace(0.0, 2.0 * np.pi, DOT_SEGMENTS + 1, dtype=np.float64)
    rim = np.stack([center[0] + radius * np.cos(a), center[1] + radius * np.sin(a)], axis=1)
    c = np.broadcast_to(np.asarray(center, np.float64), (DOT_SEGMENTS, 2))
    tris = np.stack([c, rim[:-1], rim[1:]], axis=1).reshape(-1, 2)
    return (tris / np.array(out_size, np.float64) * 2.0 - 1.0).astype(np.float32)


def dot_geometry(out_size: tuple[int, int]) -> tuple[tuple[float, float], float]:
    """Centre (pixels from the bottom-left, GL y up) and radius of the recording dot."""
    w, h = out_size
    radius = max(5.0, h / 45)
    margin = max(4, h // 90) + radius
    return (w - margin, h - margin), radius


class Overlay:
    """Draws HUD, skeleton, note and recording dot into the currently bound framebuffer."""

    def __init__(self, ctx: moderngl.Context, size: tuple[int, int]) -> None:
        self.ctx = ctx
        self.quad = load_program(ctx, "overlay.vert", "overlay.frag")
        self.quad_vao = ctx.vertex_array(self.quad, [])
        self.bones = load_program(ctx, "bones.vert", "bones.frag")
        self.bone_vbo = ctx.buffer(reserve=len(POSE_BONES) * 6 * 8)
        self.bone_vao = ctx.vertex_array(self.bones, [(self.bone_vbo, "2f", "in_pos")])
        self.dot_vbo = ctx.buffer(reserve=2 * DOT_SEGMENTS * 3 * 8)  # rim disc, then the red disc
        self.dot_vao = ctx.vertex_array(self.bones, [(self.dot_vbo, "2f", "in_pos")])
        self.resize(size)

    def resize(self, size: tuple[int, int]) -> None:
        """Font sizes follow the output height so the HUD reads the same on a laptop and a projector."""
        self.size = size
        h = size[1]
        for box in ("hud", "note"):
            if hasattr(self, box):
                getattr(self, box).release()
        self.hud = TextBox(self.ctx, max(12, h // 32), (255, 255, 255, 255), backing_alpha=120)
        self.note = TextBox(self.ctx, max(12, h // 36), (210, 210, 210, 255), backing_alpha=90)
        self.margin = max(4, h // 90)
        self.bone_px = max(2.0, h / 240)
        center, radius = dot_geometry(size)
        rim = disc_triangles(center, radius + max(1.5, radius / 6), size)
        self.dot_vbo.write(np.concatenate([rim, disc_triangles(center, radius, size)]).tobytes())

    def _draw_box(self, box: TextBox, corner: str, opacity: float) -> None:
        if box.texture is None:
            return
        w, h = self.size
        bw, bh = box.size
        x0 = self.margin if corner == "top-left" else w - self.margin - bw
        y0 = h - self.margin - bh if corner == "top-left" else self.margin  # GL y grows upwards
        rect = (x0 / w * 2 - 1, y0 / h * 2 - 1, (x0 + bw) / w * 2 - 1, (y0 + bh) / h * 2 - 1)
        self.quad["u_rect"].value = rect
        self.quad["u_opacity"].value = opacity
        box.texture.use(0)
        self.quad_vao.render(moderngl.TRIANGLE_STRIP, vertices=4)

    def draw(
        self,
        hud_lines: tuple[str, ...],
        skeleton: np.ndarray | None,
        note: str,
        camera_scale: tuple[float, float],
        mirror: bool,
        recording: bool = False,
    ) -> None:
        if not hud_lines and not note and not recording:
            return
        ctx = self.ctx
        ctx.enable(moderngl.BLEND)
        ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA
        try:
            if hud_lines:
                if skeleton is not None:
                    quads = skeleton_quads(skeleton, self.size, camera_scale, mirror, self.bone_px)
                    if len(quads):
                        self.bone_vbo.write(quads.tobytes())
                        self.bones["u_color"].value = (0.35, 1.0, 0.6, 0.75)
                        self.bone_vao.render(moderngl.TRIANGLES, vertices=len(quads))
                self.hud.set(hud_lines)
                self._draw_box(self.hud, "top-left", 0.9)
            if note:
                self.note.set((note,))
                self._draw_box(self.note, "bottom-right", 0.8)
            if recording:
                n = DOT_SEGMENTS * 3
                self.bones["u_color"].value = DOT_RING_RGBA
                self.dot_vao.render(moderngl.TRIANGLES, vertices=n)
                self.bones["u_color"].value = DOT_RGBA
                self.dot_vao.render(moderngl.TRIANGLES, vertices=n, first=n)
        finally:
            ctx.disable(moderngl.BLEND)

    def release(self) -> None:
        self.hud.release()
        self.note.release()
        vaos = (self.quad_vao, self.bone_vao, self.dot_vao)
        for obj in (*vaos, self.quad, self.bone_vbo, self.dot_vbo, self.bones):
            obj.release()
