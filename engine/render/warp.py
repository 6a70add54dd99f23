"""The projector warp, the chain's last pass: corner-pin, mesh warp and soft-edge blend in one draw.

The calibration (calibration.projector.OutputWarp) becomes one vertex buffer when it is set — the
Catmull-Rom mesh tessellated on the CPU (calibration.projector_mesh) — so a frame costs one clear and
one indexed draw of a textured mesh; the corner pin is a 3×3 uniform applied in the vertex shader and
the blend is a few instructions in the fragment shader of the same draw (compiled in only when a side
blends). With no projector.json the chain has no Warp at all.

Its cost: `python -m engine.render.warp_bench`.
"""

from __future__ import annotations

import moderngl
import numpy as np

from calibration import projector_mesh as mesh
from calibration.projector import OutputWarp
from engine.render.glutil import load_program, set_uniforms

# output fractions (x right, y down) -> clip space (x right, y up)
TO_CLIP = np.array([[2.0, 0.0, -1.0], [0.0, -2.0, 1.0], [0.0, 0.0, 1.0]])


# every blend_variant: no blend, or the axes that blend, each with one gamma or one per side
VARIANTS = [()] + [
    axes + g for axes in (("BLEND_U",), ("BLEND_V",), ("BLEND_U", "BLEND_V")) for g in ((), ("ONE_GAMMA",))
]


def pin_matrix(entry: OutputWarp) -> tuple[float, ...]:
    """The vertex shader's u_pin: pinned square -> clip space, column-major as GL reads it."""
    m = TO_CLIP @ entry.homography()
    return tuple(float(x) for x in m.flatten(order="F"))


def blend_uniforms(entry: OutputWarp) -> dict[str, object]:
    on = [b for b in entry.blend if b.width > 0]
    inv_gamma = tuple(1.0 / b.gamma for b in entry.blend)
    if "ONE_GAMMA" in blend_variant(entry):
        inv_gamma = (1.0 / on[0].gamma,) * 4  # the shader reads it from side 0
    return {
        "u_scale": tuple(1.0 / b.width if b.width > 0 else 1e9 for b in entry.blend),
        "u_inv_gamma": inv_gamma,
        "u_lift": max((b.black for b in on), default=0.0),
    }


def blend_variant(entry: OutputWarp) -> tuple[str, ...]:
    """The shader defines for this blend: only the axes that blend cost anything per pixel, and one
    gamma for every side (the usual case) is one log2 per pixel instead of one per side."""
    on = [b for b in entry.blend if b.width > 0]
    if not on:
        return ()
    left, right, top, bottom = (b.width > 0 for b in entry.blend)
    axes = (("BLEND_U",) if left or right else ()) + (("BLEND_V",) if top or bottom else ())
    return axes + (("ONE_GAMMA",) if len({b.gamma for b in on}) == 1 else ())


def blend_curve(entry: OutputWarp, u, v) -> tuple[np.ndarray, np.ndarray]:
    """What the fragment shader does to a signal c at picture coordinate (u, v): c * gain + lift."""
    u, v = np.broadcast_arrays(np.asarray(u, np.float64), np.asarray(v, np.float64))
    gain = np.ones(u.shape)
    outside = np.ones(u.shape, bool)
    for d, b in zip((u, 1 - u, v, 1 - v), entry.blend):
        if b.width > 0:
            t = np.clip(d / b.width, 0.0, 1.0)
            gain *= t ** (1.0 / b.gamma)
            outside &= t >= 1.0
    lift = np.where(outside, blend_uniforms(entry)["u_lift"], 0.0)
    return gain * (1.0 - lift), lift


class Warp:
    """Draws a texture into a framebuffer through one output's warp and blend."""

    def __init__(self, ctx: moderngl.Context, entry: OutputWarp) -> None:
        self.ctx = ctx
        # every variant linked up front: a compile when the artist turns on a blend would drop frames
        self.programs = {v: load_program(ctx, "warp.vert", "warp.frag", v) for v in VARIANTS}
        for prog in self.programs.values():
            set_uniforms(prog, {"u_src": 0})
        self.vbo: moderngl.Buffer | None = None
        self.ibo: moderngl.Buffer | None = None
        self.vao: moderngl.VertexArray | None = None
        self.draws = 0
        self.set(entry)

    def set(self, entry: OutputWarp) -> None:
        """Take a new calibration: rebuild the mesh on the CPU (once, not per frame)."""
        verts, idx = mesh.draw_mesh(entry.grid_array())
        self.entry = entry
        self.variant = blend_variant(entry)
        prog = self.programs[self.variant]
        set_uniforms(prog, {"u_pin": pin_matrix(entry), **blend_uniforms(entry)})
        self._release_mesh()
        self.vbo = self.ctx.buffer(verts.tobytes())
        self.ibo = self.ctx.buffer(idx.tobytes())
        self.vao = self.ctx.vertex_array(prog, [(self.vbo, "2f 2f", "in_pos", "in_uv")], self.ibo, 4)
        self.vertices = len(idx)

    def draw(self, texture: moderngl.Texture, target: moderngl.Framebuffer) -> None:
        """Black where the mesh is not, the warped picture where it is; leaves `target` bound."""
        assert self.vao is not None
        target.use()
        target.clear(0.0, 0.0, 0.0, 1.0)
        filt = texture.filter
        texture.filter = (moderngl.LINEAR, moderngl.LINEAR)
        texture.use(0)
        self.vao.render(moderngl.TRIANGLES)
        texture.filter = filt
        self.draws += 1

    def _release_mesh(self) -> None:
        for obj in (self.vao, self.vbo, self.ibo):
            if obj is not None:
                obj.release()
        self.vao = self.vbo = self.ibo = None

    def release(self) -> None:
        self._release_mesh()
        for prog in self.programs.values():
            prog.release()
