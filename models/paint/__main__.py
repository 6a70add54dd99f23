"""CLI: paint the training set into shards, time the families, or draw the contact sheet."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from models.paint.dataset import write_dataset
from models.paint.families import FAMILIES, paint_family


def bench(size: int, per_family: int, seed: int) -> dict[str, float]:
    """Mean ms/image per family on one CPU thread (after one warm-up chunk)."""
    torch.set_num_threads(1)
    dev = torch.device("cpu")
    out = {}
    for name in FAMILIES:
        paint_family(name, seed + 1, 2, size, dev)
        t0 = time.process_time()
        paint_family(name, seed, per_family, size, dev)
        out[name] = (time.process_time() - t0) * 1000 / per_family
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m models.paint", description=__doc__)
    ap.add_argument("--out", type=Path, help="dataset folder to write (shards + dataset.json)")
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=1, help="CPU processes, one shard each at a time")
    ap.add_argument("--shard-size", type=int, default=1000, help="images per .npz shard")
    ap.add_argument("--device", default="cpu", help="torch device to paint on, e.g. cuda")
    ap.add_argument("--contact-sheet", type=Path, metavar="PNG", help="write one row of samples per family")
    ap.add_argument("--bench", type=int, metavar="N", help="time N images per family on one thread")
    args = ap.parse_args(argv)
    if not (args.out or args.contact_sheet or args.bench):
        ap.error("give --out DIR, --contact-sheet PNG or --bench N")
    if args.contact_sheet:
        from models.paint.sheet import contact_sheet

        print(contact_sheet(args.contact_sheet, size=args.size, seed=args.seed, device=args.device))
    if args.bench:
        times = bench(args.size, args.bench, args.seed)
        print(f"| family | ms/image ({args.size}², 1 thread) |\n|---|---|")
        for name, ms in times.items():
            print(f"| {name} | {ms:.1f} |")
        mean = sum(times.values()) / len(times)
        print(f"| **mean** | **{mean:.1f}** |")
    if args.out:
        a = args
        m = write_dataset(a.out, a.count, a.size, a.seed, a.workers, a.device, a.shard_size, progress=True)
        print(f"{m['count']} images in {len(m['shards'])} shards → {args.out} ({m['seconds']} s)")


if __name__ == "__main__":
    main()
