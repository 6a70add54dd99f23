"""The picture's half of a scene crossfade: what was on screen at the switch dissolves into the new.

At a switch (a new `RenderInput.cut`) the last presented picture is copied aside before anything
draws over it; until the crossfade is over each finished picture is mixed over that held one by
`RenderInput.dissolve`. Holding what is on screen, not the old scene's own output, is what makes a
switch during a crossfade start from where the picture is: the held copy is the dissolve so far.
Overlays (HUD, note) are drawn after, so they never fade.
"""

from __future__ import annotations

import moderngl

from engine.render.detail import _Target
from engine.render.glutil import load_program, set_uniforms


class Dissolve:
    def __init__(self, ctx: moderngl.Context) -> None:
        self.ctx = ctx
        self.prog = load_program(ctx, "fullscreen.vert", "dissolve.frag")
        set_uniforms(self.prog, {"u_live": 0, "u_held": 1})
        self.vao = ctx.vertex_array(self.prog, [])
        self.held = _Target(ctx)
        self.out = _Target(ctx)
        self.cut = 0  # the switch count of the picture held
        self.valid = False  # something is held (false before the first switch, or after a resize)
        self.runs = 0

    def hold(self, shown: moderngl.Framebuffer | None, cut: int) -> None:
        """At a new switch count, copy `shown` (the last presented picture, still intact) aside."""
        if cut == self.cut:
            return
        self.cut = cut
        self.valid = shown is not None
        if shown is not None:
            self.ctx.copy_framebuffer(self.held.at(shown.size), shown)

    def apply(self, picture: moderngl.Framebuffer, mix: float) -> moderngl.Framebuffer:
        """`picture` mixed over the held one by `mix` (1: `picture` itself, no pass)."""
        held = self.held.fbo
        if mix >= 1.0 or not self.valid or held is None or held.size != picture.size:
            return picture
        out = self.out.at(picture.size)
        picture.color_attachments[0].use(0)
        held.color_attachments[0].use(1)
        set_uniforms(self.prog, {"u_mix": max(0.0, float(mix))})
        out.use()
        self.vao.render(moderngl.TRIANGLES, vertices=3)
        self.runs += 1
        return out

    def release(self) -> None:
        self.held.release()
        self.out.release()
        self.vao.release()
        self.prog.release()
