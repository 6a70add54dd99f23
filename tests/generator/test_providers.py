"""The TensorRT cache key and profile: a new TensorRT, GPU, model or shape never meets a stale engine.

These run on any machine: the key is built from strings (nvidia-smi's CSV, ORT's build info) and a
real file's hash; GPU-only behaviour is in test_gpu.py.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import onnxruntime as ort
import pytest

from engine.generator import providers as p

SHAPES = p.TrtShapes("latent", 256, 256, 256)


def test_nvidia_smi_csv_gives_name_and_sm() -> None:
    assert p.parse_nvidia_smi("NVIDIA H200, 9.0\n") == ("NVIDIA H200", "sm90")
    # several GPUs: GPU 0 (the one ORT's device_id 0 uses) is the first line
    assert p.parse_nvidia_smi("NVIDIA GeForce RTX 4090, 8.9\nTesla T4, 7.5\n") == (
        "NVIDIA GeForce RTX 4090",
        "sm89",
    )


@pytest.mark.parametrize(
    "text", ["", "\n", "NVIDIA-SMI has failed because it couldn't communicate", "Tesla K80, [N/A]"]
)
def test_nvidia_smi_without_an_answer_is_unknown(text: str) -> None:
    name, compute = p.parse_nvidia_smi(text)
    assert compute == "unknown"
    assert name in ("unknown", "Tesla K80")


def test_gpu_identity_survives_a_missing_failing_or_hanging_nvidia_smi() -> None:
    assert p.gpu_identity(("/nonexistent/nvidia-smi",)) == ("unknown", "unknown")
    assert p.gpu_identity(("false",)) == ("unknown", "unknown")  # exits 1
    assert p.gpu_identity(("sleep", "5"), timeout=0.2) == ("unknown", "unknown")
    if shutil.which("nvidia-smi") is None:
        assert p.gpu_identity() == ("unknown", "unknown")


def test_gpu_identity_reads_a_real_process_output() -> None:
    assert p.gpu_identity(("printf", "NVIDIA A100-SXM4-80GB, 8.0\\n")) == ("NVIDIA A100-SXM4-80GB", "sm80")


@pytest.mark.parametrize(
    ("info", "version"),
    [
        ("ORT Build Info: git-branch=HEAD, tensorrt-version=10.9.0, build type=Release", "10.9.0"),
        ("ORT Build Info: git-branch=HEAD, TensorRT: 8.6.1.6, cuda-version=12.2", "8.6.1.6"),
        ("ORT Build Info: git-branch=HEAD, git-commit-id=fab30a4, build type=Release", None),
    ],
)
def test_tensorrt_version_from_build_info(info: str, version: str | None) -> None:
    assert p.trt_version_from_build_info(info) == version


def test_tensorrt_version_is_a_version_or_unknown() -> None:
    v = p.tensorrt_version()
    assert v == "unknown" or v[0].isdigit()


def test_engine_key_names_every_part() -> None:
    key = p.engine_key("10.9.0.34", "NVIDIA H200", "sm90", "0123456789abcdef" * 2, SHAPES)
    assert key == "trt10.9.0.34-nvidia-h200-sm90-0123456789ab-b1-4-256x256"
    assert "/" not in p.engine_key("x", "Weird/GPU  (rev 2)", "sm75", "f" * 40, SHAPES)


def test_engine_key_changes_with_anything_an_engine_depends_on() -> None:
    sha = "a" * 40
    base = p.engine_key("10.9.0", "NVIDIA H200", "sm90", sha, SHAPES)
    others = {
        p.engine_key("10.10.0", "NVIDIA H200", "sm90", sha, SHAPES),  # TensorRT upgrade
        p.engine_key("10.9.0", "NVIDIA L4", "sm89", sha, SHAPES),  # another GPU
        p.engine_key("10.9.0", "NVIDIA H200", "sm90", "b" * 40, SHAPES),  # retrained model
        p.engine_key("10.9.0", "NVIDIA H200", "sm90", sha, p.TrtShapes("latent", 256, 512, 512)),
        p.engine_key("10.9.0", "NVIDIA H200", "sm90", sha, p.TrtShapes("latent", 256, 256, 256, 8)),
    }
    assert base not in others and len(others) == 5


def test_profile_covers_batch_one_to_four_for_the_manifest_input() -> None:
    opts = p.profile_options(p.TrtShapes("w", 512, 256, 256))
    assert opts == {
        "trt_profile_min_shapes": "w:1x512",
        "trt_profile_opt_shapes": "w:1x512",
        "trt_profile_max_shapes": "w:4x512",
    }


def test_trt_cache_folder_is_keyed_by_the_model_file(tmp_path: Path, shipped_model: Path) -> None:
    onnx = shipped_model / "generator.onnx"
    cache = p.trt_cache(onnx, SHAPES, root=tmp_path)
    assert cache.folder.parent == tmp_path and not cache.had_engine
    assert p.file_sha1(onnx)[:12] in cache.folder.name
    assert cache.folder.name.endswith("-b1-4-256x256")
    assert cache.timing.name.endswith("-timing") and cache.timing.parent == tmp_path
    copy = tmp_path / "copy.onnx"
    copy.write_bytes(onnx.read_bytes()[:-1] + b"\0")  # one byte different: another engine
    assert p.trt_cache(copy, SHAPES, root=tmp_path).folder != cache.folder


def test_trt_cache_sees_an_engine_already_built(tmp_path: Path, shipped_model: Path) -> None:
    onnx = shipped_model / "generator.onnx"
    cache = p.trt_cache(onnx, SHAPES, root=tmp_path)
    cache.folder.mkdir(parents=True)
    (cache.folder / "TensorrtExecutionProvider_cache_sm90.timing").write_bytes(b"x")
    assert not p.trt_cache(onnx, SHAPES, root=tmp_path).had_engine  # a timing cache is no engine
    (cache.folder / "TensorrtExecutionProvider_TRTKernel_graph_main_1_0_0_sm90.engine").write_bytes(b"x")
    assert p.trt_cache(onnx, SHAPES, root=tmp_path).had_engine


def test_tensorrt_options_point_at_the_keyed_folders(tmp_path: Path, shipped_model: Path) -> None:
    cache = p.trt_cache(shipped_model / "generator.onnx", SHAPES, root=tmp_path)
    opts = p.tensorrt_options(cache)
    assert opts["trt_engine_cache_path"] == str(cache.folder) and cache.folder.is_dir()
    assert opts["trt_timing_cache_path"] == str(cache.timing) and cache.timing.is_dir()
    assert opts["trt_fp16_enable"] and opts["trt_engine_cache_enable"]
    assert opts["trt_profile_max_shapes"] == "latent:4x256"


def test_options_without_shapes_keep_the_flat_cache(tmp_path: Path, monkeypatch) -> None:
    """engine.doctor tries a provider without a model's shapes: it still gets a writable folder."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    opts = p.tensorrt_options(None)
    assert opts["trt_engine_cache_path"] == str(tmp_path / "latent-mirror" / "tensorrt")
    assert not any(k.startswith("trt_profile") for k in opts)


def test_cpu_build_asks_nothing_of_tensorrt() -> None:
    if p.NAMES["tensorrt"] in ort.get_available_providers():
        pytest.skip("this onnxruntime has TensorRT")
    assert not p.wants_tensorrt("auto") and not p.wants_tensorrt("tensorrt")
    assert p.provider_list("tensorrt") == [("CPUExecutionProvider", {})]


def test_file_sha1_follows_the_content(tmp_path: Path) -> None:
    f = tmp_path / "m.onnx"
    f.write_bytes(b"one")
    first = p.file_sha1(f)
    f.write_bytes(b"two")
    os.utime(f, ns=(1, 1))  # a new mtime as well: the hash is cached per (path, size, mtime)
    assert p.file_sha1(f) != first
    assert first == "fe05bcdcdc4928012781a5f1a2a77cbb5398e106"  # sha1(b"one")
