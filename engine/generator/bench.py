"""Generator benchmark: ms per frame (median, p95) and fps per provider and batch size.

    python -m engine.generator.bench [--model DIR] [--provider P] [--threads N] [--json PATH]

Prints a table and then one JSON line, so numbers can be quoted and compared.
Batch-4 rows give ms per frame (batch time / 4).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from engine.generator.onnx_generator import OnnxGenerator
from engine.generator.providers import SHORT

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--model", type=Path, default=DEFAULT_MODEL, help="model folder (default: the shipped one)"
    )
    ap.add_argument("--provider", default="all", help="all (every available), tensorrt, cuda or cpu")
    ap.add_argument("--threads", type=int, default=1, help="CPU intra-op threads")
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--batches", default="1,4")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    available = [SHORT[p] for p in ort.get_available_providers() if p in SHORT]
    providers = (
        [p for p in ("tensorrt", "cuda", "cpu") if p in available]
        if args.provider == "all"
        else [args.provider]
    )
    rows = []
    for provider in providers:
        gen = OnnxGenerator(args.model, provider=provider, threads=args.threads)
        if gen.provider != provider:
            print(f"# {provider}: unavailable, onnxruntime fell back to {gen.provider}; skipped")
            continue
        for batch in (int(b) for b in args.batches.split(",")):
            rows.append(bench_one(gen, batch, args.iters))
    m = gen.manifest
    print(
        f"model {m.folder} ({m.width}x{m.height}, latent {m.latent_dim} {m.latent_space}), "
        f"ort {ort.__version__}"
    )
    print(f"{'provider':<10}{'batch':>6}{'threads':>8}{'ms/frame p50':>14}{'p95':>8}{'fps':>8}")
    for r in rows:
        print(
            f"{r['provider']:<10}{r['batch']:>6}{r['threads']:>8}{r['ms_median']:>14.2f}{r['ms_p95']:>8.2f}{r['fps']:>8.1f}"
        )
    result = {
        "model": str(m.folder),
        "resolution": [m.width, m.height],
        "onnxruntime": ort.__version__,
        "rows": rows,
    }
    print(json.dumps(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
