#!/usr/bin/env bash
# Times masklab serve's runs table over 1,000 run folders (issue 23's target: under 1 s on the 2-core machine).
# Writes the folders (no training: config.yaml, metrics.jsonl of 10 epochs, summary.json, metadata.json, as a
# finished run has them): 780 single runs, 10 sweeps of 10 runs (sweep.yaml each), 24 k-fold roots of 5 folds;
# 1,000 run folders in all. Starts `masklab serve` on a free loopback port and times GET /api/runs with curl:
# serve's start-up read of every run, the first request, warm ones (files unchanged), then one after 20 runs gained
# an epoch (as running trainings do). Also times the page itself (GET /) and one run's page data (GET /api/run).
# Usage: bench/dashboard-runs.sh [RUNS_DIR] (default: a temporary folder, removed at the end); WARM=10.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
warm="${WARM:-10}"
keep=1
if [ $# -gt 0 ]; then runs="$1"; else runs="$(mktemp -d)/runs"; keep=0; fi

echo "machine: $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) cores); $(date -u '+%Y-%m-%d %H:%M UTC')"
"$root/masklab" --help >/dev/null   # builds the CLI if needed

python3 - "$runs" <<'PY'
import json, os, random, sys
root = sys.argv[1]
rnd = random.Random(23)
config = """accumulate: 1
age_cuts: 30,60
age_head: none
augment: true
backbone_lr_scale: 1
batch_size: 32
channels_last: false
cutmix: 0
cutmix_alpha: 1
cutmix_old: 0
cutmix_vertical: false
cutout: 0
data: /data/mask
device: auto
epochs: 10
face_crop: none
face_margin: 0.3
fold: -1
folds: {folds}
freeze_bn: false
freeze_epochs: 0
head: single
head_weights: 1,1,1
image_size: 96x128
label_fixes: none
loss: {loss}
loss_alpha: 0.8
lr: {lr}
mixup: 0
mixup_alpha: 0.4
model: {model}
momentum: 0.9
optimizer: adamw
patience: 0
precision: auto
pretrained: auto
pseudo_labels: none
pseudo_threshold: 0.9
scheduler: cosine
seed: {seed}
skip_bad: false
smoothing: 0.1
split: person
step_gamma: 0.5
step_size: 20
threads: 0
val_ratio: 0.2
warmup_epochs: 1
weight_decay: 0.0005
weighted_sampler: false
weights: ''
"""
models = ["baseline", "resnet18", "resnet18_mlnet", "efficientnet_b0", "vit_tiny_patch16"]
losses = ["cross_entropy", "focal", "label_smoothing", "f1"]
count = 0

def run(path, seed, folds=0, model=None, loss=None, lr=None):
    global count
    count += 1
    os.makedirs(os.path.join(path, "checkpoints"), exist_ok=True)
    model = model or rnd.choice(models); loss = loss or rnd.choice(losses); lr = lr or rnd.choice(["0.001", "0.003", "0.0003"])
    with open(os.path.join(path, "config.yaml"), "w") as f:
        f.write(config.format(folds=folds, loss=loss, lr=lr, model=model, seed=seed))
    base = rnd.uniform(0.2, 0.6)
    epochs = []
    with open(os.path.join(path, "metrics.jsonl"), "w") as f:
        for e in range(1, 11):
            f1 = base * (1 - 0.6 ** e) + rnd.uniform(-0.01, 0.01)
            r = {"epoch": e, "train_loss": 2.5 / e, "val_loss": 2.6 / e ** 0.8, "val_macro_f1": f1, "val_accuracy": f1 + 0.2,
                 "val_mask_f1": 0.95, "val_gender_f1": 0.8, "val_age_f1": f1 * 0.9, "lr": 0.001 / e,
                 "train_images_per_second": 80 + rnd.uniform(-5, 5), "seconds": 60 + rnd.uniform(-5, 5)}
            epochs.append(r)
            f.write(json.dumps(r) + "\n")
    best = max(epochs, key=lambda r: r["val_macro_f1"])
    names = [f"{m} / {g} / {a}" for m in ["mask", "incorrect", "no mask"] for g in ["male", "female"] for a in ["<30", "30-59", "60+"]]
    summary = {"model": model, "loss": loss, "precision": "fp32", "image_size": "96x128", "best_val_macro_f1": best["val_macro_f1"],
               "best_val_accuracy": best["val_accuracy"], "best_val_mask_f1": 0.95, "best_val_gender_f1": 0.8,
               "best_val_age_f1": best["val_age_f1"], "best_epoch": best["epoch"], "epochs_run": 10, "stopped_early": False,
               "train_seconds": 600.0, "train_images_per_second": 80.0, "peak_memory_mb": 2048.0, "train_images": 3360,
               "val_images": 840, "skipped_bad_images": 0, "classes": 18, "class_names": names, "task_classes": True,
               "data": "/data/mask", "eval_macro_f1": best["val_macro_f1"] - 0.01, "eval_accuracy": 0.7, "eval_mask_f1": 0.96,
               "eval_gender_f1": 0.81, "eval_age_f1": 0.5, "submission": os.path.join(path, "submission.csv")}
    with open(os.path.join(path, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    meta = {"start_time": "2026-12-01T10:00:00.0000000+00:00", "end_time": "2026-12-01T10:10:00.0000000+00:00",
            "config": {}, "starting_weights": "random initialisation", "input_normalization": "task",
            "git": {"commit": "0" * 40, "dirty": False}, "data": {"root": "/data/mask", "files": 4200, "bytes": 1, "sha256": "0" * 64},
            "machine": {"host": "bench", "os": "Linux", "cpu": "bench", "logical_cores": 2, "torch_threads": 2, "memory_bytes": 1},
            "device": {"device": "cpu", "reason": "bench"}, "precision": {"setting": "auto", "resolved": "fp32", "reason": "bench"},
            "wall_seconds": 610.0, "phase_seconds": {"load_data": 5.0, "train_and_validate": 600.0, "predict_eval": 5.0}}
    with open(os.path.join(path, "metadata.json"), "w") as f:
        json.dump(meta, f, indent=2)
    open(os.path.join(path, "checkpoints", "last.ckpt"), "w").close()

for i in range(780):
    run(os.path.join(root, f"group-{i // 100}", f"run-{i:04d}"), i)
for s in range(10):
    sweep = os.path.join(root, "sweeps", f"sweep-{s}")
    os.makedirs(sweep, exist_ok=True)
    with open(os.path.join(sweep, "sweep.yaml"), "w") as f:
        f.write("base:\n  model: baseline\n  epochs: 10\nseeds: [1, 2]\ngrid:\n  lr: ['0.001', '0.003', '0.0003', '0.01', '0.03']\n")
    for lr in ["0.001", "0.003", "0.0003", "0.01", "0.03"]:
        for seed in [1, 2]:
            run(os.path.join(sweep, f"lr={lr}__seed={seed}"), seed, model="baseline", loss="cross_entropy", lr=lr)
for k in range(24):
    kf = os.path.join(root, "kfold", f"kfold-{k}")
    os.makedirs(kf, exist_ok=True)
    with open(os.path.join(kf, "config.yaml"), "w") as f:
        f.write(config.format(folds=5, loss="cross_entropy", lr="0.001", model="resnet18", seed=k))
    for fold in range(5):
        run(os.path.join(kf, f"fold-{fold}"), k, model="resnet18", loss="cross_entropy", lr="0.001")
print(f"wrote {count} run folders under {root}")
PY

dll="$root/src/MaskLab.Cli/bin/Release/net10.0/linux-x64/MaskLab.Cli.dll"
log="$(mktemp)"
dotnet "$dll" serve --runs "$runs" --port 0 >"$log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -f "$log"; [ $keep = 1 ] || rm -rf "$(dirname "$runs")"' EXIT
url=""
for _ in $(seq 1 300); do
  url="$(sed -n 's/^open //p' "$log" | head -n 1)"
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { cat "$log" >&2; echo "serve did not start" >&2; exit 1; }
echo "serving at $url"

t() { curl -s -o /dev/null -w '%{time_total}' "$1"; }
rows="$(curl -s "${url}api/runs" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(len(j["rows"]))')"
echo "runs table rows: $rows (1,000 runs, 10 sweeps, 24 k-fold roots)"
median() { python3 -c 'import statistics,sys; v=[float(x) for x in sys.argv[1:]]; print(f"median {statistics.median(v):.3f} s, max {max(v):.3f} s over {len(v)}")' "$@"; }
# Again from a fresh start: serve reads every run once before it prints its address (timed on its "found" line).
kill -TERM $pid; wait $pid 2>/dev/null || true
dotnet "$dll" serve --runs "$runs" --port 0 >"$log" 2>&1 &
pid=$!
url=""
for _ in $(seq 1 300); do url="$(sed -n 's/^open //p' "$log" | head -n 1)"; [ -n "$url" ] && break; sleep 0.1; done
grep '^found' "$log" | sed 's/^/serve start-up: /'
echo "GET /api/runs, first request: $(t "${url}api/runs") s"
cpu() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }   # the server's user + system clock ticks
c0="$(cpu)"
w=(); for _ in $(seq 1 "$warm"); do w+=("$(t "${url}api/runs")"); done
c1="$(cpu)"
echo "GET /api/runs, warm (files unchanged): $(median "${w[@]}"); server CPU $(python3 -c "print(f'{($c1 - $c0) / $(getconf CLK_TCK) / $warm:.3f}')") s a request"
echo "load average while measuring: $(cut -d' ' -f1-3 /proc/loadavg)"
# 20 runs gain an epoch line, as running trainings do between two polls of the table.
python3 - "$runs" <<'PY'
import glob, json, sys
for m in sorted(glob.glob(sys.argv[1] + "/group-0/*/metrics.jsonl"))[:20]:
    lines = open(m).read().splitlines()
    r = json.loads(lines[-1]); r["epoch"] += 1
    open(m, "a").write(json.dumps(r) + "\n")
PY
echo "GET /api/runs, after 20 runs gained an epoch: $(t "${url}api/runs") s"
p=(); for _ in $(seq 1 "$warm"); do p+=("$(t "$url")"); done
echo "GET / (the page): $(median "${p[@]}")"
r=(); for _ in $(seq 1 "$warm"); do r+=("$(t "${url}api/run?id=group-0/run-0000")"); done
echo "GET /api/run (one run's page data): $(median "${r[@]}")"
