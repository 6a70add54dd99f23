"""A model folder as a Triton model repository, so a GPU server can run the generator for many engines.

Two back ends: `onnxruntime` (the default) is what NVIDIA's Triton container serves natively and
fastest; `python` wraps the same ONNX file in a `model.py` that runs ONNX Runtime itself, for a
server built without the onnxruntime back end, like the one inside the pytriton wheel that CI uses.
Names, shapes and dtypes come from the manifest and the ONNX file, so the engine's start-up check
against the server's metadata compares like with like.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from engine.generator.manifest import Manifest, ModelError, load_manifest

BACKENDS = ("onnxruntime", "python")
MAX_BATCH = 8
ONNX_DTYPES = {"tensor(float)": "TYPE_FP32", "tensor(float16)": "TYPE_FP16", "tensor(double)": "TYPE_FP64"}

MODEL_PY = '''"""Triton python back end: generator.onnx in ONNX Runtime (by engine.serve export)."""

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        self.input = config["input"][0]["name"]
        self.output = config["output"][0]["name"]
        here = Path(__file__).parent
        options = ort.SessionOptions()
        options.intra_op_num_threads = {threads}
        self.session = ort.InferenceSession(
            str(here / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )

    def execute(self, requests):
        # each request is one engine's batch; they are run one by one (dynamic batching off)
        out = []
        for request in requests:
            x = pb_utils.get_input_tensor_by_name(request, self.input).as_numpy()
            y = self.session.run([self.output], {{self.input: np.ascontiguousarray(x)}})[0]
            out.append(pb_utils.InferenceResponse([pb_utils.Tensor(self.output, y)]))
        return out
'''


@dataclass(frozen=True)
class Exported:
    folder: Path  # REPO/NAME
    config: Path  # REPO/NAME/config.pbtxt
    model: Path  # REPO/NAME/1/model.onnx


def onnx_dtypes(path: Path, input_name: str, output_name: str) -> tuple[str, str]:
    """The Triton dtypes of the model's input and output, read from the ONNX file itself."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    types = {t.name: t.type for t in (*session.get_inputs(), *session.get_outputs())}
    out = []
    for name in (input_name, output_name):
        if types.get(name) not in ONNX_DTYPES:
            got = types.get(name)
            raise ModelError(f"{path}: '{name}' has type {got}; the Triton export takes float32/16/64")
        out.append(ONNX_DTYPES[types[name]])
    return out[0], out[1]


def config_text(m: Manifest, name: str, backend: str, dtypes: tuple[str, str], max_batch: int) -> str:
    """config.pbtxt: dims without the batch axis (Triton adds it, up to max_batch_size)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend '{backend}' must be one of {', '.join(BACKENDS)}")
    engine = 'platform: "onnxruntime_onnx"' if backend == "onnxruntime" else 'backend: "python"'
    kind = "KIND_AUTO" if backend == "onnxruntime" else "KIND_CPU"  # model.py runs ONNX Runtime on the CPU
    return (
        f'name: "{name}"\n'
        f"{engine}\n"
        f"max_batch_size: {max_batch}\n"
        "input [\n"
        f'  {{ name: "{m.input_name}", data_type: {dtypes[0]}, dims: [ {m.latent_dim} ] }}\n'
        "]\n"
        "output [\n"
        f'  {{ name: "{m.output_name}", data_type: {dtypes[1]}, '
        f"dims: [ {m.channels}, {m.height}, {m.width} ] }}\n"
        "]\n"
        "# one engine sends batch 1 at frame rate: batching across engines trades their latency for\n"
        "# throughput, so it is off; several engines on one GPU: raise count, or add dynamic_batching {}\n"
        f"instance_group [ {{ count: 1, kind: {kind} }} ]\n"
    )


def export(
    model_dir: str | Path,
    repo: str | Path,
    backend: str = "onnxruntime",
    name: str | None = None,
    max_batch: int = MAX_BATCH,
    threads: int = 1,
) -> Exported:
    """Write REPO/NAME/config.pbtxt and REPO/NAME/1/model.onnx (+ model.py for the python back end)."""
    if backend not in BACKENDS:
        raise ValueError(f"--backend '{backend}' must be one of {', '.join(BACKENDS)}")
    m = load_manifest(model_dir)  # a mapping network stays with the engine: it runs once per keyframe
    name = name or m.name
    if not name or "/" in name:
        raise ValueError(f"--name '{name}' must be a plain folder name")
    dtypes = onnx_dtypes(m.onnx, m.input_name, m.output_name)
    folder = Path(repo) / name
    version = folder / "1"
    version.mkdir(parents=True, exist_ok=True)
    for stale in ("model.py", "model.onnx"):  # a re-export with the other back end leaves nothing behind
        (version / stale).unlink(missing_ok=True)
    shutil.copyfile(m.onnx, version / "model.onnx")
    if backend == "python":
        (version / "model.py").write_text(MODEL_PY.format(threads=int(threads)), encoding="utf-8")
    config = folder / "config.pbtxt"
    config.write_text(config_text(m, name, backend, dtypes, max_batch), encoding="utf-8")
    return Exported(folder, config, version / "model.onnx")
