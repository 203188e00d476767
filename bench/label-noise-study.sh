#!/usr/bin/env bash
# The label audit and the one-command cleaning measured on planted noise (issue 32). For every noise RATE (the
# competition's kind) and every UNIFORM_RATE (the literature's uniform kind), and every training SEED, on a synthetic
# set of PEOPLE train people drawn with seed 7000 + the rate in tenths of a percent (never used to choose a setting):
#   1. ./masklab clean: the config as a FOLDS-fold run, its audit (attribute rule at THRESHOLD), the final run on the fixes;
#   2. ./masklab audit --truth on that k-fold run's oof.csv, both methods (attribute, confident): precision, recall,
#      their F1 and the share of right suggestions, on the same out-of-fold probabilities;
#   3. the config trained with the noise left in, and with the true labels (label_fixes = train_truth.csv).
# One row per (kind, rate, seed) goes to OUT/results.tsv, with each step's wall time. Rerun to continue: finished
# steps are kept. Settings: PEOPLE (default 600), EVAL_PEOPLE (200), RATES ("0.01 0.05 0.10 0.20"), UNIFORM_RATES
# ("0.10"), SEEDS ("1 2 3"), FOLDS (3), THRESHOLD (0.7), OUT (runs/label-noise-study), SIZE (384x512), SET (extra
# --set arguments for every run, e.g. "--set image_size=48x64 --set epochs=1" for a quick check).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
people=${PEOPLE:-600}; eval_people=${EVAL_PEOPLE:-200}; rates=${RATES:-0.01 0.05 0.10 0.20}; uniform_rates=${UNIFORM_RATES:-0.10}
seeds=${SEEDS:-1 2 3}; folds=${FOLDS:-3}; threshold=${THRESHOLD:-0.7}; out=${OUT:-runs/label-noise-study}; size=${SIZE:-384x512}
read -r -a extra <<< "${SET:-}"
mkdir -p "$out"
results="$out/results.tsv"
[ -f "$results" ] || printf 'kind\trate\tseed\tmethod\tflagged\tplanted\tfound\tprecision\trecall\tf1\tsuggestion_right\teval_noisy\teval_cleaned\teval_true\tfixes\tclean_s\tnoisy_s\ttrue_s\n' > "$results"

eval_f1() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["eval_macro_f1"])' "$1/summary.json"; }
timed() { local s; s=$(date +%s); "$@" >&2; echo $(( $(date +%s) - s )); }
train_run() {  # train_run RUNDIR ARGS...: trains, resumes an interrupted run, or leaves a finished one
  local dir=$1; shift
  if [ -f "$dir/summary.json" ] && [ -f "$dir/submission.csv" ]; then return 0; fi
  if [ -f "$dir/checkpoints/last.ckpt" ]; then ./masklab train --resume "$dir"; else ./masklab train --out "$dir" "$@"; fi
}

study() {  # study KIND RATE
  local kind=$1 rate=$2 tenth data
  tenth=$(python3 -c "print(round($rate*1000))")
  data="$out/data/$kind-$rate"
  ./masklab synth --out "$data" --people "$people" --eval-people "$eval_people" --size "$size" --seed $((7000 + tenth)) \
    --label-noise "$rate" --label-noise-kind "$kind" >/dev/null
  for seed in $seeds; do
    local run="$out/$kind-$rate/seed-$seed" clean_s=0 noisy_s=0 true_s=0
    if grep -q "^$kind	$rate	$seed	" "$results"; then echo "$kind $rate seed $seed: done"; continue; fi
    echo "$kind $rate seed $seed: clean, then the noisy and the true-label runs" >&2
    clean_s=$(timed ./masklab clean --out "$run/clean" --data "$data" --folds "$folds" --threshold "$threshold" --set seed="$seed" "${extra[@]}")
    noisy_s=$(timed train_run "$run/noisy" --data "$data" --set seed="$seed" "${extra[@]}")
    true_s=$(timed train_run "$run/true" --data "$data" --set seed="$seed" --set label_fixes="$data/train_truth.csv" "${extra[@]}")
    local noisy cleaned truth fixes
    noisy=$(eval_f1 "$run/noisy"); cleaned=$(eval_f1 "$run/clean/final"); truth=$(eval_f1 "$run/true")
    fixes=$(($(wc -l < "$run/clean/label_fixes.csv") - 1))
    for method in attribute confident; do
      local j
      j=$(./masklab audit --run "$run/clean/kfold" --method "$method" --threshold "$threshold" --truth "$data/train_truth.csv" --top 0 --json | tail -1)
      AUDIT_JSON=$j python3 - "$kind" "$rate" "$seed" "$method" "$noisy" "$cleaned" "$truth" "$fixes" "$clean_s" "$noisy_s" "$true_s" >> "$results" <<'PY'
import json, os, sys
kind, rate, seed, method, noisy, cleaned, truth, fixes, cs, ns, ts = sys.argv[1:]
t = json.loads(os.environ["AUDIT_JSON"])["truth"]
p, r = t["precision"], t["recall"]
f1 = 2 * p * r / (p + r) if p + r > 0 else 0.0
print("\t".join(map(str, [kind, rate, seed, method, t["flagged"], t["planted"], t["found"], f"{p:.3f}", f"{r:.3f}", f"{f1:.3f}",
    t["suggestion_right"], noisy, cleaned, truth, fixes, cs, ns, ts])))
PY
    done
  done
}

for rate in $rates; do study competition "$rate"; done
for rate in $uniform_rates; do study uniform "$rate"; done
column -t -s $'\t' "$results"
