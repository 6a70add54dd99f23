"""Detail passes that let a 256² generator picture hold up at full HD.

Stretched 4-8×, the picture has no edge sharper than a generator texel and reads
as a soft blur. Four passes, each set by one render parameter 0..1 and each
skipped outright at 0 (no pass, no texture allocated):

- `kuwahara`: anisotropic Kuwahara (kuwahara.frag) over a quarter-resolution
  structure tensor (tensor.frag): soft gradients become flat, crisp brush areas;
- `sharpen`: contrast-adaptive sharpening (sharpen.frag), clamped to the local
  range so it never rings;
- `paper`: a canvas texture (paper.frag, made once per size) multiplied in;
- `grain`: film grain seeded by the frame's clock time (finish.frag).

Kuwahara and sharpen work on the upscaled picture before the composite, so the
silhouette, trails and grade see the crisp picture and the trail buffer never
accumulates grain; they are cached like the upscale and rerun only when a new
image arrives. Paper and grain are one pass over the finished picture; grain
makes it run every frame, paper alone only when the picture changed.
"""

from __future__ import annotations

import struct
import zlib

import moderngl

from engine.render.glutil import load_program, set_uniforms
from engine.render.upscale import Upscaler, cover_scale, nearest_texture

KUWAHARA_TEXELS = 4.0  # disc radius at kuwahara = 1, in generator texels (the stroke size)
SHARPEN_TEXELS = 1.0  # sharpen tap distance, in generator texels: the finest detail there is
TENSOR_DIVISOR = 4  # the structure tensor's resolution, per axis, relative to the picture
PaperGrain = tuple[bool, bool]


def grain_seed(t: float) -> int:
    """The grain pattern's seed for clock time `t`: the same time always gives the same grain (an
    offline render repeats exactly), any other time another pattern, and unlike a float in the
    shader this does not run out of precision after weeks of uptime."""
    return zlib.crc32(struct.pack("<d", float(t)))


class _Target:
    """A texture and its framebuffer, allocated on first use and re-allocated on a size change."""

    def __init__(self, ctx: moderngl.Context, components: int = 4, dtype: str = "f1") -> None:
        self.ctx, self.components, self.dtype = ctx, components, dtype
        self.texture: moderngl.Texture | None = None
        self.fbo: moderngl.Framebuffer | None = None

    def at(self, size: tuple[int, int]) -> moderngl.Framebuffer:
        if self.texture is None or self.texture.size != size:
            self.release()
            if self.components == 4:
                self.texture = nearest_texture(self.ctx, size, self.dtype)
            else:
                self.texture = self.ctx.texture(size, self.components, dtype=self.dtype)
                self.texture.filter = (moderngl.NEAREST, moderngl.NEAREST)
            self.fbo = self.ctx.framebuffer(color_attachments=[self.texture])
        assert self.fbo is not None
        return self.fbo

    def release(self) -> None:
        if self.fbo is not None and self.texture is not None:
            self.fbo.release()
            self.texture.release()
        self.fbo = self.texture = None


class Detail:
    """Owns the detail passes' programs and targets; `runs` counts each pass, for tests and bench."""

    def __init__(self, ctx: moderngl.Context) -> None:
        self.ctx = ctx
        # Every program linked up front, as in the chain: a compile mid-show would drop frames.
        names = {"sharpen": "sharpen.frag", "tensor": "tensor.frag", "kuwahara": "kuwahara.frag"}
        self.progs = {k: load_program(ctx, "fullscreen.vert", f) for k, f in names.items()}
        self.progs["paper"] = load_program(ctx, "fullscreen.vert", "paper.frag")
        set_uniforms(self.progs["kuwahara"], {"u_src": 0, "u_tensor": 1})
        self.finish_progs: dict[PaperGrain, moderngl.Program] = {}
        for variant in ((True, False), (False, True), (True, True)):
            defines = tuple(d for d, on in zip(("PAPER", "GRAIN"), variant) if on)
            prog = load_program(ctx, "fullscreen.vert", "finish.frag", defines)
            set_uniforms(prog, {"u_src": 0, "u_paper_tex": 1})
            self.finish_progs[variant] = prog
        all_progs = [*self.progs.values(), *self.finish_progs.values()]
        self.vaos = {id(p): ctx.vertex_array(p, []) for p in all_progs}
        # The picture's own textures stay NEAREST (texelFetch everywhere); the passes that need
        # in-between positions bind this sampler over them for the draw.
        self.linear = ctx.sampler(filter=(moderngl.LINEAR, moderngl.LINEAR), repeat_x=False, repeat_y=False)
        self.targets = {
            "tensor": _Target(ctx, dtype="f4"),
            "kuwahara": _Target(ctx),
            "sharpen": _Target(ctx),
            "paper": _Target(ctx, components=1),
            "finish": _Target(ctx),
        }
        self.runs = dict.fromkeys(("tensor", "kuwahara", "sharpen", "paper", "finish"), 0)
        self._prepared: tuple | None = None
        self._prepared_fbo: moderngl.Framebuffer | None = None
        self._paper_size: tuple[int, int] | None = None
        self._finished: tuple | None = None

    def prepare(self, upscaler: Upscaler, u: dict[str, float]) -> tuple[moderngl.Framebuffer, tuple]:
        """Kuwahara and sharpen over the upscale, if on: (the picture to compose, a key that
        changes whenever it does)."""
        kuwahara, sharpen = u["kuwahara"], u["sharpen"]
        if kuwahara <= 0.0 and sharpen <= 0.0:
            return upscaler.base_fbo, (upscaler.version,)
        size = upscaler.size
        key = (upscaler.version, size, kuwahara, sharpen)
        if key == self._prepared and self._prepared_fbo is not None:
            return self._prepared_fbo, key
        assert upscaler.image.texture is not None
        src_size = upscaler.image.texture.size
        texel_px = size[0] / (src_size[0] * cover_scale(src_size, size)[0])  # pixels per generator texel
        src = upscaler.base
        fbo = upscaler.base_fbo
        if kuwahara > 0.0:
            fbo = self._kuwahara(src, size, kuwahara * KUWAHARA_TEXELS * texel_px)
            src = fbo.color_attachments[0]
        if sharpen > 0.0:
            fbo = self._sharpen(src, size, sharpen, max(1, round(SHARPEN_TEXELS * texel_px)))
        self._prepared, self._prepared_fbo = key, fbo
        return fbo, key

    def _kuwahara(self, src: moderngl.Texture, size: tuple[int, int], radius: float) -> moderngl.Framebuffer:
        tensor_size = (max(1, size[0] // TENSOR_DIVISOR), max(1, size[1] // TENSOR_DIVISOR))
        tensor = self.targets["tensor"].at(tensor_size)
        src.use(0)
        self.linear.use(0)
        step = (TENSOR_DIVISOR / size[0], TENSOR_DIVISOR / size[1])  # one tensor pixel
        self._draw("tensor", tensor, {"u_step": step})
        out = self.targets["kuwahara"].at(size)
        tensor.color_attachments[0].use(1)
        self.linear.use(1)
        self._draw("kuwahara", out, {"u_radius": radius})
        self.linear.clear(0)
        self.linear.clear(1)
        return out

    def _sharpen(
        self, src: moderngl.Texture, size: tuple[int, int], amount: float, step: int
    ) -> moderngl.Framebuffer:
        out = self.targets["sharpen"].at(size)
        src.use(0)
        peak = -amount / (8.0 + (5.0 - 8.0) * amount)  # CAS's lobe, scaled to 0 as the amount goes
        self._draw("sharpen", out, {"u_src": 0, "u_step": step, "u_peak": peak})
        return out

    def finish(
        self, picture: moderngl.Framebuffer, key: tuple | None, u: dict[str, float], t: float
    ) -> moderngl.Framebuffer:
        """Paper and grain over the composed picture, if on. `key` changes whenever the picture
        does (None: every frame); `t` is the frame's clock time, which seeds the grain."""
        paper, grain = u["paper"], u["grain"]
        variant = (paper > 0.0, grain > 0.0)
        if variant == (False, False):
            self._finished = None
            return picture
        size = picture.color_attachments[0].size
        out = self.targets["finish"].at(size)
        if variant[0]:
            self._make_paper(size)
        finished_key = None if variant[1] or key is None else (key, size, paper)
        if finished_key is not None and finished_key == self._finished:
            return out
        self._finished = finished_key
        picture.color_attachments[0].use(0)
        paper_fbo = self.targets["paper"].fbo
        if variant[0] and paper_fbo is not None:
            paper_fbo.color_attachments[0].use(1)
        values = {"u_paper": paper, "u_grain": grain, "u_seed": grain_seed(t)}
        prog = self.finish_progs[variant]
        set_uniforms(prog, values)
        out.use()
        self.vaos[id(prog)].render(moderngl.TRIANGLES, vertices=3)
        self.runs["finish"] += 1
        return out

    def _make_paper(self, size: tuple[int, int]) -> None:
        """The canvas is fixed to the screen: made once per size, then only read."""
        if self._paper_size == size:
            return
        self._draw("paper", self.targets["paper"].at(size), {"u_ref": 1080.0 / size[1]})
        self._paper_size = size

    def _draw(self, name: str, fbo: moderngl.Framebuffer, values: dict[str, object]) -> None:
        prog = self.progs[name]
        set_uniforms(prog, values)
        fbo.use()
        self.vaos[id(prog)].render(moderngl.TRIANGLES, vertices=3)
        self.runs[name] += 1

    def release(self) -> None:
        for target in self.targets.values():
            target.release()
        for obj in (*self.vaos.values(), *self.progs.values(), *self.finish_progs.values(), self.linear):
            obj.release()
