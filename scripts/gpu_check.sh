#!/usr/bin/env bash
# One short GPU check for a machine with an NVIDIA GPU: the gpu-marked tests and the generator bench on
# TensorRT / CUDA / CPU. Not run in CI (CI has no GPU). Writes results under ${OUT:-gpu_out}/.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-gpu_out}"
mkdir -p "$out"
python3 -m venv /tmp/gpuenv && . /tmp/gpuenv/bin/activate
pip install -q -r requirements-gpu.txt "numpy<2" pytest 2>&1 | tail -2
ORT_DISABLE_TELEMETRY=1 python -c "import onnxruntime as o; print(o.__version__, o.get_available_providers())" | tee "$out/providers.txt"
python -m pytest -q -m gpu tests/generator/test_gpu.py -p no:cacheprovider 2>&1 | tee "$out/gpu_tests.txt"
python -m engine.generator.bench --provider all --iters 200 --json "$out/bench.json" 2>&1 | tee "$out/bench.txt"
