#!/usr/bin/env bash
# Proving the GPU path (issue 11, part 4) on a machine with an NVIDIA GPU, in about 8 minutes:
#   1. a venv with onnxruntime-gpu + TensorRT (requirements-gpu.txt), onnx, and the loop's runtime
#      (requirements.txt without the CPU onnxruntime);
#   2. the gpu-marked tests (CUDA + IO binding, TensorRT fp16, the keyed engine cache, batch 4);
#   3. a 512² speed fixture (models.upsized: paintbox + a fixed resize) and the generator bench,
#      batch 1 and 4, on every provider: painterly 256², paintbox 256², paintbox 512²;
#   (between 2 and 3: the engine cache, first session built and second loaded, both timed)
#   4. the whole loop (engine.bench, 300 frames, offline + realtime) with the generator on the GPU;
#   5. a summary table (also in $OUT/summary.txt) to paste into the closing note.
# Not run in CI (CI has no GPU). Every step has its own time limit; a failed step is reported in the
# summary and the script goes on. Results under ${OUT:-gpu_out}/.
#
#   OUT=gpu_out bash scripts/gpu_check.sh
# Settings (environment): WHEELS=DIR installs from a wheel folder with no network; GPU_VENV (default
# /tmp/gpuenv, reused when it exists); SIZE (512 or 1024); LOOP_PROVIDER (tensorrt or cuda); ITERS; FRAMES.
# TensorRT engines go to $XDG_CACHE_HOME (default here: /tmp/lm-gpu-cache, so the first build is
# measured); the bench builds them and the loop then loads them, its log says which.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-gpu_out}"
venv="${GPU_VENV:-/tmp/gpuenv}"
size="${SIZE:-512}"
iters="${ITERS:-100}"
frames="${FRAMES:-300}"
loop_provider="${LOOP_PROVIDER:-tensorrt}"
upsized="/tmp/lm-paintbox-$size"
export XDG_CACHE_HOME="${XDG_CACHE_HOME:-/tmp/lm-gpu-cache}"
export ORT_DISABLE_TELEMETRY=1
mkdir -p "$out"
summary=()
started=$(date +%s)

step() {  # step NAME SECONDS COMMAND...: run with a time limit, log to $out/NAME.txt, note the outcome
  local name=$1 limit=$2 t0 rc
  shift 2
  t0=$(date +%s)
  echo "=== $name (limit ${limit} s): $*"
  timeout "$limit" "$@" 2>&1 | tee "$out/$name.txt" | tail -n 40
  rc=${PIPESTATUS[0]}
  local verdict=ok
  [ "$rc" = 124 ] && verdict="TIMED OUT"
  [ "$rc" != 0 ] && [ "$rc" != 124 ] && verdict="FAILED (rc $rc)"
  summary+=("$(printf '%-12s %-16s %4d s' "$name" "$verdict" $(($(date +%s) - t0)))")
  return "$rc"
}

nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv | tee "$out/nvidia-smi.txt"

# 1. The venv. onnxruntime-gpu and the CPU onnxruntime both provide `onnxruntime`: only the GPU one here.
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
. "$venv/bin/activate"
pip_from=()
[ -n "${WHEELS:-}" ] && pip_from=(--no-index --find-links "$WHEELS")
grep -v '^onnxruntime' requirements.txt >"$out/requirements-loop.txt"
step install-gpu 240 pip install -q "${pip_from[@]}" -r requirements-gpu.txt "numpy<2" "protobuf<5" \
  onnx==1.17.0 pytest || echo "the GPU runtime did not install: later steps will say what is missing"
step install-loop 180 pip install -q "${pip_from[@]}" -r "$out/requirements-loop.txt" ||
  echo "the loop's runtime did not install: the loop step will fail, the rest goes on"
step providers 60 python3 -c "
import onnxruntime as o
from engine.generator import providers as p
p.preload_gpu_libraries()
print('onnxruntime', o.__version__, o.get_available_providers())
print('tensorrt', p.tensorrt_version(), '| gpu', p.gpu_identity(), '| cache', p.cache_dir())"

# 2. The GPU tests (they use their own throwaway engine cache).
step gpu-tests 200 python3 -m pytest -q -m gpu tests/generator/test_gpu.py -p no:cacheprovider

# The engine cache: the first session builds painterly's engine, the second loads it (both timed).
step trt-cache 240 python3 -c "
import logging, time
logging.basicConfig(level=logging.INFO, format='%(name)s: %(message)s')
from engine.generator.onnx_generator import OnnxGenerator
for run in ('first session', 'second session'):
    t = time.perf_counter()
    gen = OnnxGenerator('models/painterly', provider='tensorrt')
    print(f'{run}: {gen.provider}, {time.perf_counter() - t:.1f} s to a warm generator', flush=True)
    del gen"

# 3. The speed fixture and the provider table.
step upsize 120 python3 -m models.upsized --model models/paintbox --size "$size" --out "$upsized"
models=(--model models/painterly --model models/paintbox)
[ -f "$upsized/manifest.json" ] && models+=(--model "$upsized")
step bench 240 python3 -m engine.generator.bench "${models[@]}" --provider all --batches 1,4 \
  --iters "$iters" --json "$out/bench.json"
ls -R "$XDG_CACHE_HOME/latent-mirror/tensorrt" >"$out/engine-cache.txt" 2>&1

# 4. The whole loop on the GPU. EGL (Mesa) may be missing on a bare GPU machine: try to add it, and
# never let a GL failure stop the script.
if ! python3 -c "import moderngl; moderngl.create_standalone_context(backend='egl', require=330)" 2>/dev/null; then
  echo "no EGL context: trying apt (root only)"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    timeout 120 apt-get install -y -q --no-install-recommends libegl1 libgl1-mesa-dri libgles2 >"$out/apt.txt" 2>&1 ||
      echo "apt could not install EGL (see $out/apt.txt)"
  fi
fi
printf '[generator]\nprovider = "%s"\n' "$loop_provider" >"$out/loop.toml"
step loop 180 env PYTHONUNBUFFERED=1 python3 -m engine.bench --frames "$frames" --no-plots \
  --config "$out/loop.toml" --json "$out/loop.json" || echo "the loop did not run on the GPU (see $out/loop.txt)"

# 5. Summary.
{
  echo "== gpu_check: $(head -n 2 "$out/nvidia-smi.txt" | tail -n 1), $(($(date +%s) - started)) s in all"
  printf '%s\n' "${summary[@]}"
  python3 - "$out" <<'EOF'
import json, sys
from pathlib import Path

out = Path(sys.argv[1])
bench, loop = out / "bench.json", out / "loop.json"
if bench.is_file():
    b = json.loads(bench.read_text())
    print(f"\ngenerator (onnxruntime {b['onnxruntime']}), ms per frame:")
    print(f"{'model':<16}{'size':>10}{'provider':>10}{'batch':>6}{'ms p50':>9}{'p95':>8}{'fps':>8}")
    for r in b["rows"]:
        print(
            f"{r['model']:<16}{r['size']:>10}{r['provider']:>10}{r['batch']:>6}"
            f"{r['ms_median']:>9.2f}{r['ms_p95']:>8.2f}{r['fps']:>8.1f}"
        )
else:
    print("\ngenerator bench: no results")
if loop.is_file():
    r = json.loads(loop.read_text())
    print(f"\nloop (engine.bench --frames {r['frames']}, {r['size']}):")
    for mode in ("offline", "realtime"):
        m = r[mode]
        print(
            f"  {mode:9s} provider {m['provider']:9s} presented {m['presented_fps']} fps, "
            f"fresh {m['fresh_images_per_s']}/s, generator p50 {m['generator_ms_p50']} ms, "
            f"latency p50/p95 {m['latency_ms_p50']}/{m['latency_ms_p95']} ms"
        )
else:
    print("\nloop: no results (see loop.txt)")
EOF
  echo
  grep -h "TensorRT engine\|warm generator" "$out/trt-cache.txt" 2>/dev/null
} | tee "$out/summary.txt"
