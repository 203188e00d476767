#!/usr/bin/env bash
# Does training keep its speed from epoch to epoch? MaskLab and PyTorch train the same resnet18 (from scratch, 18
# classes, 32x32, Adam lr 1e-3, batch 64, no augmentation) on the same photos for EPOCHS epochs, and the images/s of
# every epoch are printed side by side: MaskLab as it runs (denormal floats flushed to zero) and with
# MASKLAB_KEEP_DENORMALS=1, PyTorch 1.13 (Debian's python3-torch) with and without torch.set_flush_denormal(True).
# A slowdown that only the runs keeping denormals show is theirs (Adam's second moments and tiny gradients decay
# into the denormal range, which many Intel CPUs compute on far more slowly).
# Settings: PEOPLE (synthetic people; 7 photos each, default 7000 = 49,000 photos, about 48,000 an epoch),
# EPOCHS (default 5), SIZE (default 32x32), THREADS (default nproc). The set is made once under MASKLAB_HOME.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
people=${PEOPLE:-7000}; epochs=${EPOCHS:-5}; size=${SIZE:-32x32}; threads=${THREADS:-$(nproc)}
home=${MASKLAB_HOME:-$HOME/.cache/masklab}
py=/usr/bin/python3   # Debian's python, where python3-torch installs
if ! "$py" -c 'import torch, torchvision, PIL' 2>/dev/null; then
  echo "installing Debian's python3-torch, python3-torchvision and python3-pil..." >&2
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd=sudo
  $sudo_cmd apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq python3-torch python3-torchvision python3-pil >&2
fi
data="$home/bench-epoch-speed-p$people"
./masklab synth --out "$data" --people "$people" --eval-people 2 --size 48x64 --seed 5 >/dev/null
export MALLOC_MMAP_THRESHOLD_=2147483647 MALLOC_TRIM_THRESHOLD_=2147483647 OMP_NUM_THREADS=$threads
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

masklab_run() {  # masklab_run NAME [ENV...]: per-epoch images/s of one MaskLab run, space separated
  local name=$1; shift
  env "$@" ./masklab train --data "$data" --out "$work/$name" --set model=resnet18 --set pretrained=none \
    --set image_size="$size" --set optimizer=adam --set lr=0.001 --set weight_decay=0 --set batch_size=64 \
    --set epochs="$epochs" --set scheduler=none --set warmup_epochs=0 --set augment=false --set precision=fp32 \
    --set val_ratio=0.02 --set face_crop=none --set age_head=none --set threads="$threads" >/dev/null 2>&1
  "$py" -c 'import json,sys; print(" ".join("%.0f" % json.loads(l).get("train_images_per_second") for l in open(sys.argv[1])))' "$work/$name/metrics.jsonl"
}
pytorch_run() {  # pytorch_run [--flush-denormal]
  "$py" bench/epoch_speed.py --data "$data" --size "$size" --epochs "$epochs" --threads "$threads" \
    --photos $((people * 7 * 98 / 100)) "$@" | tail -n 1 | "$py" -c 'import json,sys; print(" ".join("%.0f" % v for v in json.load(sys.stdin).get("images_per_second")))'
}

echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'); $(nproc) cores, $threads threads; $(date -u +%F); $people people, $epochs epochs at $size"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
ml_flush=$(masklab_run flush)
ml_keep=$(masklab_run keep MASKLAB_KEEP_DENORMALS=1)
pt_keep=$(pytorch_run)
pt_flush=$(pytorch_run --flush-denormal)
echo
echo "| epoch | MaskLab (denormals flushed, the default) | MaskLab (kept) | PyTorch (kept, its default) | PyTorch (flushed) |"
echo "|---:|---:|---:|---:|---:|"
paste -d' ' <(tr ' ' '\n' <<<"$ml_flush") <(tr ' ' '\n' <<<"$ml_keep") <(tr ' ' '\n' <<<"$pt_keep") <(tr ' ' '\n' <<<"$pt_flush") \
  | awk '{ printf "| %d | %s | %s | %s | %s |\n", NR, $1, $2, $3, $4 }'
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
