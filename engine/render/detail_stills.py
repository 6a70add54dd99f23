"""Stills of one generator frame with the detail passes off and on, for judging them by eye.

    python -m engine.render.detail_stills [--model models/painterly] [--seed 7] [--size 1920x1080]
        [--out docs/detail] [--set sharpen=0.6 --set grain=0.25 ...]

Writes off.png (today's chain) and on.png (the chain with the given render uniforms) from the same
latent, rendered headless through the real Renderer, so what is seen is what the engine shows.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from engine.generator.onnx_generator import OnnxGenerator
from engine.messages import RenderInput
from engine.render.chain import Renderer
from engine.render.context import HeadlessSurface
from engine.render.readback import read_rgb
from engine.render.uniforms import UNIFORMS

RECOMMENDED = {"kuwahara": 0.8, "sharpen": 0.5, "paper": 0.3, "grain": 0.2}


def generator_frame(model: str, seed: int) -> np.ndarray:
    """One 256² RGB uint8 frame for a fixed latent (the model's own sampler, seeded)."""
    gen = OnnxGenerator(model, provider="cpu", threads=1, warmup=0)
    latent = gen.sample_latents(1, np.random.default_rng(seed))
    return gen.generate_rgb(latent)[0]


def render(
    image: np.ndarray, size: tuple[int, int], uniforms: dict[str, float], t: float = 1.0
) -> np.ndarray:
    surface = HeadlessSurface(size)
    renderer = Renderer(surface.ctx, size)
    try:
        renderer.render(RenderInput(image=image, uniforms=uniforms, t=t), surface.framebuffer)
        return read_rgb(surface.framebuffer)
    finally:
        renderer.release()
        surface.close()


def parse_set(items: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or name not in UNIFORMS:
            raise SystemExit(f"--set {item}: want NAME=VALUE with NAME one of {', '.join(UNIFORMS)}")
        out[name] = float(value)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="models/painterly")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--out", default="docs/detail")
    ap.add_argument("--set", action="append", default=[], help="render uniform NAME=VALUE for on.png")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.lower().split("x"))
    settings = parse_set(args.set) if args.set else RECOMMENDED
    image = generator_frame(args.model, args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, uniforms in (("off", {}), ("on", settings)):
        rgb = render(image, (w, h), uniforms)
        cv2.imwrite(str(out / f"{name}.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        print(f"{out / name}.png  {uniforms}")


if __name__ == "__main__":
    main()
