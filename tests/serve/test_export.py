"""engine.serve export: a Triton model repository from a model folder, for both back ends."""

from __future__ import annotations

import filecmp
import re
from pathlib import Path

import pytest
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2 as mc

from engine.config import load_config
from engine.serve.__main__ import main
from engine.serve.export import export
from engine.serve.server import ServerError, TritonServer

from ..conftest import ROOT, SHIPPED_MODEL


def parse(path: Path) -> mc.ModelConfig:
    """Triton's own schema (the protobuf tritonclient ships): a typo in a field name fails here."""
    return text_format.Parse(path.read_text(), mc.ModelConfig())


@pytest.mark.parametrize("backend", ["onnxruntime", "python"])
def test_export_writes_a_config_triton_can_read(tmp_path: Path, backend: str) -> None:
    out = export(SHIPPED_MODEL, tmp_path / "repo", backend, "lm")
    cfg = parse(out.config)
    assert out.config == tmp_path / "repo" / "lm" / "config.pbtxt"
    assert cfg.name == "lm" and cfg.max_batch_size == 8
    if backend == "onnxruntime":  # NVIDIA's container runs it natively
        assert cfg.platform == "onnxruntime_onnx" and not cfg.backend
        assert not (out.model.parent / "model.py").exists()
    else:
        assert cfg.backend == "python" and not cfg.platform
        source = (out.model.parent / "model.py").read_text()
        compile(source, "model.py", "exec")  # valid Python
        assert "onnxruntime" in source and "model.onnx" in source
    (inp,), (outp,) = cfg.input, cfg.output
    assert (inp.name, list(inp.dims), inp.data_type) == ("latent", [256], mc.TYPE_FP32)
    assert (outp.name, list(outp.dims), outp.data_type) == ("image", [3, 256, 256], mc.TYPE_FP32)
    assert not cfg.HasField("dynamic_batching")  # off by default: one engine's batch of 1 goes at once
    assert filecmp.cmp(out.model, SHIPPED_MODEL / "generator.onnx", shallow=False)


def test_reexport_with_the_other_backend_leaves_nothing_stale(tmp_path: Path) -> None:
    export(SHIPPED_MODEL, tmp_path, "python", "lm")
    out = export(SHIPPED_MODEL, tmp_path, "onnxruntime", "lm")
    assert sorted(p.name for p in out.model.parent.iterdir()) == ["model.onnx"]
    assert parse(out.config).platform == "onnxruntime_onnx"


def test_cli_exports_and_names_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    model = ["--model", str(SHIPPED_MODEL)]
    assert main(["export", *model, "--repo", str(tmp_path), "--backend", "python"]) == 0
    assert (tmp_path / "painterly" / "1" / "model.py").is_file()  # the manifest's name by default
    assert main(["export", "--model", str(tmp_path / "nope"), "--repo", str(tmp_path)]) == 2
    assert "nope" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["export", "--repo", str(tmp_path), "--backend", "tensorflow"])
    assert main(["export", "--repo", str(tmp_path), "--name", "a/b"]) == 2
    assert "--name" in capsys.readouterr().err


def test_server_without_its_venv_says_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(ServerError, match=r"run \./test"):
        TritonServer(tmp_path, 1, 2, venv=tmp_path / "no-venv").start()


def test_scale_doc_config_loads(tmp_path: Path) -> None:
    """docs/scale.md's [generator] table is a valid config."""
    (block,) = re.findall(r"```toml\n(.*?)```", (ROOT / "docs" / "scale.md").read_text(), re.S)
    (tmp_path / "remote.toml").write_text(block)
    g = load_config(tmp_path / "remote.toml").generator
    assert g.remote.startswith("triton://") and g.inflight == 3
