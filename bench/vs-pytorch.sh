#!/usr/bin/env bash
# MaskLab against PyTorch on this machine, in one run: the same model, input size, batch, thread count and
# allocator tuning, fp32 and bf16 (MaskLab's mixed precision against PyTorch's CPU autocast), training and
# inference images/s on random tensors. The two alternate per configuration so that a change in machine load
# hits both. Prints a Markdown table with ratios (MaskLab / PyTorch; above 1 means MaskLab is faster).
# Settings: STEPS (timed steps, default 10), WARMUP (default 2), BATCH (default 32), THREADS (default: nproc),
# CONFIGS (default "resnet18:96x128 baseline:96x128 resnet18:224x224"; resnet18_mlnet is timed in PyTorch as
# torchvision's ResNet with blocks 2,2,2,3), PRECISIONS (default "fp32 bf16"), LAYOUTS ("nchw", and/or "cl" for
# channels-last; default "nchw"), ROUNDS (the whole table this many times, interleaved; default 1).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
steps=${STEPS:-10}; warmup=${WARMUP:-2}; batch=${BATCH:-32}; threads=${THREADS:-$(nproc)}
configs=${CONFIGS:-"resnet18:96x128 baseline:96x128 resnet18:224x224"}
precisions=${PRECISIONS:-"fp32 bf16"}
layouts=${LAYOUTS:-nchw}; rounds=${ROUNDS:-1}
py=/usr/bin/python3   # Debian's python, where python3-torch installs (not a pyenv python on PATH)

if ! "$py" -c 'import torch, torchvision' 2>/dev/null; then
  echo "installing Debian's python3-torch and python3-torchvision..." >&2
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd=sudo
  $sudo_cmd apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq python3-torch python3-torchvision >&2
fi
./masklab --help >/dev/null   # build once, outside the timings

# MaskLab sets these with mallopt at start-up (NativeSetup); glibc reads the same settings from these
# variables, so PyTorch runs with the same allocator tuning.
export MALLOC_MMAP_THRESHOLD_=2147483647 MALLOC_TRIM_THRESHOLD_=2147483647
export OMP_NUM_THREADS=$threads

echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'); bf16 flags: $(grep -o -w -E 'avx512_bf16|amx_bf16' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; threads $threads, batch $batch, $steps timed steps after $warmup warm-up"
echo
echo "| round | model | size | precision | layout | MaskLab train | PyTorch train | train ratio | MaskLab infer | PyTorch infer | infer ratio |"
echo "|---|---|---|---|---|---:|---:|---:|---:|---:|---:|"
for round in $(seq 1 "$rounds"); do
for config in $configs; do
  model=${config%%:*}; size=${config#*:}
  for precision in $precisions; do
  for layout in $layouts; do
    cl=(); [[ $layout == cl ]] && cl=(--channels-last)
    ml=$(./masklab bench --model "$model" --size "$size" --batch "$batch" --steps "$steps" --warmup "$warmup" \
           --precision "$precision" --threads "$threads" "${cl[@]}" --json 2>/dev/null | tail -n 1)
    pt=$("$py" bench/vs_pytorch.py --model "$model" --size "$size" --batch "$batch" --steps "$steps" \
           --warmup "$warmup" --precision "$precision" --threads "$threads" "${cl[@]}" 2>/dev/null | tail -n 1)
    "$py" - "$ml" "$pt" "$round" "$model" "$size" "$precision" "$layout" <<'PY'
import json, sys
m, p = json.loads(sys.argv[1]), json.loads(sys.argv[2])
mt, pt = m["train_images_per_second"], p["train_images_per_second"]
mi, pi = m["infer_images_per_second"], p["infer_images_per_second"]
print(f"| {sys.argv[3]} | {sys.argv[4]} | {sys.argv[5]} | {sys.argv[6]} | {sys.argv[7]} | {mt:.1f} | {pt:.1f} | {mt / pt:.2f} | {mi:.1f} | {pi:.1f} | {mi / pi:.2f} |")
PY
  done
  done
done
done
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
