#!/usr/bin/env bash
# Training / inference images/s of baseline and resnet18 at the baseline's input size (96x128, batch 32), fed
# by random tensors and by the real pipeline (decoded, cached, augmented synthetic photos), plus the
# synthetic generator's photos/s at 384x512. Prints a Markdown table to paste into bench/RESULTS.md.
# Run it on a quiet machine: every figure is wall-clock.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
steps=${STEPS:-20}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
./masklab --help >/dev/null   # build once, outside the timings

echo "| model | source | train img/s | infer img/s |"
echo "|---|---|---:|---:|"
for model in baseline resnet18; do
  for mode in random pipeline; do
    flag=""; [ "$mode" = pipeline ] && flag="--pipeline"
    line=$(./masklab bench --model "$model" --size 96x128 --batch 32 --steps "$steps" $flag --json 2>/dev/null | tail -n 1)
    python3 - "$line" "$model" "$mode" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
print(f"| {sys.argv[2]} | {sys.argv[3]} | {r['train_images_per_second']:.1f} | {r['infer_images_per_second']:.1f} |")
PY
  done
done

people=${SYNTH_PEOPLE:-300}
start=$(date +%s.%N)
./masklab synth --out "$out/synth" --people "$people" --eval-people 0 >/dev/null 2>&1
end=$(date +%s.%N)
python3 -c "import sys; p=int(sys.argv[1])*7; s=float(sys.argv[3])-float(sys.argv[2]); print(f'\nsynth: {p} photos at 384x512 in {s:.1f} s = {p/s:.0f} photos/s')" "$people" "$start" "$end"
