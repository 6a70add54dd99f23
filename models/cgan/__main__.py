"""python -m models.cgan {train,distil,export,pack}: the conditional recipe from data to model folder.

python -m models.cgan train --data data/paint --out runs/student --model student --minutes 60
python -m models.cgan train --data data/paint512 --out runs/teacher --model teacher --device cuda
python -m models.cgan distil --teacher runs/teacher/checkpoint.pt --out runs/distilled --device cuda
python -m models.cgan export --checkpoint runs/student/checkpoint.pt --out models/NAME
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from models.cgan.augment import parse_policy
from models.cgan.networks import STUDENT, TEACHER, StyleGANConfig
from models.networks import GeneratorConfig

# A 64² net for CPU tests of the whole recipe: same code, minutes instead of hours.
TOY = GeneratorConfig(
    z_dim=32, w_dim=64, mapping_layers=2, resolution=64, channels={4: 64, 8: 64, 16: 32, 32: 16, 64: 8},
    double_conv=(4,),
)  # fmt: skip
TOY_TEACHER = GeneratorConfig(
    z_dim=32, w_dim=64, mapping_layers=2, resolution=128,
    channels={4: 64, 8: 64, 16: 32, 32: 16, 64: 8, 128: 8}, double_conv=(4, 8),
)  # fmt: skip
MODELS = {"student": STUDENT, "teacher": TEACHER, "toy": TOY, "toy_teacher": TOY_TEACHER}
TOY_D = {128: 8, 64: 16, 32: 32, 16: 32, 8: 64, 4: 64}


def _device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise SystemExit("error: --device cuda, but torch sees no CUDA device")
    if name == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    return torch.device(name)


def cmd_train(a: argparse.Namespace) -> None:
    from models.cgan.data import StyleData
    from models.cgan.trainer import StyleTrainer, TrainSettings

    device = _device(a.device)
    if a.threads:
        torch.set_num_threads(a.threads)
    if a.data is not None:
        data = StyleData.load(a.data, device)
    else:
        t0 = time.perf_counter()
        data = StyleData.paint(
            a.paint, a.paint_size or MODELS[a.model].resolution, a.seed, device, seconds=a.paint_seconds
        )
        print(
            json.dumps(
                {
                    "painted": len(data.labels),
                    "size": data.resolution,
                    "seconds": round(time.perf_counter() - t0, 1),
                }
            )
        )
    gcfg = MODELS[a.model]
    if data.resolution < gcfg.resolution:
        raise SystemExit(
            f"error: --data {a.data} is {data.resolution}², the {a.model} needs {gcfg.resolution}²"
        )
    cfg = StyleGANConfig(styles=data.families, generator=gcfg)
    if a.model.startswith("toy"):
        cfg = StyleGANConfig(styles=data.families, generator=gcfg, d_channels=TOY_D)
    s = TrainSettings(
        batch=a.batch, lr_g=a.lr, lr_d=a.lr, r1_gamma=a.r1_gamma, recon=a.recon,
        augment=parse_policy(a.augment), ema_kimg=a.ema_kimg, diversity=a.diversity, steps=a.steps,
        minutes=a.minutes, until=a.until, checkpoint_every=a.checkpoint_every, seed=a.seed,
    )  # fmt: skip
    print(json.dumps(StyleTrainer(cfg, data, a.out, s).run()))


def cmd_distil(a: argparse.Namespace) -> None:
    from models.cgan.distil import distil

    device = _device(a.device)
    student = MODELS[a.student]
    info = distil(
        a.teacher,
        student,
        a.out,
        steps=a.steps,
        minutes=a.minutes,
        until=a.until,
        batch=a.batch,
        device=device,
    )
    print(json.dumps(info))


def cmd_export(a: argparse.Namespace) -> None:
    from models.cgan.export import export_style_model

    print(export_style_model(a.checkpoint, a.out, name=a.name, truncation=a.truncation))


def cmd_pack(a: argparse.Namespace) -> None:
    """Keep only what export and distillation need, in fp16: a GPU run's checkpoint fits 16 MiB."""
    ck = torch.load(a.checkpoint, map_location="cpu", weights_only=False)
    keep = {k: ck[k] for k in ("config", "step", "seconds", "history", "settings", "teacher") if k in ck}
    for net in a.nets.split(","):
        keep[net] = {k: (v.half() if v.is_floating_point() else v) for k, v in ck[net].items()}
    torch.save(keep, a.out)
    print(f"{a.out}: {a.out.stat().st_size / 2**20:.1f} MiB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="adversarial training on a labelled dataset (python -m models.paint)")
    src = t.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", type=Path, help="a dataset folder written by python -m models.paint")
    src.add_argument("--paint", type=int, help="paint this many images on the device instead (no disk)")
    t.add_argument("--paint-seconds", type=float, default=0.0, help="cap on painting time (0: none)")
    t.add_argument("--paint-size", type=int, default=0, help="painted size (default: the model's)")
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--model", choices=sorted(MODELS), default="student")
    t.add_argument("--steps", type=int, default=100_000)
    t.add_argument("--minutes", type=float, default=0.0, help="wall-clock budget (0: steps only)")
    t.add_argument("--until", type=float, default=0.0, help="stop at this Unix time (a lease's end)")
    t.add_argument("--batch", type=int, default=32)
    t.add_argument("--lr", type=float, default=0.002)
    t.add_argument("--r1-gamma", type=float, default=1.0)
    t.add_argument("--recon", type=float, default=1.0, help="discriminator reconstruction weight (0 = off)")
    t.add_argument("--augment", default="color,translation,cutout", help="DiffAugment ops, or 'none'")
    t.add_argument("--ema-kimg", type=float, default=10.0)
    t.add_argument(
        "--diversity", type=float, default=2.0, help="mode-seeking weight within a style (0 = off)"
    )
    t.add_argument("--checkpoint-every", type=int, default=1000)
    t.add_argument("--device", default="cpu")
    t.add_argument("--threads", type=int, default=0)
    t.add_argument("--seed", type=int, default=0)
    t.set_defaults(func=cmd_train)
    d = sub.add_parser("distil", help="teacher checkpoint → student synthesis")
    d.add_argument("--teacher", type=Path, required=True)
    d.add_argument("--out", type=Path, required=True)
    d.add_argument("--student", choices=sorted(MODELS), default="student")
    d.add_argument("--steps", type=int, default=100_000)
    d.add_argument("--minutes", type=float, default=0.0)
    d.add_argument("--until", type=float, default=0.0, help="stop at this Unix time (a lease's end)")
    d.add_argument("--batch", type=int, default=16)
    d.add_argument("--device", default="cpu")
    d.set_defaults(func=cmd_distil)
    e = sub.add_parser("export", help="checkpoint → model folder (ONNX + manifest with styles)")
    e.add_argument("--checkpoint", type=Path, required=True)
    e.add_argument("--out", type=Path, required=True)
    e.add_argument("--name", default=None)
    e.add_argument("--truncation", type=float, default=0.8)
    e.set_defaults(func=cmd_export)
    p = sub.add_parser("pack", help="fp16 copy of a checkpoint's networks")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--nets", default="G_ema", help="comma-separated: G_ema,D")
    p.set_defaults(func=cmd_pack)
    a = ap.parse_args()
    a.func(a)


if __name__ == "__main__":
    main()
