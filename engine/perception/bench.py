"""Perception cost per frame on real photographs, for choosing `[perception] max_people`.

    python -m engine.perception.bench [--frames 60] [--max-people 1,2,4] [--json PATH]

Each photo is fed as a still video at 30 fps to one Perceiver in video mode (MediaPipe tracks
between frames, as with a camera), and the wall time of `process` is taken per frame after a
short warm-up, with the process's CPU time (all threads), which a busy machine inflates less.
Scenes: nobody (a coffee cup), one person (the astronaut portrait), two people
(the astronaut beside Grace Hopper's portrait: two real photos side by side, the only way to get
two real people from the packages installed; both at full height, where MediaPipe's person
detector finds both). All in a 640×480 frame, the camera's default.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import fields, replace
from pathlib import Path

import cv2
import numpy as np

from engine.messages import Frame
from engine.perception.settings import PerceptionSettings
from engine.perception.tracker import Perceiver

WARMUP = 5


def letterbox(image: np.ndarray, width: int = 640, height: int = 480) -> np.ndarray:
    """The photo fitted into a camera-sized black frame, as a webcam would deliver it."""
    h, w = image.shape[:2]
    s = min(width / w, height / h)
    small = cv2.resize(image, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    out = np.zeros((height, width, 3), np.uint8)
    top, left = (height - small.shape[0]) // 2, (width - small.shape[1]) // 2
    out[top : top + small.shape[0], left : left + small.shape[1]] = small
    return out


def place(canvas: np.ndarray, photo: np.ndarray, centre_x: float, scale: float) -> None:
    """Paste `photo` standing on the canvas's bottom edge, `scale` × the canvas's height tall,
    centred at `centre_x` (a fraction of the width); the part outside the canvas is cut off."""
    ch, cw = canvas.shape[:2]
    h = max(1, round(ch * scale))
    w = max(1, round(photo.shape[1] * h / photo.shape[0]))
    im = cv2.resize(photo, (w, h), interpolation=cv2.INTER_AREA)
    x0 = round(centre_x * cw - w / 2)
    a, b = max(0, x0), min(cw, x0 + w)
    if b > a:
        canvas[ch - h :, a:b] = im[:, a - x0 : b - x0]


def two_people(
    left: np.ndarray, right: np.ndarray, left_scale: float, right_scale: float, size: tuple[int, int]
) -> np.ndarray:
    """Two real portraits side by side on a black frame (width, height), each scaled on its own:
    one person stepping nearer is that photo growing. The packages ship no photo of two people."""
    w, h = size
    canvas = np.zeros((h, w, 3), np.uint8)
    place(canvas, left, 0.25, left_scale)
    place(canvas, right, 0.75, right_scale)
    return canvas


def scenes() -> dict[str, np.ndarray]:
    import skimage.data
    from matplotlib import cbook

    hopper = cv2.imread(str(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)))
    hopper = cv2.cvtColor(hopper, cv2.COLOR_BGR2RGB)[:, 40:-40]  # less empty background beside her
    astronaut = skimage.data.astronaut()
    return {
        "nobody": letterbox(skimage.data.coffee()),
        "one": letterbox(astronaut),
        "two": letterbox(two_people(astronaut, hopper, 1.0, 1.0, (960, 480))),
    }


def time_perceiver(settings: PerceptionSettings, image: np.ndarray, frames: int) -> dict[str, float]:
    with Perceiver(settings) as p:
        ms, cpu, count = [], [], 0.0
        for i in range(WARMUP + frames):
            t0, c0 = time.perf_counter(), time.process_time()
            v = p.process(Frame(image, i / 30.0, i, "bench"))
            if i >= WARMUP:
                ms.append((time.perf_counter() - t0) * 1e3)
                cpu.append((time.process_time() - c0) * 1e3)
            count = float(v.features.get("count", v.features["presence"]))
    ms.sort()
    return {
        "ms_p50": round(statistics.median(ms), 1),
        "ms_p90": round(ms[int(0.9 * (len(ms) - 1))], 1),
        "cpu_ms_p50": round(statistics.median(cpu), 1),
        "count": count,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--max-people", default="1,2,4", help="comma-separated values to compare")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    has_max = "max_people" in {f.name for f in fields(PerceptionSettings)}
    counts = [int(v) for v in args.max_people.split(",")] if has_max else [1]
    results = []
    for name, image in scenes().items():
        for n in counts:
            settings = replace(PerceptionSettings(), max_people=n) if has_max else PerceptionSettings()
            r = {"scene": name, "max_people": n, **time_perceiver(settings, image, args.frames)}
            results.append(r)
            print(
                f"{name:7s} max_people={n}: {r['ms_p50']:5.1f} ms p50, {r['ms_p90']:5.1f} ms p90, "
                f"CPU {r['cpu_ms_p50']:5.1f} ms p50 (all threads), count {r['count']:.0f}",
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
