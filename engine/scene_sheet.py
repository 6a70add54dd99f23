"""A scene's contact sheet: four frames of an offline run side by side, for a curator who will not run it.

    python -m engine.scene_sheet --scene drift [--source demo] [--frames 120] [--size 480x270]
        [--model DIR] --out docs/scenes/drift.png

The run is the real loop offline (MediaPipe, the generator, EGL), so the sheet is what the projector
would show for that input, deterministic from the source. It also prints how much the picture moves:
the mean and largest frame-to-frame change in grey levels, the numbers a scene's tests bound.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

TILES = 4


def render_frames(
    scene: str, source: str, frames: int, size: str, model: str | None
) -> tuple[list[np.ndarray], list[float]]:
    """The presented frames and each one's clock time (a clip's own, on the offline clock)."""
    from engine.app import App
    from engine.config import load_config

    run = dict(source=source, headless=True, offline=True, frames=frames, size=size, scene=scene)
    if model:
        run["model"] = model
    cfg = load_config(None, {"run": run, "osc": {"listen": "off"}})
    app = App(cfg)
    images: list[np.ndarray] = []
    times: list[float] = []

    def keep(rgb: np.ndarray, step) -> None:
        images.append(rgb.copy())
        times.append(step.t)

    app.on_frame = keep
    if app.run() != 0:
        raise SystemExit(f"error: the offline run of scene '{scene}' failed (see the log above)")
    return images, times


def motion(images: list[np.ndarray]) -> dict[str, float]:
    """Mean |Δ| between consecutive frames in grey levels: a still picture is 0."""
    steps = [
        float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean()) for a, b in zip(images, images[1:])
    ]
    return {"mean_change": round(float(np.mean(steps)), 3), "max_change": round(float(np.max(steps)), 3)}


def sheet(images: list[np.ndarray], times: list[float], scene: str) -> Image.Image:
    picks = np.linspace(len(images) // (2 * TILES), len(images) - 1, TILES).astype(int)
    h, w = images[0].shape[:2]
    canvas = Image.new("RGB", (TILES * w + (TILES - 1) * 4, h + 18), (16, 16, 16))
    draw = ImageDraw.Draw(canvas)
    for k, i in enumerate(picks):
        x = k * (w + 4)
        canvas.paste(Image.fromarray(images[i]), (x, 18))
        draw.text((x + 4, 3), f"{scene}  t = {times[i] - times[0]:.1f} s", fill=(220, 220, 220))
    return canvas


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scene", required=True)
    ap.add_argument("--source", default="demo")
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--size", default="480x270")
    ap.add_argument("--model", default=None)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args(argv)
    from engine.scene import scene_names

    if a.scene not in scene_names():
        print(f"error: unknown scene '{a.scene}' (available: {', '.join(scene_names())})", file=sys.stderr)
        return 2
    images, times = render_frames(a.scene, a.source, a.frames, a.size, a.model)
    if len(images) < TILES:
        print(f"error: only {len(images)} frames rendered, {TILES} needed", file=sys.stderr)
        return 2
    a.out.parent.mkdir(parents=True, exist_ok=True)
    sheet(images, times, a.scene).save(a.out, optimize=True)
    print(json.dumps({"scene": a.scene, "source": a.source, "frames": len(images), **motion(images)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
