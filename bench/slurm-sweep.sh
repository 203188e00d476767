#!/usr/bin/env bash
# Wall time of a 4-run sweep through the Slurm executor with --max-parallel 1 and 2 (one CPU and one libtorch
# thread per task), beside the local executor on the same sweep, interleaved round by round so that a busy
# machine weighs on every variant alike. Wall time: from the submission to the gathering job's end (polled every
# 0.2 s); the local executor's from its start to its exit. Prints one line per measurement and a Markdown table.
#
#   bench/slurm-sweep.sh [ROUNDS]     default 3 rounds; needs a Slurm (scripts/slurm-local.sh start) and SLURM_CONF
#
# The sweep is the one the Slurm tests run: baseline at 24x32, 2 epochs, 2 losses x 2 seeds, on 90 synthetic people
# (630 photos) at 48x64 plus 12 eval people. EPOCHS, PEOPLE and SIZE (WxH of the input) change it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds=${1:-3}
epochs=${EPOCHS:-2}
people=${PEOPLE:-90}
size=${SIZE:-24x32}
[[ -n ${SLURM_CONF:-} ]] || eval "$(scripts/slurm-local.sh env)"
export MASKLAB_HOME=${MASKLAB_HOME:-$PWD/.cache/home}
work=$(mktemp -d /tmp/masklab-slurm-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
./masklab --help >/dev/null   # build once, outside the timings
./masklab synth --out "$work/data" --people "$people" --eval-people 12 --size 48x64 --seed 11 >/dev/null 2>&1
cat >"$work/sweep.yaml" <<YAML
base:
  model: baseline
  image_size: $size
  batch_size: 16
  warmup_epochs: 0
  threads: 1
  epochs: $epochs
  data: $work/data
seeds: [1, 2]
grid:
  loss: [cross_entropy, focal]
YAML

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
results=()

on_slurm() {  # on_slurm K OUT: submit with --max-parallel K, wait for the gathering job; prints the seconds
  local k=$1 out=$2 t0 jobs gather state
  t0=$(now)
  jobs=$(./masklab sweep --config "$work/sweep.yaml" --out "$out" --executor slurm --max-parallel "$k" --cpus-per-run 1 | grep '^jobs: ')
  gather=${jobs##* }
  while :; do
    state=$(squeue -h -t all -j "$gather" -o '%T' 2>/dev/null || true)
    case $state in COMPLETED) break ;; FAILED|CANCELLED|TIMEOUT) echo "gathering job $gather ended $state" >&2; exit 1 ;; esac
    sleep 0.2
  done
  secs "$t0" "$(now)"
}

locally() {
  local t0
  t0=$(now)
  ./masklab sweep --config "$work/sweep.yaml" --out "$1" >/dev/null 2>&1
  secs "$t0" "$(now)"
}

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$rounds"); do
  a=$(on_slurm 1 "$work/r$r-p1"); echo "round $r: slurm --max-parallel 1: $a s"
  b=$(on_slurm 2 "$work/r$r-p2"); echo "round $r: slurm --max-parallel 2: $b s"
  c=$(locally "$work/r$r-local"); echo "round $r: local executor: $c s"
  # The same F1 whichever way the runs went.
  for d in p1 p2; do
    cmp -s <(cut -d, -f1-8,11-14 "$work/r$r-$d/results.csv") <(cut -d, -f1-8,11-14 "$work/r$r-local/results.csv") \
      || { echo "round $r: $d results differ from the local executor's" >&2; exit 1; }
  done
  results+=("$a $b $c")
done
echo "# load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| round | slurm --max-parallel 1 | slurm --max-parallel 2 | local executor |"
echo "|---|---:|---:|---:|"
i=0
for line in "${results[@]}"; do i=$((i + 1)); read -r a b c <<<"$line"; echo "| $i | $a s | $b s | $c s |"; done
median() { printf '%s\n' "${results[@]}" | awk -v c="$1" '{ print $c }' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "| median | $(median 1) s | $(median 2) s | $(median 3) s |"
