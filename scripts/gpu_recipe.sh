#!/usr/bin/env bash
# Issue 12's GPU recipe in one lease of a lent GPU machine (about 8 minutes): paint the data on the
# GPU, train the 256² student and the 512² teacher side by side, distil the teacher into a second
# student, pack the checkpoints in fp16 (each under 16 MiB) and time the generators on CUDA.
# Needs only torch with CUDA (the lent machine's image has it); everything else is this repo.
#   OUT=gpu_out TOTAL_S=470 bash scripts/gpu_recipe.sh
# The student alone, at a larger batch (the second lease: one process owns the GPU, and a thin network
# costs nearly the same per step at batch 128 as at 32, so four times the images fit the minutes):
#   OUT=gpu_out TEACHER=none BATCH=128 COUNT=30000 TOTAL_S=540 bash scripts/gpu_recipe.sh
# The same script at toy size on a CPU, to check it before a lease:
#   DEVICE=cpu STUDENT=toy TEACHER=toy_teacher COUNT=40 BATCH=4 TOTAL_S=60 TAIL_S=15 DISTIL_S=10 bash scripts/gpu_recipe.sh
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-gpu_out}"
runs="${RUNS:-/tmp/runs}"
mkdir -p "$out" "$runs"
export PYTHONUNBUFFERED=1 ORT_DISABLE_TELEMETRY=1
py="${PYTHON:-python3}"
device="${DEVICE:-cuda}"
student_model="${STUDENT:-student}"
teacher_model="${TEACHER:-teacher}"
count="${COUNT:-20000}"
teacher_count="${TEACHER_COUNT:-10000}"
# A hard end for the whole run, painting included, so the packing below always happens in the lease.
start=$(date +%s)
hard_end=$((start + ${TOTAL_S:-470}))
train_end=$((hard_end - ${TAIL_S:-45}))
teacher_end=$((train_end - ${DISTIL_S:-90}))
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv >"$out/gpu.txt" 2>&1
"$py" -c "import torch; print('torch', torch.__version__, torch.cuda.is_available() and torch.cuda.get_device_name())" \
  >>"$out/gpu.txt" 2>&1
"$py" -c "import onnxruntime as o; print('onnxruntime', o.__version__, o.get_available_providers())" \
  >>"$out/gpu.txt" 2>&1

runs_made="student"
if [ "$teacher_model" = none ]; then
  "$py" -m models.cgan train --paint "$count" --paint-seconds "${PAINT_S:-100}" --model "$student_model" --device "$device" \
    --batch "${BATCH:-32}" --lr "${LR:-0.002}" --ema-kimg "${EMA_KIMG:-10}" --until "$train_end" --checkpoint-every 2000 \
    --out "$runs/student" >"$runs/student.log" 2>&1
  echo "student exit $?" >>"$out/gpu.txt"
else
  "$py" -m models.cgan train --paint "$count" --paint-seconds "${PAINT_S:-100}" --model "$student_model" --device "$device" --batch "${BATCH:-32}" \
    --minutes "${STUDENT_MIN:-7}" --until "$train_end" --checkpoint-every 2000 --out "$runs/student" >"$runs/student.log" 2>&1 &
  student=$!
  "$py" -m models.cgan train --paint "$teacher_count" --paint-seconds "${PAINT_S:-100}" --model "$teacher_model" --device "$device" --batch "${BATCH:-32}" \
    --minutes "${TEACHER_MIN:-6}" --until "$teacher_end" --checkpoint-every 2000 --out "$runs/teacher" >"$runs/teacher.log" 2>&1
  echo "teacher exit $?" >>"$out/gpu.txt"
  "$py" -m models.cgan distil --teacher "$runs/teacher/checkpoint.pt" --device "$device" --batch "${BATCH:-32}" \
    --student "$student_model" --minutes "${DISTIL_MIN:-3}" --until "$train_end" --out "$runs/distilled" >"$runs/distil.log" 2>&1
  echo "distil exit $?" >>"$out/gpu.txt"
  wait "$student"
  echo "student exit $?" >>"$out/gpu.txt"
  runs_made="student teacher distilled"
fi

for run in $runs_made; do
  "$py" -m models.cgan pack "$runs/$run/checkpoint.pt" "$out/$run.pt" --nets G_ema >>"$out/gpu.txt" 2>&1
done
[ "$device" = cuda ] && [ "$teacher_model" != none ] && "$py" scripts/gpu_generator_bench.py \
  "$runs/student/checkpoint.pt" "$runs/teacher/checkpoint.pt" >"$runs/bench.log" 2>&1
tar -czf "$out/runs.tgz" -C "$runs" --exclude='*.pt' .
tail -n 3 "$runs"/*.log >>"$out/gpu.txt"
echo "seconds $(($(date +%s) - start))" >>"$out/gpu.txt"
ls -la "$out"
