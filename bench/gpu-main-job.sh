#!/usr/bin/env bash
# The competition-scale job on a CUDA GPU: synth at the competition's size (2,700 train people = 18,900 photos and
# 1,800 eval people = 12,600 photos at 384x512, on every core), then resnet18 for 10 epochs at 224x224 with the
# GPU-friendly settings (bf16, channels-last, batch 256), predicting and scoring the eval set. Reports val and eval
# macro F1, the wall time split into data (read + decode), training with validation, and eval prediction, and the
# fraction of the training window the GPU was busy (nvidia-smi's utilization.gpu, sampled every 100 ms).
#
#   bench/gpu-main-job.sh CLI OUTDIR          CLI: the masklab executable (the GPU kit's MaskLab.Cli)
#   MODEL=resnet18 SIZE=224x224 BATCH=256 EPOCHS=10 PRECISION=bf16 EXTRA="--set lr=0.002"
#
# The kit leaves the embedded ImageNet weights out (64 MB over the transfer limit), so the default model trains from
# scratch; with the weights at hand, MODEL=resnet18_mlnet fine-tunes them. Writes OUTDIR/main-job.json and .md.
set -uo pipefail
cli="${1:?usage: bench/gpu-main-job.sh CLI OUTDIR}"
out="${2:?usage: bench/gpu-main-job.sh CLI OUTDIR}"
mkdir -p "$out"
work="${WORK:-$(mktemp -d)}"
model="${MODEL:-resnet18}" size="${SIZE:-224x224}" batch="${BATCH:-256}" epochs="${EPOCHS:-10}" precision="${PRECISION:-bf16}"
# A dry run elsewhere: PEOPLE=20 EVAL_PEOPLE=8 DEVICE=cpu SIZE=48x64 BATCH=16 EPOCHS=1 PRECISION=fp32
people="${PEOPLE:-2700}" eval_people="${EVAL_PEOPLE:-1800}" device="${DEVICE:-cuda}"

start=$(date +%s%N)
"$cli" synth --out "$work/data" --people "$people" --eval-people "$eval_people" --size 384x512 --seed 42 > "$out/main-job-synth.txt" 2>&1 || { echo "synth failed" >&2; exit 1; }
synth_s=$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')

nvidia-smi --query-gpu=timestamp,utilization.gpu --format=csv,noheader,nounits -lms 100 > "$out/main-job-gpu-util.csv" 2>/dev/null &
smi=$!
start=$(date +%s%N)
# shellcheck disable=SC2086
"$cli" train --data "$work/data" --out "$work/run" --set model="$model" --set image_size="$size" --set batch_size="$batch" \
  --set epochs="$epochs" --set precision="$precision" --set channels_last=true --set device="$device" ${EXTRA:-} --json \
  > "$out/main-job-train.txt" 2>&1
rc=$?
job_s=$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
kill "$smi" 2>/dev/null
cp "$work/run/metadata.json" "$out/main-job-metadata.json" 2>/dev/null
cp "$work/run/summary.json" "$out/main-job-summary.json" 2>/dev/null
cp "$work/run/metrics.jsonl" "$out/main-job-metrics.jsonl" 2>/dev/null

python3 - "$out" "$synth_s" "$job_s" "$rc" <<'PY'
import datetime, json, os, sys
out, synth_s, job_s, rc = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
def load(name):
    try: return json.load(open(os.path.join(out, name)))
    except Exception: return {}
meta, summary = load("main-job-metadata.json"), load("main-job-summary.json")
phases = meta.get("phase_seconds", {})
# The training window: metadata's start and end stamps bracket training with validation.
def t(s): return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() if s else None
t0, t1 = t(meta.get("start_time")), t(meta.get("end_time"))
busy = []
for line in open(os.path.join(out, "main-job-gpu-util.csv")):
    try:
        stamp, util = (v.strip() for v in line.split(","))
        when = datetime.datetime.strptime(stamp, "%Y/%m/%d %H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc).timestamp()
    except ValueError:
        continue
    if t0 and t1 and t0 <= when <= t1: busy.append(float(util))
result = {
    "exit_code": rc, "device": (meta.get("device") or {}).get("name"), "model": summary.get("model"),
    "image_size": summary.get("image_size"), "precision": summary.get("precision"), "epochs_run": summary.get("epochs_run"),
    "val_macro_f1": summary.get("best_val_macro_f1"), "val_mask_gender_age_f1": [summary.get(k) for k in ("best_val_mask_f1", "best_val_gender_f1", "best_val_age_f1")],
    "eval_macro_f1": summary.get("eval_macro_f1"), "eval_mask_gender_age_f1": [summary.get(k) for k in ("eval_mask_f1", "eval_gender_f1", "eval_age_f1")],
    "synth_seconds": round(synth_s, 1), "job_seconds": round(job_s, 1),
    "load_data_seconds": phases.get("load_data"), "train_and_validate_seconds": phases.get("train_and_validate"),
    "predict_eval_seconds": phases.get("predict_eval"), "train_images_per_second": summary.get("train_images_per_second"),
    "gpu_busy_fraction_in_training": round(sum(busy) / len(busy) / 100, 3) if busy else None, "gpu_samples": len(busy),
}
json.dump(result, open(os.path.join(out, "main-job.json"), "w"), indent=1)
with open(os.path.join(out, "main-job.md"), "w") as md:
    for k, v in result.items(): md.write(f"| {k} | {v} |\n")
print(json.dumps(result))
PY
