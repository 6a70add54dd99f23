"""Generator benchmark: ms per frame (median, p95) and fps per model, provider and batch size.

    python -m engine.generator.bench [--model DIR ...] [--provider P] [--batches 1,4] [--json PATH]

Prints a table and then one JSON line, so numbers can be quoted and compared.
Batch-4 rows give ms per frame (batch time / 4). `--model` repeats: one table for several
models (e.g. the shipped 256² one and a 512² speed fixture from models.upsized). The JSON's
top-level `model` and `resolution` are the first model's, as before; each row names its own.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from engine.generator.manifest import load_manifest
from engine.generator.onnx_generator import OnnxGenerator
from engine.generator.providers import MAX_BATCH, SHORT

DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "models" / "painterly"


def bench_one(gen: OnnxGenerator, batch: int, iters: int, warmup: int = 5) -> dict:
    rng = np.random.default_rng(0)
    latents = gen.sample_latents(batch, rng)
    for _ in range(warmup):
        gen.generate(latents)
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        gen.generate(latents)
        times.append((time.perf_counter() - t) * 1000.0 / batch)
    med = float(np.median(times))
    return {
        "provider": gen.provider,
        "batch": batch,
        "threads": gen_threads(gen),
        "ms_median": round(med, 2),
        "ms_p95": round(float(np.percentile(times, 95)), 2),
        "fps": round(1000.0 / med, 1),
        "iters": iters,
    }


def gen_threads(gen: OnnxGenerator) -> int:
    return int(gen.session.get_session_options().intra_op_num_threads)


def bench_model(model: Path, providers: list[str], batches: list[int], threads: int, iters: int) -> list:
    rows = []
    for provider in providers:
        gen = OnnxGenerator(model, provider=provider, threads=threads)
        if gen.provider != provider:
            print(f"# {model.name} {provider}: unavailable, onnxruntime fell back to {gen.provider}; skipped")
            continue
        m = gen.manifest
        for batch in batches:
            if provider == "tensorrt" and batch > MAX_BATCH:
                print(f"# tensorrt batch {batch}: over the engine's profile (1..{MAX_BATCH}); skipped")
                continue
            row = bench_one(gen, batch, iters)
            rows.append({"model": m.name, "size": f"{m.width}x{m.height}", **row})
        del gen  # one GPU session at a time
    return rows


def format_table(rows: list[dict]) -> str:
    cols = f"{'model':<16}{'size':>10}{'provider':>10}{'batch':>6}{'threads':>8}"
    lines = [cols + f"{'ms p50':>9}{'p95':>8}{'fps':>8}"]
    for r in rows:
        lines.append(
            f"{r['model']:<16}{r['size']:>10}{r['provider']:>10}{r['batch']:>6}{r['threads']:>8}"
            f"{r['ms_median']:>9.2f}{r['ms_p95']:>8.2f}{r['fps']:>8.1f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--model",
        type=Path,
        action="append",
        help="model folder; repeat for several (default: the shipped one)",
    )
    ap.add_argument("--provider", default="all", help="all (every available), tensorrt, cuda or cpu")
    ap.add_argument("--threads", type=int, default=1, help="CPU intra-op threads")
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--batches", default="1,4")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    models = args.model or [DEFAULT_MODEL]
    try:
        batches = [int(b) for b in args.batches.split(",")]
    except ValueError:
        ap.error(f"--batches must be comma-separated integers, got '{args.batches}'")
    available = [SHORT[p] for p in ort.get_available_providers() if p in SHORT]
    providers = (
        [p for p in ("tensorrt", "cuda", "cpu") if p in available]
        if args.provider == "all"
        else [args.provider]
    )
    rows, described = [], []
    for model in models:
        m = load_manifest(model)
        described.append({"model": str(m.folder), "name": m.name, "resolution": [m.width, m.height]})
        print(f"model {m.folder} ({m.width}x{m.height}, latent {m.latent_dim} {m.latent_space})")
        rows += bench_model(model, providers, batches, args.threads, args.iters)
    print(f"onnxruntime {ort.__version__}")
    print(format_table(rows))
    result = {
        "model": described[0]["model"],
        "resolution": described[0]["resolution"],
        "onnxruntime": ort.__version__,
        "rows": rows,
        "models": described,
    }
    print(json.dumps(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
