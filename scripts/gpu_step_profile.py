"""Where a conditional GAN training step's time goes on a CUDA GPU: steps/s alone, and a profile.

The first lease trained at 4.8 steps/s (student, 256², batch 32) beside a teacher in a second
process; this measures the student alone and names the kernels and ops that dominate.

    python3 scripts/gpu_step_profile.py [--model student] [--steps 60]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.cgan.__main__ import MODELS, _device  # noqa: E402
from models.cgan.data import StyleData  # noqa: E402
from models.cgan.networks import StyleGANConfig  # noqa: E402
from models.cgan.trainer import StyleTrainer, TrainSettings  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="student")
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--batch", type=int, default=32)
    a = ap.parse_args()
    dev = _device("cuda")
    g = MODELS[a.model]
    data = StyleData.paint(1000, g.resolution, 0, dev)
    cfg = StyleGANConfig(styles=data.families, generator=g)
    tr = StyleTrainer(cfg, data, Path(tempfile.mkdtemp()), TrainSettings(batch=a.batch))
    for variant in ("full", "no_r1", "no_augment"):
        tr.s = TrainSettings(
            batch=a.batch,
            r1_every=10**9 if variant == "no_r1" else 16,
            augment=() if variant == "no_augment" else TrainSettings().augment,
        )
        for _ in range(5):
            tr.d_step(), tr.g_step()
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(a.steps):
            tr.d_step(), tr.g_step()
            tr.step += 1
        torch.cuda.synchronize()
        print(f"{variant}: {a.steps / (time.perf_counter() - t0):.1f} steps/s", flush=True)
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        for _ in range(5):
            tr.d_step(), tr.g_step()
        torch.cuda.synchronize()
    print(prof.key_averages().table(sort_by="cuda_time_total", row_limit=15))
    print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))


if __name__ == "__main__":
    main()
