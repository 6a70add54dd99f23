"""Time the projector warp pass headless: `python -m engine.render.warp_bench [--frames 100]`.

For each output size and chain scale ([render] render_scale: 0.5 is the default, 1.0 full size), three
Renderers take turns frame by frame (a new generator image each frame): no calibration, the keystone and
mesh of demo_entry without its blend, and with it; taking turns, a change in this shared machine's load
shifts all alike, and the difference of the medians is what the warp costs the render thread. Then the
last step alone: what the chain does without a calibration (a copy at scale 1, a bilinear blit below
it) and the warp draw that replaces it. Each timing ends with
`ctx.finish()`, so the numbers are the rasteriser's real work, not the time to queue commands.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

import moderngl
import numpy as np

from calibration import projector_mesh as mesh
from calibration.projector import EdgeBlend, OutputWarp
from engine.messages import RenderInput
from engine.render.chain import Renderer
from engine.render.context import HeadlessSurface


def demo_entry() -> OutputWarp:
    """A typical install: keystone from a projector below and to the left, a 5×4 mesh bent for a
    slightly curved wall, left and right soft edges (the middle one of three projectors)."""
    grid = mesh.default_grid(5, 4)
    grid[1:-1, 1:-1, 1] += 0.02 * np.sin(np.pi * grid[1:-1, 1:-1, 0])
    blend = (EdgeBlend(0.15, 2.2, 0.03), EdgeBlend(0.15, 2.2, 0.03), EdgeBlend(), EdgeBlend())
    corners = ((0.04, 0.02), (0.97, 0.07), (0.93, 0.98), (0.02, 0.95))
    return OutputWarp(corners, OutputWarp.default(5, 4).with_grid(grid).grid, blend)


def bench(size: tuple[int, int], scale: float, frames: int) -> dict[str, float]:
    surface = HeadlessSurface(size)
    ctx = surface.ctx
    target = surface.framebuffer
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (256, 256, 3), dtype=np.uint8) for _ in range(2)]
    demo = demo_entry()
    renderers = {
        "chain": Renderer(ctx, size, scale),
        "chain + warp": Renderer(ctx, size, scale, projector=replace(demo, blend=OutputWarp().blend)),
        "chain + warp + blend": Renderer(ctx, size, scale, projector=demo),
    }
    plain = renderers["chain"]
    times: dict[str, list[float]] = {}

    def timed(name: str, fn, i: int) -> None:
        t0 = time.perf_counter()
        fn()
        ctx.finish()
        if i >= 5:  # the first frames compile and allocate
            times.setdefault(name, []).append((time.perf_counter() - t0) * 1000)

    def without_warp() -> None:  # what Renderer.render does last when there is no calibration
        picture = plain.out_fbo  # a picture at chain size, as the last step reads it
        tex = picture.color_attachments[0]
        if picture.size == size:
            ctx.copy_framebuffer(target, picture)
            return
        target.use()
        tex.filter = (moderngl.LINEAR, moderngl.LINEAR)
        tex.use(0)
        plain.blit_vao.render(moderngl.TRIANGLES, vertices=3)
        tex.filter = (moderngl.NEAREST, moderngl.NEAREST)

    for i in range(frames + 5):
        inp = RenderInput(image=images[i % 2], uniforms={})  # a new image every frame: the worst case
        for name, r in renderers.items():
            timed(name, lambda r=r, inp=inp: r.render(inp, target), i)
        timed("last step alone: copy or blit", without_warp, i)
        for name in ("chain + warp", "chain + warp + blend"):
            r = renderers[name]
            tex = r.out_fbo.color_attachments[0]
            timed(f"last step alone: {name[8:]}", lambda r=r, tex=tex: r.warp.draw(tex, target), i)
    med = {k: statistics.median(v) for k, v in times.items()}
    for name in ("chain + warp", "chain + warp + blend"):
        med[f"{name[8:]} adds"] = med[name] - med["chain"]
    t0 = time.perf_counter()
    for _ in range(5):
        renderers["chain + warp + blend"].set_projector(demo_entry())
    med["mesh rebuild (CPU, on a change)"] = (time.perf_counter() - t0) * 1000 / 5
    med["mesh triangles"] = renderers["chain + warp"].warp.vertices / 3
    for r in renderers.values():
        r.release()
    surface.close()
    return med


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1280x720,1920x1080")
    ap.add_argument("--scales", default="0.5,1.0", help="[render] render_scale values to time")
    ap.add_argument("--frames", type=int, default=100)
    args = ap.parse_args(argv)
    for text in args.sizes.split(","):
        w, h = (int(v) for v in text.lower().split("x"))
        for scale in (float(s) for s in args.scales.split(",")):
            for name, ms in bench((w, h), scale, args.frames).items():
                unit = "" if name == "mesh triangles" else " ms"
                print(f"{w}x{h} scale {scale:g}  {name:32s} {ms:8.2f}{unit}")


if __name__ == "__main__":
    main()
