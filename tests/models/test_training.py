"""Training data and the training loop: deterministic painting, checkpoints, exact resume."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from models.painterly import STYLES, paint_batch
from models.train import parse_schedule, phase_at, train


def test_painting_is_deterministic_and_varied() -> None:
    a, styles = paint_batch(5, 6, 64)
    b, _ = paint_batch(5, 6, 64)
    assert np.array_equal(a, b) and a.shape == (6, 64, 64, 3)
    assert set(styles) <= set(STYLES)
    flat = a.reshape(6, -1).astype(float)
    assert min(np.abs(flat[i] - flat[j]).mean() for i in range(6) for j in range(i + 1, 6)) > 5


def test_schedule_phases_and_fade() -> None:
    sched = parse_schedule("64:10,128:10:4")
    assert phase_at(sched, 0)[0].resolution == 64
    ph, alpha = phase_at(sched, 11)
    assert ph.resolution == 128 and alpha == pytest.approx(0.5)
    assert phase_at(sched, 99) == (sched[-1], 1.0)


def args(data: Path, out: Path, schedule: str) -> argparse.Namespace:
    return argparse.Namespace(
        data=data,
        out=out,
        schedule=schedule,
        batch=2,
        lr=0.002,
        diversity=1.0,
        r1_gamma=1.0,
        r1_every=2,
        ema_kimg=0.01,
        threads=1,
        seed=0,
        checkpoint_every=2,
        restart=False,
    )


@pytest.mark.slow
def test_train_checkpoints_and_resumes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    imgs, _ = paint_batch(1, 4, 256)
    for i, im in enumerate(imgs):
        Image.fromarray(im).save(data / f"{i}.png")
    out = tmp_path / "run"
    train(args(data, out, "64:2,128:2:1"))
    ck = torch.load(out / "checkpoint.pt", weights_only=False)
    assert ck["step"] == 4 and len(ck["history"]) == 4
    assert all(np.isfinite([h["loss_g"], h["loss_d"]]).all() for h in ck["history"])
    assert (out / "loss.png").is_file() and (out / "progress" / "step_000004.png").is_file()
    train(args(data, out, "64:2,128:3:1"))  # a longer schedule continues from step 4
    ck2 = torch.load(out / "checkpoint.pt", weights_only=False)
    assert ck2["step"] == 5 and ck2["history"][:4] == ck["history"]
