"""Time the shader chain headless: `python -m engine.render.bench [--size 1280x720] [--frames 100]`.

`--detail` times the detail passes instead (engine.render.detail): all off, then each on alone at
amount 1, with a new generator image every frame (each pass runs every frame) and with one held
image (Kuwahara and sharpen are cached then; paper alone too; grain runs every frame).

Each frame ends with `ctx.finish()` so the number is the real GPU (or
llvmpipe) cost, not just the time to queue commands.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from engine.messages import RenderInput
from engine.render.chain import Renderer
from engine.render.context import HeadlessSurface
from engine.render.glutil import shader_source


def _skeleton() -> np.ndarray:
    rng = np.random.default_rng(1)
    sk = np.zeros((33, 3), np.float32)
    sk[:, 0] = rng.uniform(0.3, 0.7, 33)
    sk[:, 1] = rng.uniform(0.1, 0.9, 33)
    sk[:, 2] = 1.0
    return sk


GRADE = {"saturation": 1.3, "contrast": 1.1}
EVERYTHING = {"mask_mix": 1.0, "mirror": 1.0, "trails": 0.8, "hue_shift": 0.05, **GRADE}
# "held": the generator image and mask stay the same (the renderer outpaces the generator);
# "new": a new image and mask every frame (the worst case).
CASES: dict[str, dict] = {
    "plain held": {"uniforms": {}},
    "plain new": {"uniforms": {}, "new": True},
    "grade held": {"uniforms": GRADE, "moving_grade": True},
    "mask+grade new": {"uniforms": {"mask_mix": 1.0, **GRADE}, "mask": True, "new": True},
    "all+hud held": {"uniforms": EVERYTHING, "mask": True, "hud": True},
    "all+hud new": {"uniforms": EVERYTHING, "mask": True, "hud": True, "new": True},
}


REFERENCE_FS = """#version 330 core
uniform sampler2D u_tex;
out vec4 f_color;
void main() { f_color = texture(u_tex, gl_FragCoord.xy / vec2(textureSize(u_tex, 0)) * 0.2); }
"""


def reference_ms(surface: HeadlessSurface, frames: int) -> float:
    """One bilinear-textured full-screen pass: the yardstick, since this machine's load varies."""
    ctx = surface.ctx
    prog = ctx.program(vertex_shader=shader_source("fullscreen.vert"), fragment_shader=REFERENCE_FS)
    vao = ctx.vertex_array(prog, [])
    tex = ctx.texture((256, 256), 4, np.zeros(256 * 256 * 4, np.uint8).tobytes())
    tex.use(0)
    surface.framebuffer.use()
    times = []
    for i in range(frames + 5):
        t0 = time.perf_counter()
        vao.render(vertices=3)
        ctx.finish()
        if i >= 5:
            times.append((time.perf_counter() - t0) * 1000)
    for obj in (vao, prog, tex):
        obj.release()
    return statistics.median(times)


def run(size: tuple[int, int], frames: int) -> dict[str, float]:
    surface = HeadlessSurface(size)
    renderer = Renderer(surface.ctx, size)
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (256, 256, 3), dtype=np.uint8) for _ in range(4)]
    masks = [np.zeros((144, 256), np.float32) for _ in range(4)]
    for i, m in enumerate(masks):
        m[30:140, 90 + i : 170 + i] = 1.0
    results = {}
    for name, case in CASES.items():
        times = []
        for i in range(frames + 5):
            k = i % 4 if case.get("new") else 0
            uniforms = dict(case["uniforms"])
            if case.get("moving_grade"):  # a VJ riding a fader: the grade changes every frame
                uniforms["brightness"] = 0.1 * np.sin(i / 10)
            inp = RenderInput(
                image=images[k],
                uniforms=uniforms,
                mask=masks[k] if case.get("mask") else None,
                skeleton=_skeleton() if case.get("hud") else None,
                hud_lines=(f"frame {i}", "fps 60.0") if case.get("hud") else (),
            )
            t0 = time.perf_counter()
            renderer.render(inp, surface.framebuffer)
            surface.ctx.finish()
            if i >= 5:  # the first frames compile and allocate
                times.append((time.perf_counter() - t0) * 1000)
        results[name] = statistics.median(times)
    results["reference pass"] = reference_ms(surface, frames)
    renderer.release()
    surface.close()
    return results


DETAIL_CASES: dict[str, dict[str, float]] = {
    "off": {},
    "sharpen": {"sharpen": 1.0},
    "grain": {"grain": 1.0},
    "paper": {"paper": 1.0},
    "kuwahara": {"kuwahara": 1.0},
    "all four": {"sharpen": 1.0, "grain": 1.0, "paper": 1.0, "kuwahara": 1.0},
}


def run_detail(size: tuple[int, int], frames: int, scale: float = 1.0) -> dict[str, tuple[float, float]]:
    """Detail case → (median ms with a new image every frame, median ms with a held image).

    The cases take turns frame by frame, each with its own Renderer (its own caches), so a change
    in this shared machine's load shifts every case alike instead of whichever ran at the time."""
    surface = HeadlessSurface(size)
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (256, 256, 3), dtype=np.uint8) for _ in range(2)]
    times: dict[tuple[str, bool], list[float]] = {}
    renderers = {(n, new): Renderer(surface.ctx, size, scale) for n in DETAIL_CASES for new in (True, False)}
    for i in range(frames + 5):
        for (name, new), renderer in renderers.items():
            inp = RenderInput(image=images[i % 2 if new else 0], uniforms=DETAIL_CASES[name], t=i / 30)
            t0 = time.perf_counter()
            renderer.render(inp, surface.framebuffer)
            surface.ctx.finish()
            if i >= 5:  # the first frames allocate
                times.setdefault((name, new), []).append((time.perf_counter() - t0) * 1000)
    med = {k: statistics.median(v) for k, v in times.items()}
    results = {n: (med[n, True], med[n, False]) for n in DETAIL_CASES}
    ref = reference_ms(surface, frames)
    results["reference pass"] = (ref, ref)
    for renderer in renderers.values():
        renderer.release()
    surface.close()
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--detail", action="store_true", help="time the detail passes (sharpen, grain, …)")
    ap.add_argument("--scale", type=float, default=1.0, help="with --detail: [render] render_scale")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.lower().split("x"))
    if args.detail:
        print(f"{'detail pass':14s} {'size':9s} {'new image':>10s} {'held image':>11s}  (median ms/frame)")
        for name, (new, held) in run_detail((w, h), args.frames, args.scale).items():
            print(f"{name:14s} {w}x{h} {new:10.2f} {held:11.2f}")
        return
    for name, ms in run((w, h), args.frames).items():
        print(f"{name:16s} {w}x{h}: median {ms:.2f} ms/frame")


if __name__ == "__main__":
    main()
