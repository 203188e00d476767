#!/usr/bin/env bash
# Real photos that are not faces, with MaskLab's defaults (issue 31): Fashion-MNIST (Debian's dataset-fashion-mnist,
# 60,000 training and 10,000 test photos written once as image folders) trained with the bar's recipe and every other
# setting left at its default (`--set model=resnet18 --set image_size=32x32 --set epochs=5 --set optimizer=adam --set
# lr=0.001 --set batch_size=64`), then `masklab eval` on the test folder; right after, on the same machine, PyTorch's
# same recipe (bench/fashion_mnist.py: torchvision resnet18, all 60,000 photos, Adam 1e-3, batch 64, cosine, flip,
# fp32). Prints each side's per-epoch images/s, training seconds and test accuracy, what face_crop auto resolved to,
# and the ratios. Settings: THREADS (default nproc), OUT (default $MASKLAB_HOME/fashion-mnist).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
threads=${THREADS:-$(nproc)}
home=${MASKLAB_HOME:-$HOME/.cache/masklab}
out=${OUT:-$home/fashion-mnist}
py=/usr/bin/python3   # Debian's python, where python3-torch installs
sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd=sudo
if ! "$py" -c 'import torch, torchvision, PIL' 2>/dev/null || [ ! -d /usr/share/datasets/fashion-mnist ]; then
  echo "installing Debian's dataset-fashion-mnist, python3-torch, python3-torchvision and python3-pil..." >&2
  $sudo_cmd apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq dataset-fashion-mnist python3-torch python3-torchvision python3-pil >&2
fi
if [ ! -f "$out/.done" ]; then
  echo "writing Fashion-MNIST as image folders under $out..." >&2
  rm -rf "$out"; "$py" bench/fashion_mnist.py folders "$out"; touch "$out/.done"
fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'); $(nproc) cores, $threads threads; $(date -u +%F)"
start=$(date +%s)
./masklab train --data "$out/train" --out "$work/masklab" --set model=resnet18 --set image_size=32x32 --set epochs=5 \
  --set optimizer=adam --set lr=0.001 --set batch_size=64 --set threads="$threads" > "$work/train.log" 2>&1
ml_wall=$(( $(date +%s) - start ))
ml_acc=$(./masklab eval --run "$work/masklab" --data "$out/test" --json | tail -n 1 | "$py" -c 'import json,sys; print(json.load(sys.stdin)["accuracy"])')
ml_speeds=$("$py" -c 'import json,sys; print(" ".join("%.0f" % json.loads(l)["train_images_per_second"] for l in open(sys.argv[1])))' "$work/masklab/metrics.jsonl")
ml_train=$("$py" -c 'import json,sys; print("%.0f" % json.load(open(sys.argv[1]))["train_seconds"])' "$work/masklab/summary.json")
crop=$("$py" -c 'import json,sys; d=json.load(open(sys.argv[1])); c=d.get("face_crop_choice") or {}; print(c.get("resolved","?"), "-", c.get("reason",""))' "$work/masklab/metadata.json")
start=$(date +%s)
pt=$("$py" bench/fashion_mnist.py train "$out" | tail -n 1)
pt_wall=$(( $(date +%s) - start ))
pt_speeds=$("$py" -c 'import json,sys; print(" ".join("%.0f" % v for v in json.loads(sys.argv[1])["images_per_second"]))' "$pt")
pt_acc=$("$py" -c 'import json,sys; print(json.loads(sys.argv[1])["test_accuracy"])' "$pt")
pt_train=$("$py" -c 'import json,sys; print("%.0f" % json.loads(sys.argv[1])["train_seconds"])' "$pt")

echo "face_crop auto: $crop"
echo
echo "| | test accuracy | training s | wall s (load, train, eval) | images/s per epoch |"
echo "|---|---:|---:|---:|---|"
echo "| MaskLab (defaults) | $ml_acc | $ml_train | $ml_wall | $ml_speeds |"
echo "| PyTorch $("$py" -c 'import torch; print(torch.__version__)') | $pt_acc | $pt_train | $pt_wall | $pt_speeds |"
"$py" -c 'import sys; a,b,c,d=map(float,sys.argv[1:]); print("MaskLab / PyTorch: accuracy %+.4f, training time %.2fx" % (a-b, c/d))' "$ml_acc" "$pt_acc" "$ml_train" "$pt_train"
