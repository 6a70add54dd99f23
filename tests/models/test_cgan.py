"""The conditional recipe on a CPU at toy size: augmentation, training, distillation, export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from models.cgan.__main__ import TOY, TOY_D, TOY_TEACHER
from models.cgan.augment import diff_augment, parse_policy
from models.cgan.data import StyleData, paired_styles
from models.cgan.distil import distil
from models.cgan.export import export_style_model
from models.cgan.networks import StyleGANConfig, StyleMapping
from models.cgan.trainer import StyleTrainer, TrainSettings, load_generator
from models.painterly import STYLES, paint_batch


@pytest.fixture(scope="module")
def data() -> StyleData:
    imgs, names = paint_batch(3, 60, 128)
    return StyleData.from_arrays(
        imgs, np.array([STYLES.index(n) for n in names]), STYLES, torch.device("cpu")
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, data: StyleData) -> Path:
    """A toy student and a toy teacher, each trained for a few steps (checkpoint every 5)."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("cgan")
    for name, g in (("toy", TOY), ("teacher", TOY_TEACHER)):
        cfg = StyleGANConfig(styles=STYLES, generator=g, d_channels=TOY_D)
        StyleTrainer(cfg, data, root / name, TrainSettings(batch=4, steps=10, checkpoint_every=5)).run()
    return root


def test_augment_moves_content_and_passes_gradients() -> None:
    torch.manual_seed(0)
    x = torch.rand(8, 3, 32, 32, requires_grad=True)
    y = diff_augment(x, ("translation",))
    assert y.shape == x.shape and not torch.equal(y, x)
    cut = diff_augment(torch.ones(8, 3, 32, 32), ("cutout",))
    assert (cut == 0).float().mean().item() == pytest.approx(1 / 16, abs=0.02)  # an 8×8 hole in 32×32
    diff_augment(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_policy_names_the_unknown_op() -> None:
    assert parse_policy("none") == ()
    with pytest.raises(ValueError, match="'blur'"):
        parse_policy("color,blur")


def test_a_style_blend_is_a_blend_of_embeddings() -> None:
    m = StyleMapping(8, 3, 16, 2)
    a, b = torch.eye(3)[:1], torch.eye(3)[1:2]
    mid = m.embed(0.5 * a + 0.5 * b)
    assert torch.allclose(mid, 0.5 * m.embed(a) + 0.5 * m.embed(b), atol=1e-6)


def test_mode_seeking_pairs_share_their_style() -> None:
    """Row i and row i + n//2 must be one style, or mode seeking rewards a style change as variety."""
    for n in (2, 7, 128):
        c = paired_styles(n, 10, torch.device("cpu"))
        h = n // 2
        assert c.shape == (n, 10) and torch.equal(c[:h], c[h : 2 * h])
    assert len({tuple(r.tolist()) for r in paired_styles(128, 10, torch.device("cpu"))}) > 3


def test_training_leaves_checkpoint_progress_and_style_centres(runs: Path) -> None:
    run = runs / "toy"
    info = json.loads((run / "training.json").read_text())
    assert info["steps"] == 10 and info["images_seen"] == 40 and info["styles"] == list(STYLES)
    assert (run / "progress.png").stat().st_size > 0
    ck = torch.load(run / "checkpoint.pt", weights_only=False)
    assert all(np.isfinite([h["loss_d"], h["loss_g"]]).all() for h in ck["history"])
    g = load_generator(run / "checkpoint.pt")
    centres = g.w_avg
    assert centres.shape == (len(STYLES), TOY.w_dim)
    assert torch.cdist(centres, centres).triu(1).max() > 0  # each style has its own centre


def test_training_refuses_data_of_other_families(data: StyleData, tmp_path: Path) -> None:
    cfg = StyleGANConfig(styles=("a", "b"), generator=TOY, d_channels=TOY_D)
    with pytest.raises(ValueError, match="families"):
        StyleTrainer(cfg, data, tmp_path, TrainSettings(steps=1))


def test_distillation_regresses_the_student_onto_the_teacher(runs: Path) -> None:
    torch.manual_seed(0)
    info = distil(runs / "teacher" / "checkpoint.pt", TOY, runs / "distilled", steps=60, batch=4)
    hist = torch.load(runs / "distilled" / "checkpoint.pt", weights_only=False)["history"]
    assert info["distil_steps"] == 60
    assert hist[-1]["pixel_l1"] < 0.7 * hist[0]["pixel_l1"]
    student, teacher = (load_generator(runs / n / "checkpoint.pt") for n in ("distilled", "teacher"))
    z, c = torch.randn(4, TOY.z_dim), torch.eye(len(STYLES))[:4]
    assert torch.equal(student.mapping(z, c), teacher.mapping(z, c))  # one shared w space


def test_export_lists_styles_and_matches_torch(runs: Path, tmp_path: Path) -> None:
    from engine.generator.onnx_generator import OnnxGenerator

    folder = export_style_model(runs / "toy" / "checkpoint.pt", tmp_path / "model", name="toy")
    manifest = json.loads((folder / "manifest.json").read_text())
    g = load_generator(runs / "toy" / "checkpoint.pt")
    assert [s["name"] for s in manifest["styles"]] == list(STYLES)
    assert np.allclose([s["mean"] for s in manifest["styles"]], g.w_avg.numpy(), atol=1e-5)
    sampler = manifest["latent"]["sampler"]
    assert sampler["style_dim"] == len(STYLES) and sampler["input_dim"] == TOY.z_dim + len(STYLES)
    import onnxruntime as ort

    z, c = torch.randn(3, TOY.z_dim), F.one_hot(torch.tensor([0, 2, 4]), len(STYLES)).float()
    mapping = ort.InferenceSession(str(folder / "mapping.onnx"), providers=["CPUExecutionProvider"])
    (w,) = mapping.run(None, {"z": torch.cat([z, c], 1).numpy()})
    assert np.allclose(w, g.mapping(z, c).detach().numpy(), atol=1e-4)
    gen = OnnxGenerator(folder)
    img = gen.generate(w.astype(np.float32))
    assert np.allclose(img, g.synthesis(torch.from_numpy(w)).clamp(-1, 1).detach().numpy(), atol=1e-4)
