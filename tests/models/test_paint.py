"""The procedural training set: deterministic, balanced, non-degenerate, line widths, shards."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from models.paint import FAMILIES, DatasetError, load_dataset, paint_batch
from models.paint.__main__ import main
from models.paint.families import balanced_labels, substream
from models.paint.geometry import contour_layers
from models.paint.noise import Canvas


@pytest.fixture(scope="module")
def batch() -> tuple[np.ndarray, np.ndarray]:
    torch.set_num_threads(1)
    return paint_batch(11, 3 * len(FAMILIES), 128)


def test_same_seed_same_bytes_other_seed_other_images() -> None:
    a, la = paint_batch(3, 12, 64)
    b, lb = paint_batch(3, 12, 64)
    c, lc = paint_batch(4, 12, 64)
    assert a.dtype == np.uint8 and a.shape == (12, 64, 64, 3)
    assert la.dtype == np.int64 and la.shape == (12,)
    assert a.tobytes() == b.tobytes() and np.array_equal(la, lb)
    assert not np.array_equal(a, c)
    assert np.abs(a.astype(int) - c.astype(int)).mean() > 10


def test_labels_are_balanced_and_shuffled() -> None:
    _, labels = paint_batch(5, 23, 16)
    assert np.array_equal(labels, balanced_labels(5, 23))
    for count in (10, 23, 200, 1001):
        hist = np.bincount(balanced_labels(5, count), minlength=len(FAMILIES))
        assert hist.max() - hist.min() <= 1 and hist.sum() == count
    assert not np.array_equal(balanced_labels(5, 200), np.arange(200) % len(FAMILIES))
    assert not np.array_equal(balanced_labels(5, 200), balanced_labels(6, 200))


def test_every_family_is_rich(batch: tuple[np.ndarray, np.ndarray]) -> None:
    images, labels = batch
    for fam, name in enumerate(FAMILIES):
        imgs = images[labels == fam]
        assert len(imgs) == 3, name
        for img in imgs:
            assert img.std() > 20, f"{name}: std {img.std():.1f}"
            colours = len(np.unique((img // 16).reshape(-1, 3), axis=0))  # 4 bits per channel
            assert colours > 40, f"{name}: only {colours} colours"


def test_families_look_different(batch: tuple[np.ndarray, np.ndarray]) -> None:
    """Every family's mean image statistics differ from every other's (a crude style fingerprint)."""
    images, labels = batch

    def fingerprint(imgs: np.ndarray) -> np.ndarray:
        x = imgs.astype(float) / 255
        grey = x.mean(-1)
        edges = np.abs(np.diff(grey, axis=1)).mean(axis=(1, 2))
        sat = (x.max(-1) - x.min(-1)).mean(axis=(1, 2))
        return np.array([grey.mean(), grey.std(axis=(1, 2)).mean(), edges.mean() * 10, sat.mean()])

    prints = [fingerprint(images[labels == f]) for f in range(len(FAMILIES))]
    for i in range(len(FAMILIES)):
        for j in range(i + 1, len(FAMILIES)):
            assert np.abs(prints[i] - prints[j]).max() > 0.02, (FAMILIES[i], FAMILIES[j])


def test_contour_lines_are_at_least_3px_wide() -> None:
    """A 3×3 opening (erode then dilate) wipes out 1- and 2-px lines; it must leave ours almost whole."""
    cv = Canvas(torch.Generator().manual_seed(substream(9, 3)), 4, 256, torch.device("cpu"))
    _, line = contour_layers(cv)
    mask = (line > 0.5).float()
    opened = F.max_pool2d(-F.max_pool2d(-mask, 3, 1, 1), 3, 1, 1)
    removed = (mask - opened).clamp(min=0).sum() / mask.sum()
    assert mask.mean() > 0.02  # there are lines
    assert removed < 0.08, f"opening removed {removed:.1%} of the contour lines"
    # and the check itself catches a 2-px line
    thin = torch.zeros(1, 1, 64, 64)
    thin[..., 30:32, :] = 1
    assert F.max_pool2d(-F.max_pool2d(-thin, 3, 1, 1), 3, 1, 1).sum() == 0


def test_shards_round_trip_independent_of_workers(tmp_path: Path) -> None:
    args = ["--count", "25", "--size", "32", "--seed", "2", "--shard-size", "10"]
    main(["--out", str(tmp_path / "one"), *args])
    main(["--out", str(tmp_path / "two"), "--workers", "2", *args])
    a_img, a_lab, fams = load_dataset(tmp_path / "one")
    b_img, b_lab, _ = load_dataset(tmp_path / "two")
    assert fams == FAMILIES
    assert a_img.shape == (25, 32, 32, 3) and a_img.dtype == np.uint8 and a_lab.dtype == np.int64
    assert np.array_equal(a_img, b_img) and np.array_equal(a_lab, b_lab)
    assert sorted(p.name for p in (tmp_path / "one").iterdir()) == [
        "dataset.json",
        "shard_00000.npz",
        "shard_00001.npz",
        "shard_00002.npz",
    ]
    shards = [np.load(tmp_path / "one" / f"shard_0000{i}.npz") for i in range(3)]
    assert not np.array_equal(shards[0]["images"][:5], shards[1]["images"][:5])  # shards have own seeds


def test_load_dataset_names_the_bad_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="dataset.json"):
        load_dataset(tmp_path)
    main(["--out", str(tmp_path), "--count", "12", "--size", "16", "--shard-size", "5"])
    (tmp_path / "shard_00001.npz").unlink()
    with pytest.raises(DatasetError, match="shard_00001.npz"):
        load_dataset(tmp_path)
    (tmp_path / "shard_00002.npz").write_bytes(b"not a zip")
    (tmp_path / "shard_00001.npz").write_bytes((tmp_path / "shard_00000.npz").read_bytes())
    with pytest.raises(DatasetError, match="shard_00002.npz.*corrupt"):
        load_dataset(tmp_path)
