"""models.upsized: the trained generator plus a fixed resize, meeting the contract at 512²."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.generator.manifest import ModelError, load_manifest
from engine.generator.onnx_generator import OnnxGenerator
from models.upsized import export_upsized, main

ROOT = Path(__file__).resolve().parents[2]
PAINTBOX = ROOT / "models" / "paintbox"


@pytest.fixture(scope="module")
def upsized(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_upsized(PAINTBOX, 512, tmp_path_factory.mktemp("paintbox-512"))


def test_manifest_declares_the_larger_contract(upsized: Path) -> None:
    m, src = load_manifest(upsized), load_manifest(PAINTBOX)
    assert (m.width, m.height) == (512, 512) and m.name == "paintbox-512"
    assert (m.input_name, m.output_name, m.latent_dim) == (src.input_name, src.output_name, src.latent_dim)
    assert m.styles == src.styles and np.array_equal(m.latent_mean, src.latent_mean)
    raw = json.loads((upsized / "manifest.json").read_text())
    assert "speed fixture" in raw["description"]
    assert "speed fixture" in (upsized / "README.md").read_text()


def test_output_is_the_native_output_resized(upsized: Path) -> None:
    """Same weights, same latent: the 512² image is the 256² image, bilinearly enlarged."""
    small = OnnxGenerator(PAINTBOX, provider="cpu", threads=1, warmup=0)
    big = OnnxGenerator(upsized, provider="cpu", threads=1, warmup=0)
    assert big.manifest.sampler.kind == "mapping"  # the mapping network came along
    lat = small.sample_latents(2, np.random.default_rng(3))
    native, out = small.generate(lat), big.generate(lat)
    assert out.shape == (2, 3, 512, 512)
    ref = np.stack(
        [cv2.resize(im.transpose(1, 2, 0), (512, 512), interpolation=cv2.INTER_LINEAR) for im in native]
    ).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(out, ref, atol=1e-5)
    assert out.std() > 0.05  # a picture, not a constant
    assert big.generate_rgb(lat[:1]).shape == (1, 512, 512, 3)


@pytest.mark.parametrize("size", [256, 500, 128])
def test_size_must_be_a_larger_whole_multiple(tmp_path: Path, size: int) -> None:
    with pytest.raises(ModelError, match="whole multiple"):
        export_upsized(PAINTBOX, size, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_refuses_to_overwrite_its_source(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="source model folder"):
        export_upsized(PAINTBOX, 512, PAINTBOX)


def test_cli_reports_bad_input_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["--model", str(tmp_path / "nowhere"), "--size", "512", "--out", str(tmp_path / "o")])
    assert e.value.code == 2
    assert "model folder not found" in capsys.readouterr().err
