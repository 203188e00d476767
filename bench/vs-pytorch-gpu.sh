#!/usr/bin/env bash
# MaskLab against PyTorch eager on the same CUDA GPU, in the same run: resnet18 training images/s at 224x224 and
# 96x128 (WxH), batch 64 and 256, fp32 and bf16, with and without channels-last. For each configuration the two
# are timed one after the other (MaskLab, then PyTorch), so that ratios compare like with like on a shared card.
#
#   bench/vs-pytorch-gpu.sh CLI OUTDIR        CLI: the masklab executable (the GPU kit's MaskLab.Cli, or ./masklab)
#   PYTHON=python3  STEPS=20  CONFIGS="224x224:64 224x224:256 96x128:64 96x128:256"
#
# Writes OUTDIR/vs-pytorch-gpu.jsonl (one line per measurement) and OUTDIR/vs-pytorch-gpu.md (the table, with the
# MaskLab / PyTorch ratio); scripts/gpu-run.sh calls it on the GPU machine.
set -uo pipefail
cli="${1:?usage: bench/vs-pytorch-gpu.sh CLI OUTDIR}"
out="${2:?usage: bench/vs-pytorch-gpu.sh CLI OUTDIR}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3}"
steps="${STEPS:-20}"
configs="${CONFIGS:-224x224:64 224x224:256 96x128:64 96x128:256}"
mkdir -p "$out"
jsonl="$out/vs-pytorch-gpu.jsonl"
: > "$jsonl"
for config in $configs; do
  size="${config%%:*}" batch="${config##*:}"
  for precision in fp32 bf16; do
    for layout in contiguous channels_last; do
      cl=(); [ "$layout" = channels_last ] && cl=(--channels-last)
      m=$(timeout 300 "$cli" bench --model resnet18 --size "$size" --batch "$batch" --precision "$precision" --device cuda \
            --steps "$steps" --warmup 3 "${cl[@]}" --json 2>"$out/masklab-$size-$batch-$precision-$layout.err" | grep -E '^\{' | tail -n 1)
      p=$(timeout 300 "$python" "$here/vs_pytorch_gpu.py" --size "$size" --batch "$batch" --precision "$precision" \
            --steps "$steps" "${cl[@]}" 2>"$out/pytorch-$size-$batch-$precision-$layout.err" | tail -n 1)
      echo "{\"size\":\"$size\",\"batch\":$batch,\"precision\":\"$precision\",\"layout\":\"$layout\",\"masklab\":${m:-null},\"pytorch\":${p:-null}}" >> "$jsonl"
      echo "$size batch $batch $precision $layout: masklab ${m:+ok} pytorch ${p:+ok}" >&2
    done
  done
done
"$python" - "$jsonl" > "$out/vs-pytorch-gpu.md" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
card = next((r["pytorch"]["device_name"] for r in rows if r.get("pytorch")), "?")
print(f"resnet18 training, img/s (median step), random tensors, AdamW, on {card}; bf16: MaskLab's mixed precision vs PyTorch autocast")
print()
print("| size | batch | precision | layout | MaskLab img/s | PyTorch img/s | MaskLab / PyTorch |")
print("|---|---:|---|---|---:|---:|---:|")
for r in rows:
    m = (r.get("masklab") or {}).get("train_images_per_second")
    p = (r.get("pytorch") or {}).get("train_images_per_second")
    ratio = f"{m / p:.2f}" if m and p else "–"
    f = lambda v: f"{v:,.0f}" if v else "failed"
    print(f"| {r['size']} | {r['batch']} | {r['precision']} | {r['layout']} | {f(m)} | {f(p)} | {ratio} |")
PY
cat "$out/vs-pytorch-gpu.md"
