"""Offline quality report for one or more generator folders against their labelled training data.

    python -m models.evaluate --model models/painterly [--model OTHER ...] --data DATA [--out REPORT]
        [--samples 1000] [--max-data 4000]

DATA is a shard set (shard_*.npz + dataset.json) or a folder of NNNNNN_<family>.png images. Each
model is loaded and sampled through the engine's own runtime (manifest, mapping network, truncation),
so the report judges what the installation would show. Per model, side by side with a column for
held-out real images (the floor a perfect generator would reach at that sample count):

- SWD ×1e3 per Laplacian-pyramid level (256 … 16 px): where detail departs from the data's.
- spectrum gap: mean |Δ log10 power| of the grey radial spectrum, high-frequency half and overall.
- coverage: share of samples the family classifier (trained on DATA, cached as DATA/classifier.pt)
  assigns to each family; families under a quarter of the uniform share count as empty. A model with
  styles is sampled one style at a time in equal shares, and `style accuracy` is the share the
  classifier files under the style asked for.
- memorisation: median nearest-training-image distance of samples over that of held-out real images
  (64² pixels, and classifier features); ≪ 1 means copying.
- interpolation smoothness: largest and mean frame-to-frame RMS step along a 60-step latent path.

Prints a table and writes REPORT/report.json and REPORT/report.png (REPORT defaults to runs/evaluate).
About 75 s for one model at 1000 samples on a 2-core CPU, plus ~10 s the first time to train the judge.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

from engine.generator.manifest import ModelError
from engine.generator.onnx_generator import OnnxGenerator
from models.metrics import classifier as family_classifier
from models.metrics.coverage import coverage
from models.metrics.data import LabelledImages, load_labelled, resize, split
from models.metrics.memorisation import memorisation, pixel_vectors
from models.metrics.report import format_table, plot_report
from models.metrics.spectrum import radial_profile, spectrum_gap
from models.metrics.swd import descriptors, swd_per_level
from models.samples import interpolation_path

HELD_OUT = "data (held-out)"
MAX_SIZE = 256  # the pyramid's finest level; larger models and data are compared at 256²
CLOSEST_PAIRS = 8  # generated images nearest a training image, shown beside it in report.png


def sample(gen: OnnxGenerator, n: int, seed: int, batch: int = 16) -> tuple[np.ndarray, list[str] | None]:
    """n images through the model's own sampler (mapping network and truncation from the manifest),
    and for a model with styles the style each was asked in.

    A style model is sampled one style at a time, in equal shares, as the balanced data holds its
    families and as a VJ selects them: the blend of every style (its sampler's default) is a
    mixture no family looks like, and would hide whether each style draws its own family."""
    rng = np.random.default_rng(seed)
    names = gen.styles.names if len(gen.styles) else ()
    if not names:
        latents = gen.sample_latents(n, rng)
        asked = None
    else:
        asked = [names[i % len(names)] for i in range(n)]
        latents = np.empty((n, gen.latent_dim), np.float32)
        for k in range(len(names)):
            rows = np.arange(k, n, len(names))
            latents[rows] = gen.sample_latents(len(rows), rng, np.eye(len(names), dtype=np.float32)[k])
    images = np.concatenate([gen.generate_rgb(latents[s : s + batch]) for s in range(0, n, batch)])
    return images, asked


def smoothness(gen: OnnxGenerator, seed: int, steps: int = 60) -> dict:
    ends = gen.sample_latents(2, np.random.default_rng(seed + 1))
    path = gen.generate_rgb(interpolation_path(gen, ends[0], ends[1], steps)).astype(np.float32) / 255.0
    step = np.sqrt(((path[1:] - path[:-1]) ** 2).mean(axis=(1, 2, 3)))
    return {
        "max_step": round(float(step.max()), 4),
        "mean_step": round(float(step.mean()), 4),
        "end_to_end": round(float(np.sqrt(((path[-1] - path[0]) ** 2).mean())), 4),
    }


class Reference:
    """Everything computed once from the data and shared by every model's column."""

    def __init__(self, data: LabelledImages, data_dir: Path, size: int, n_ref: int, seed: int) -> None:
        self.data, self.size, self.seed = data, size, seed
        self.parts = split(len(data.images), seed=seed)
        t = time.perf_counter()
        self.judge = family_classifier.load_or_train(data, self.parts, data_dir)
        self.classifier_s = time.perf_counter() - t
        rng = np.random.default_rng(seed)
        pick = rng.choice(self.parts.train, size=min(n_ref, len(self.parts.train)), replace=False)
        ref = resize(data.images[pick], size)
        self.swd = descriptors(ref, np.random.default_rng(seed + 10))
        self.spectrum = radial_profile(ref)
        train = data.images[self.parts.train]
        self.train_pixels = pixel_vectors(train)
        _, self.train_features = family_classifier.predict(self.judge.net, train)
        held = data.images[self.parts.held]
        self.held_pixels = pixel_vectors(held)
        _, self.held_features = family_classifier.predict(self.judge.net, held)


def column(
    ref: Reference, images: np.ndarray, seed: int, held_out: bool = False, asked: list[str] | None = None
) -> tuple[dict, dict]:
    """The metrics of one set of images against the reference, and the seconds each took."""
    timings: dict[str, float] = {}
    t = time.perf_counter()
    sized = resize(images, ref.size)
    out: dict = {"n": len(images)}
    out["swd"] = swd_per_level(ref.swd, descriptors(sized, np.random.default_rng(seed)), seed=seed)
    timings["swd"] = time.perf_counter() - t
    t = time.perf_counter()
    curve = radial_profile(sized)
    out["spectrum"] = spectrum_gap(ref.spectrum, curve)
    out["spectrum_curve"] = [round(float(v), 4) for v in curve]
    timings["spectrum"] = time.perf_counter() - t
    t = time.perf_counter()
    probs, feats = family_classifier.predict(ref.judge.net, images)
    out["coverage"] = coverage(probs, ref.judge.families)
    if asked is not None:
        out["coverage"]["style_accuracy"] = style_accuracy(probs, ref.judge.families, asked)
    timings["coverage"] = time.perf_counter() - t
    if not held_out:
        t = time.perf_counter()
        pixels = pixel_vectors(images)
        mem = memorisation(pixels, ref.held_pixels, ref.train_pixels)
        out["memorisation"] = {
            "pixels": mem,
            "features": memorisation(feats, ref.held_features, ref.train_features),
        }
        closest = np.argsort(mem["distances_generated"])[:CLOSEST_PAIRS]
        out["closest_pairs"] = np.stack([pixels[closest], ref.train_pixels[mem["nearest_train"][closest]]], 1)
        timings["memorisation"] = time.perf_counter() - t
    return out, timings


def style_accuracy(probs: np.ndarray, families: list[str], asked: list[str]) -> float | None:
    """Share of samples the judge files under the very style they were asked in: whether a VJ who
    selects `glass` gets glass. None when no style is named like a data family."""
    pairs = [(i, families.index(a)) for i, a in enumerate(asked) if a in families]
    if not pairs:
        return None
    picked = probs.argmax(axis=1)
    return round(float(np.mean([picked[i] == k for i, k in pairs])), 4)


def _names(models: list[Path]) -> list[str]:
    names: list[str] = []
    for m in models:
        name = m.name or str(m)
        names.append(name if name not in names and name != HELD_OUT else f"{name} ({len(names) + 1})")
    return names


def evaluate(
    models: list[Path], data_dir: Path, samples: int = 1000, seed: int = 0, max_data: int | None = None
):
    """The report as a dict (JSON-ready except the per-image distances, which stay for the plot)."""
    timings: dict = {}
    t = time.perf_counter()
    data = load_labelled(data_dir, limit=max_data, seed=seed)
    timings["load_data"] = time.perf_counter() - t
    gens = [OnnxGenerator(m, provider="cpu", threads=2) for m in models]
    data_size = min(data.images.shape[1:3])
    size = min([MAX_SIZE, data_size] + [min(g.manifest.height, g.manifest.width) for g in gens])
    t = time.perf_counter()
    ref = Reference(data, data_dir, size, samples, seed)
    timings["reference"] = time.perf_counter() - t - ref.classifier_s
    timings["classifier"] = ref.classifier_s
    columns: dict[str, dict] = {}
    columns[HELD_OUT], timings[HELD_OUT] = column(ref, data.images[ref.parts.held], seed + 2, held_out=True)
    for name, model, gen in zip(_names(models), models, gens):
        t = time.perf_counter()
        images, asked = sample(gen, samples, seed)
        took = {"sample": time.perf_counter() - t}
        columns[name], more = column(ref, images, seed + 2, asked=asked)
        took.update(more)
        t = time.perf_counter()
        columns[name]["smoothness"] = smoothness(gen, seed)
        columns[name]["model"] = str(model)
        columns[name]["resolution"] = [gen.manifest.height, gen.manifest.width]
        took["smoothness"] = time.perf_counter() - t
        timings[name] = took
    return {
        "data": {
            "folder": str(data_dir),
            "format": data.source,
            "images": len(data.images),
            "train": len(ref.parts.train),
            "held_out": len(ref.parts.held),
            "families": data.families,
            "family_shares": {
                f: round(float(s), 4)
                for f, s in zip(
                    data.families, np.bincount(data.labels, minlength=len(data.families)) / len(data.labels)
                )
            },
            "resolution": list(data.images.shape[1:3]),
            "spectrum_curve": [round(float(v), 4) for v in ref.spectrum],
        },
        "classifier": {
            "held_out_accuracy": round(ref.judge.accuracy, 4),
            "cache": str(ref.judge.path) if ref.judge.path else None,
            "trained_now": ref.judge.trained_now,
            "input": "64x64 RGB",
        },
        "settings": {
            "samples": samples,
            "seed": seed,
            "analysis_size": size,
            "swd_reference_images": min(samples, len(ref.parts.train)),
            "memorisation_spaces": {
                "pixels": "RMS over 64x64 RGB in 0..1",
                "features": "RMS over the classifier's 64-d penultimate features",
            },
        },
        "columns": columns,
        "timings_s": _round(timings),
    }


def _round(x):
    if isinstance(x, dict):
        return {k: _round(v) for k, v in x.items()}
    return round(x, 2) if isinstance(x, float) else x


def _jsonable(x):
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items() if not isinstance(v, np.ndarray)}
    return x


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, action="append", required=True, help="model folder (repeatable)")
    ap.add_argument("--data", type=Path, required=True, help="shard set or NNNNNN_<family>.png folder")
    ap.add_argument(
        "--out", type=Path, default=Path("runs/evaluate"), help="report folder (report.json, .png)"
    )
    ap.add_argument("--samples", type=int, default=1000, help="generated images per model")
    ap.add_argument("--max-data", type=int, default=4000, help="use at most this many data images")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.samples < 2:
        ap.error("--samples must be at least 2")
    try:
        report = evaluate(args.model, args.data, args.samples, args.seed, args.max_data)
    except (ModelError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(_jsonable(report), indent=1) + "\n", encoding="utf-8")
    plot_report(report, args.out / "report.png")
    print(format_table(report))
    print(f"wrote {args.out / 'report.json'} and {args.out / 'report.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
