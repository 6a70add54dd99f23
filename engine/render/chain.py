"""The shader chain that turns one RenderInput into one presented frame.

1. upscale (engine.render.upscale): Catmull-Rom image + mask at output size,
   cached until the image, mask or mirror change; then Kuwahara and sharpen
   (engine.render.detail), if on, cached the same way;
2. compose: silhouette composite, feedback mix, colour grade, into our own
   `out` texture; with trails, the ungraded composite also goes to a
   ping-pong buffer (half floats, so slow fades do not stick on 8-bit
   rounding) through a second render target. Skipped when nothing changed and
   trails are off, since the result would be the same picture;
3. paper and grain (engine.render.detail), if on, over the composed picture;
   during a scene crossfade, the picture held at the switch dissolves into it
   (engine.render.dissolve);
4. blit the result to the target (a memory copy) and draw the overlays there.
   With no effect on at all, the compose pass is skipped and the upscale is
   blitted as it is. With a projector calibration the blit is instead one
   mesh draw through the corner-pin, mesh warp and edge blend
   (engine.render.warp); the overlays stay unwarped, for the operator.

On llvmpipe every full-screen texture fetch or matrix multiply costs
milliseconds, so each step runs only when its inputs changed, and the compose
shader is compiled per combination of effects so an effect at zero costs zero.
"""

from __future__ import annotations

import itertools

import moderngl
import numpy as np

from engine.images import as_rgb
from engine.messages import RenderInput
from engine.render.detail import Detail
from engine.render.dissolve import Dissolve
from engine.render.glutil import load_program, set_uniforms
from engine.render.grade import field_coefficients, grade_uniforms
from engine.render.overlay import Overlay
from engine.render.uniforms import UNIFORMS, resolve
from engine.render.upscale import Upscaler, cover_scale, nearest_texture
from engine.render.warp import OutputWarp, Warp

Variant = tuple[bool, bool, int]  # mask, trails, grade level (0 none, 1 no hue, 2 hue)


class Renderer:
    """Draws RenderInputs into a framebuffer; owns every GL object of the chain.

    The output size follows the target framebuffer's viewport (a window
    surface sets it to the current window size), so a fullscreen toggle needs
    no call from the app; `resize` is there to allocate ahead of time. The
    renderer keeps no reference to the target.
    """

    def __init__(
        self,
        ctx: moderngl.Context,
        size: tuple[int, int],
        scale: float = 1.0,
        projector: OutputWarp | None = None,
    ) -> None:
        self.ctx = ctx
        # The chain may run below output resolution: the picture comes from a 256² generator, so on a
        # CPU (llvmpipe) rendering effects at 1280×720 buys nothing visible and costs most of a core.
        self.scale = min(1.0, max(0.1, float(scale)))
        self.blit = load_program(ctx, "fullscreen.vert", "blit.frag")
        set_uniforms(self.blit, {"u_src": 0})
        self.blit_vao = ctx.vertex_array(self.blit, [])
        # All variants linked up front: a compile mid-show would drop frames when a VJ turns on trails.
        self.compose: dict[Variant, moderngl.Program] = {}
        self.compose_vaos: dict[Variant, moderngl.VertexArray] = {}
        for variant in itertools.product((False, True), (False, True), (0, 1, 2)):
            mask, trails, level = variant
            flags = (("MASK", mask), ("TRAILS", trails), ("GRADE", level > 0), ("HUE", level == 2))
            defines = tuple(name for name, on in flags if on)
            prog = load_program(ctx, "fullscreen.vert", "compose.frag", defines)
            set_uniforms(prog, {"u_base": 0, "u_history": 1})
            self.compose[variant] = prog
            self.compose_vaos[variant] = ctx.vertex_array(prog, [])
        self.upscaler = Upscaler(ctx, size)
        self.detail = Detail(ctx)
        self.dissolve = Dissolve(ctx)
        self._shown: moderngl.Framebuffer | None = None  # the last presented picture, at chain size
        self.overlay = Overlay(ctx, size)
        self.warp: Warp | None = None  # projector.json's warp and blend, the last pass (engine.render.warp)
        self.set_projector(projector)
        self._targets: list[moderngl.Texture | moderngl.Framebuffer] = []
        self.size = (0, 0)
        self.frame = 0
        self.uniforms = resolve({})  # what the last frame used, for the HUD or state out
        self.resize(size)

    def resize(self, size: tuple[int, int]) -> None:
        size = (int(size[0]), int(size[1]))
        if size == self.size:
            return
        self.size = size
        for obj in self._targets:
            obj.release()
        self.out = nearest_texture(self.ctx, size)
        self.out_fbo = self.ctx.framebuffer(color_attachments=[self.out])
        self.history = [nearest_texture(self.ctx, size, "f2") for _ in range(2)]
        # Render targets while trails are on: graded picture + the ungraded feedback state.
        self.trail_fbos = [self.ctx.framebuffer(color_attachments=[self.out, t]) for t in self.history]
        self._targets = [*self.trail_fbos, self.out_fbo, *self.history, self.out]
        self.history_valid = False  # stale or undefined contents must never fade in
        self._shown = None
        self._out_key: tuple | None = None
        self.upscaler.resize(size)

    def render(self, inp: RenderInput, target_fbo: moderngl.Framebuffer) -> None:
        """Draw one frame into `target_fbo`'s viewport (re-allocating if its size changed)."""
        out_size = (target_fbo.viewport[2], target_fbo.viewport[3])
        self.resize(self.internal_size(out_size))
        if self.overlay.size != out_size:
            self.overlay.resize(out_size)
        u = resolve(inp.uniforms)
        self.uniforms = u
        self.dissolve.hold(self._shown, inp.cut)  # a scene switch: keep what is on screen, first
        self.ctx.disable(moderngl.BLEND | moderngl.DEPTH_TEST | moderngl.CULL_FACE)
        mirror = u["mirror"] >= 0.5
        mask = None if inp.mask is None else _as_mask(inp.mask)
        camera_scale = (1.0, 1.0)  # without a mask the camera aspect is unknown: assume the output's
        if mask is not None:
            camera_scale = cover_scale((mask.shape[1], mask.shape[0]), self.size)
        use_mask = u["mask_mix"] > 0.0
        self.upscaler.update(_as_rgb(inp.image), mask if use_mask else None, mirror, u["mask_edge"])
        base, base_key = self.detail.prepare(self.upscaler, u)
        picture, picture_key = self._compose(u, use_mask, base, base_key)
        picture = self.detail.finish(picture, picture_key, u, inp.t)
        picture = self._shown = self.dissolve.apply(picture, inp.dissolve)

        if self.warp is not None:
            self.warp.draw(picture.color_attachments[0], target_fbo)
        elif self.size == out_size:
            self.ctx.copy_framebuffer(target_fbo, picture)
            target_fbo.use()
        else:
            target_fbo.use()
            tex = picture.color_attachments[0]
            tex.filter = (moderngl.LINEAR, moderngl.LINEAR)
            tex.use(0)
            self.blit_vao.render(moderngl.TRIANGLES, vertices=3)
            tex.filter = (moderngl.NEAREST, moderngl.NEAREST)
        target_fbo.viewport = (0, 0, *out_size)
        self.overlay.draw(
            inp.hud_lines, inp.skeleton, inp.note, camera_scale, mirror, recording=inp.recording
        )
        self.frame += 1

    def set_projector(self, entry: OutputWarp | None) -> None:
        """Warp the final picture through `entry` (None or an identity: no pass, the picture is copied)."""
        if entry is None or entry.is_identity():
            if self.warp is not None:
                self.warp.release()
            self.warp = None
        elif self.warp is None:
            self.warp = Warp(self.ctx, entry)
        else:
            self.warp.set(entry)

    def internal_size(self, out_size: tuple[int, int]) -> tuple[int, int]:
        return (max(16, round(out_size[0] * self.scale)), max(16, round(out_size[1] * self.scale)))

    def _compose(
        self, u: dict[str, float], use_mask: bool, base: moderngl.Framebuffer, base_key: tuple
    ) -> tuple[moderngl.Framebuffer, tuple | None]:
        """Run the compose pass over `base` if its result would differ from `out`; returns what to
        present and a key that changes whenever that picture does (None: it changes every frame)."""
        level, values = grade_uniforms(u)
        trails = u["trails"] > 0.0
        variant = (use_mask, trails, level)
        if variant == (False, False, 0):
            self.history_valid = False
            return base, ("base", base_key)  # nothing to compose: present the upscale as it is
        if use_mask:
            gain, luma_gain = field_coefficients(u)
            values |= {"u_mask_mix": u["mask_mix"], "u_field_gain": gain, "u_field_luma": luma_gain}
        key = (base_key, variant, tuple(sorted(values.items())))
        if not trails and key == self._out_key:
            return self.out_fbo, ("out", key)  # same inputs, same picture
        self._out_key = key
        base.color_attachments[0].use(0)
        if trails:
            prev, cur = self.frame % 2, (self.frame + 1) % 2
            if not self.history_valid:
                self.trail_fbos[prev].clear()  # mixed in at weight 0, but must not hold NaNs
            values["u_trails"] = u["trails"] if self.history_valid else 0.0
            self.history[prev].use(1)
            self.trail_fbos[cur].use()
        else:
            self.out_fbo.use()
        set_uniforms(self.compose[variant], values)
        self.compose_vaos[variant].render(moderngl.TRIANGLES, vertices=3)
        self.history_valid = trails  # the buffer is only written while trails are on
        return self.out_fbo, None if trails else ("out", key)

    def release(self) -> None:
        self.upscaler.release()
        self.detail.release()
        self.dissolve.release()
        self.overlay.release()
        self.set_projector(None)
        for obj in (
            *self._targets,
            *self.compose_vaos.values(),
            *self.compose.values(),
            self.blit_vao,
            self.blit,
        ):
            obj.release()


def _as_rgb(image: np.ndarray) -> np.ndarray:
    """Gray, RGBA or float images from a generator still show (engine.images); one that is no
    image at all is the render stage's error, named, rather than an IndexError deep in GL code."""
    rgb = as_rgb(image)
    if rgb is None:
        raise ValueError(f"render: the generated image has shape {np.shape(image)}, not H×W×(1, 3 or 4)")
    return rgb


def _as_mask(mask: np.ndarray) -> np.ndarray:
    arr = np.asarray(mask, dtype=np.float32)
    return arr[:, :, 0] if arr.ndim == 3 else arr


__all__ = ["UNIFORMS", "Renderer", "cover_scale"]
