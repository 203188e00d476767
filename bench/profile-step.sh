#!/usr/bin/env bash
# Where a training step's time goes, MaskLab and PyTorch side by side: median ms per phase (zero grad, forward,
# loss, backward, optimiser; MaskLab's bf16 step adds its copies between fp32 master and bf16 working weights, and
# every MaskLab step its tensor disposal and .NET GC pauses), random tensors, same threads and allocator tuning as
# bench/vs-pytorch.sh. Settings: MODEL (resnet18), SIZE (96x128), BATCH (32), STEPS (10), PRECISIONS ("fp32 bf16").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
model=${MODEL:-resnet18}; size=${SIZE:-96x128}; batch=${BATCH:-32}; steps=${STEPS:-10}; threads=${THREADS:-$(nproc)}
py=/usr/bin/python3
"$py" -c 'import torch, torchvision' 2>/dev/null || { echo "needs Debian's python3-torch and python3-torchvision (bench/vs-pytorch.sh installs them)" >&2; exit 1; }
./masklab --help >/dev/null
export MALLOC_MMAP_THRESHOLD_=2147483647 MALLOC_TRIM_THRESHOLD_=2147483647 OMP_NUM_THREADS=$threads
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); $model $size batch $batch, $threads threads, $steps timed steps"
for precision in ${PRECISIONS:-fp32 bf16}; do
  ml=$(./masklab bench --model "$model" --size "$size" --batch "$batch" --steps "$steps" --warmup 2 --precision "$precision" \
         --threads "$threads" --profile --json 2>>"${TMPDIR:-/tmp}/profile-step.log" | tail -n 1)
  pt=$("$py" bench/vs_pytorch.py --model "$model" --size "$size" --batch "$batch" --steps "$steps" --warmup 2 \
         --precision "$precision" --threads "$threads" --profile 2>>"${TMPDIR:-/tmp}/profile-step.log" | tail -n 1)
  "$py" - "$ml" "$pt" "$precision" <<'PY'
import json, sys
m, p, precision = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
mp, pp = m["phases_ms"], p["phases_ms"]
print(f"\n{precision}: MaskLab step {1000 * m['batch'] / m['train_images_per_second']:.1f} ms, "
      f"PyTorch step {1000 * p['batch'] / p['train_images_per_second']:.1f} ms; MaskLab reaches {m['train_gflops']:.0f} GFLOP/s "
      f"of a {m['matmul_ceiling_gflops']:.0f} GFLOP/s matrix-product ceiling ({100 * m['train_gflops'] / m['matmul_ceiling_gflops']:.0f} %)\n")
print("| phase | MaskLab ms | PyTorch ms |")
print("|---|---:|---:|")
for k in list(mp) + [k for k in pp if k not in mp]:
    a, b = mp.get(k), pp.get(k)
    print(f"| {k} | {'' if a is None else f'{a:.1f}'} | {'' if b is None else f'{b:.1f}'} |")
print(f"| (of which .NET GC pauses) | {m['gc_pause_ms_per_step']:.2f} | |")
PY
done
echo; echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
