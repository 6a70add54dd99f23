"""Training data and the training loop: deterministic painting, checkpoints, exact resume."""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from models.checkpoint import restore_rng, rng_states
from models.networks import GeneratorConfig
from models.painterly import STYLES, paint_batch
from models.train import Trainer, parse_schedule, phase_at, train

# The real training loop on a toy net (16², a few channels), so a run takes seconds on a CPU.
TOY = GeneratorConfig(
    z_dim=8, w_dim=16, mapping_layers=2, resolution=16, channels={4: 16, 8: 8, 16: 4}, double_conv=(4,)
)
SCHEDULE = "8:2,16:4:3"  # 6 steps: 8² then 16² fading in over 3 steps


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


def args(data: Path, out: Path, schedule: str = SCHEDULE) -> argparse.Namespace:
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
        checkpoint_every=3,
        restart=False,
    )


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    imgs, _ = paint_batch(1, 4, 64)
    for i, im in enumerate(imgs):
        Image.fromarray(im).save(folder / f"{i}.png")
    return folder


def test_checkpoint_restores_every_random_stream() -> None:
    def draws(gen: torch.Generator) -> list:
        return [torch.rand(3).tolist(), torch.rand(3, generator=gen).tolist(), np.random.rand(3).tolist()] + [
            random.random()
        ]

    gen = torch.Generator().manual_seed(5)
    states = rng_states(gen)
    first = draws(gen)
    assert draws(gen) != first
    restore_rng(states, gen)
    assert draws(gen) == first


def assert_same_run(a: dict, b: dict) -> None:
    """Bitwise equal weights, EMA, optimiser moments and step counts, and the same loss history."""
    assert a["step"] == b["step"]
    for net in ("G", "D", "G_ema"):
        assert a[net].keys() == b[net].keys()
        for key in a[net]:
            assert torch.equal(a[net][key], b[net][key]), (net, key)
    for opt in ("opt_g", "opt_d"):
        assert a[opt]["param_groups"] == b[opt]["param_groups"]
        assert a[opt]["state"].keys() == b[opt]["state"].keys()
        for i, state in a[opt]["state"].items():
            for key, value in state.items():
                assert torch.equal(value, b[opt]["state"][i][key]), (opt, i, key)
    assert a["history"] == b["history"]


@pytest.mark.slow
def test_resume_gives_the_same_weights_bit_for_bit(data: Path, tmp_path: Path) -> None:
    """6 steps straight == 3 steps, a new process-like start from the checkpoint, 3 more steps.

    The stop falls inside the fade, and the R1 steps (every 2nd) straddle it. No
    use_deterministic_algorithms is needed: on CPU with one thread every kernel the
    loop uses is deterministic, and two straight runs match bit for bit too.
    """
    train(args(data, tmp_path / "straight"), TOY)
    Trainer(args(data, tmp_path / "resumed"), TOY).run(until=3)  # as if killed after the step-3 checkpoint
    first = torch.load(tmp_path / "resumed" / "checkpoint.pt", weights_only=False)
    assert first["step"] == 3
    torch.manual_seed(99)  # whatever the process did before, resume must not depend on it
    train(args(data, tmp_path / "resumed"), TOY)
    straight = torch.load(tmp_path / "straight" / "checkpoint.pt", weights_only=False)
    resumed = torch.load(tmp_path / "resumed" / "checkpoint.pt", weights_only=False)
    assert straight["step"] == 6
    assert not torch.equal(first["G"]["synthesis.const"], straight["G"]["synthesis.const"])  # it trained
    assert_same_run(straight, resumed)


@pytest.mark.slow
def test_train_checkpoints_and_a_longer_schedule_continues(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    train(args(data, out), TOY)
    ck = torch.load(out / "checkpoint.pt", weights_only=False)
    assert ck["step"] == 6 and len(ck["history"]) == 6
    assert [h["res"] for h in ck["history"]] == [8, 8, 16, 16, 16, 16]
    assert [h["phase_start"] for h in ck["history"]] == [False, False, True, False, False, False]
    assert all(np.isfinite([h["loss_g"], h["loss_d"]]).all() for h in ck["history"])
    assert (out / "loss.png").is_file() and (out / "training.json").is_file()
    assert sorted(p.name for p in (out / "progress").iterdir()) == ["step_000003.png", "step_000006.png"]
    train(args(data, out, "8:2,16:5:3"), TOY)  # a longer schedule continues from step 6
    ck2 = torch.load(out / "checkpoint.pt", weights_only=False)
    assert ck2["step"] == 7 and ck2["history"][:6] == ck["history"]
