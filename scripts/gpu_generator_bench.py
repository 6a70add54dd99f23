"""Generator ms/frame on a CUDA GPU through PyTorch, for checkpoints a GPU run just made.

The engine's GPU path is ONNX Runtime's CUDA/TensorRT providers (engine/generator/bench.py,
scripts/gpu_check.sh); this measures the same networks in PyTorch, eager and as a CUDA
graph, fp32 and bf16, where those providers cannot be installed.

    python3 scripts/gpu_generator_bench.py runs/student/checkpoint.pt runs/teacher/checkpoint.pt
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.cgan.trainer import load_generator  # noqa: E402


def time_ms(fn, iters: int = 100) -> float:
    for _ in range(10):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(iters):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    return statistics.median(times)


def bench(path: Path) -> list[dict]:
    g = load_generator(path, "cuda")
    syn, wd, res = g.synthesis, g.cfg.generator.w_dim, g.cfg.generator.resolution
    rows = []
    for batch in (1, 4):
        w = torch.randn(batch, wd, device="cuda")
        for dtype in ("fp32", "bf16"):
            ctx = torch.autocast("cuda", torch.bfloat16, enabled=dtype == "bf16")

            def run(w=w, ctx=ctx):
                with torch.no_grad(), ctx:
                    return syn(w)

            eager = time_ms(run)
            stream = torch.cuda.Stream()
            stream.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(stream):
                for _ in range(3):
                    run()
            torch.cuda.current_stream().wait_stream(stream)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                out = run()
            graphed = time_ms(graph.replay)
            ok = bool(torch.isfinite(out).all())
            rows.append(
                {"model": path.parent.name, "res": res, "batch": batch, "dtype": dtype,
                 "eager_ms": round(eager, 3), "cuda_graph_ms": round(graphed, 3),
                 "graph_ms_per_image": round(graphed / batch, 3), "finite": ok}
            )  # fmt: skip
            print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    print(json.dumps({"gpu": torch.cuda.get_device_name(), "torch": torch.__version__}))
    rows = [r for p in sys.argv[1:] if Path(p).exists() for r in bench(Path(p))]
    print(json.dumps({"rows": rows}))


if __name__ == "__main__":
    main()
