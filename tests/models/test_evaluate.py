"""The offline quality metrics on real painterly images: each must move the way its definition says."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from engine.generator.onnx_generator import OnnxGenerator
from models import evaluate
from models.metrics import classifier
from models.metrics.coverage import coverage
from models.metrics.data import load_labelled, split
from models.metrics.memorisation import memorisation, pixel_vectors
from models.metrics.spectrum import radial_profile, spectrum_gap
from models.metrics.swd import descriptors, levels_for, swd_per_level
from models.painterly import STYLES, paint_batch

SIZE = 64


def paint(seed: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    images, styles = paint_batch(seed, count, SIZE)
    return images, np.array([STYLES.index(s) for s in styles], np.int64)


def blur(images: np.ndarray, radius: float = 1.2) -> np.ndarray:
    return np.stack([np.asarray(Image.fromarray(i).filter(ImageFilter.GaussianBlur(radius))) for i in images])


@pytest.fixture(scope="module")
def sets() -> dict[str, np.ndarray]:
    a, labels = paint(1, 240)
    b, _ = paint(2, 100)
    return {"a": a, "labels": labels, "b": b}


@pytest.fixture(scope="module")
def shard_dir(tmp_path_factory: pytest.TempPathFactory, sets: dict) -> Path:
    """The shard format of models.paint: shard_*.npz (images, labels) + dataset.json (families, counts)."""
    folder = tmp_path_factory.mktemp("shards")
    shards = []
    for k, s in enumerate(range(0, 240, 120)):
        name = f"shard_{k:05d}.npz"
        labels = sets["labels"][s : s + 120].astype(np.int64)
        np.savez(folder / name, images=sets["a"][s : s + 120], labels=labels)
        shards.append({"file": name, "count": 120})
    size = sets["a"].shape[1]
    meta = {"families": list(STYLES), "count": 240, "size": size, "shards": shards}
    (folder / "dataset.json").write_text(json.dumps(meta))
    return folder


def test_swd_is_near_zero_for_one_set_and_grows_at_fine_levels_with_blur(sets: dict) -> None:
    a = sets["a"][:100]
    ref = descriptors(a, np.random.default_rng(0))
    assert list(ref) == levels_for(SIZE) == [64, 32, 16]
    same = swd_per_level(ref, descriptors(a, np.random.default_rng(1)))
    blurred = swd_per_level(ref, descriptors(blur(a), np.random.default_rng(1)))
    assert swd_per_level(ref, ref)["mean"] == 0.0
    assert same["64"] < 30 and same["mean"] < 30  # patch sampling noise only
    assert blurred["64"] > 8 * same["64"]  # the finest level shows the lost detail ...
    assert blurred["64"] > 3 * blurred["16"]  # ... far more than the coarsest


def test_spectrum_gap_grows_with_blur_and_says_energy_is_missing(sets: dict) -> None:
    ref = radial_profile(sets["a"])
    other = spectrum_gap(ref, radial_profile(sets["b"]))
    soft = spectrum_gap(ref, radial_profile(blur(sets["b"], 0.8)))
    softer = spectrum_gap(ref, radial_profile(blur(sets["b"], 1.6)))
    assert other["high"] < 0.15
    assert other["high"] < soft["high"] < softer["high"]
    assert softer["signed_high"] < -1.0  # below the data: a decade and more of high frequencies lost


def test_memorisation_flags_copies_and_passes_new_real_images(sets: dict) -> None:
    train, held, fresh = (pixel_vectors(x) for x in (sets["a"][:180], sets["a"][180:], sets["b"]))
    copies = memorisation(train[:100], held, train)
    real = memorisation(fresh, held, train)
    assert copies["ratio"] < 0.01 and np.array_equal(copies["nearest_train"], np.arange(100))
    assert 0.8 < real["ratio"] < 1.25


def test_classifier_learns_the_families_caches_itself_and_coverage_finds_dropped_ones(
    sets: dict, shard_dir: Path
) -> None:
    data = load_labelled(shard_dir)
    assert data.source == "shards" and data.families == list(STYLES) and len(data.images) == 240
    parts = split(len(data.images))
    judge = classifier.load_or_train(data, parts, shard_dir)
    assert judge.trained_now and (shard_dir / "classifier.pt").is_file()
    assert judge.accuracy > 0.85, judge.accuracy
    assert not classifier.load_or_train(data, parts, shard_dir).trained_now  # cached
    probs, feats = classifier.predict(judge.net, sets["b"])
    assert feats.shape == (100, 64)
    spread = coverage(probs, judge.families)
    assert spread["empty_families"] == 0
    marble = sets["b"][probs.argmax(1) == STYLES.index("marble")]
    only_one = coverage(classifier.predict(judge.net, marble)[0], judge.families)
    assert only_one["empty_families"] == len(STYLES) - 1 and "marble" not in only_one["empty"]


def test_png_folder_labels_come_from_file_names(tmp_path: Path, sets: dict) -> None:
    for i in range(6):
        Image.fromarray(sets["a"][i]).save(tmp_path / f"{i:06d}_{STYLES[sets['labels'][i]]}.png")
    data = load_labelled(tmp_path)
    assert data.source == "png" and np.array_equal(data.images, sets["a"][:6])
    assert [data.families[k] for k in data.labels] == [STYLES[k] for k in sets["labels"][:6]]
    (tmp_path / "stray.png").write_bytes(b"")
    with pytest.raises(ValueError, match="stray.png"):
        load_labelled(tmp_path)


def test_cli_writes_report_for_the_shipped_model(
    shipped_model: Path, shard_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    rc = evaluate.main(
        ["--model", str(shipped_model), "--data", str(shard_dir), "--out", str(out), "--samples", "24"]
    )
    assert rc == 0
    report = json.loads((out / "report.json").read_text())
    col = report["columns"]["painterly"]
    assert set(col["swd"]) == {"64", "32", "16", "mean"}
    assert set(col["coverage"]["shares"]) == set(STYLES)
    assert col["memorisation"]["pixels"]["ratio"] > 0.3  # the model was never shown these images
    assert col["smoothness"]["max_step"] > 0
    assert report["columns"]["data (held-out)"]["n"] == report["data"]["held_out"]
    assert (out / "report.png").stat().st_size > 20_000


def test_cli_names_a_bad_data_folder(shipped_model: Path, tmp_path: Path, capsys) -> None:
    rc = evaluate.main(["--model", str(shipped_model), "--data", str(tmp_path), "--out", str(tmp_path / "r")])
    assert rc == 2 and str(tmp_path) in capsys.readouterr().err


def test_a_style_model_is_sampled_style_by_style_in_equal_shares(tmp_path: Path) -> None:
    from tests.styled_model import STYLES as TINY_STYLES
    from tests.styled_model import export_styled_model

    gen = OnnxGenerator(export_styled_model(tmp_path / "styled"), provider="cpu", threads=1)
    images, asked = evaluate.sample(gen, 9, seed=0, batch=4)
    assert images.shape[0] == 9 and asked is not None
    assert [asked.count(s) for s in TINY_STYLES] == [3, 3, 3]
    # Each style's samples sit around that style's own picture, apart from the others'.
    means = {s: images[[i for i, a in enumerate(asked) if a == s]].astype(float).mean(0) for s in TINY_STYLES}
    assert np.abs(means["marble"] - means["glass"]).mean() > 5


def test_style_accuracy_counts_samples_filed_under_their_style() -> None:
    families = ["marble", "glass", "contour"]
    probs = np.array([[0.9, 0.1, 0], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]])
    assert evaluate.style_accuracy(probs, families, ["marble", "glass", "glass", "contour"]) == 0.75
    assert evaluate.style_accuracy(probs, families, ["a", "b", "c", "d"]) is None
