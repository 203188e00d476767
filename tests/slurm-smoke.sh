#!/usr/bin/env bash
# Checks on a real Slurm (scripts/slurm-local.sh) what the sweep / k-fold job-array executor relies on:
# a job array with a %N throttle runs its tasks N at a time, each task sees SLURM_ARRAY_TASK_ID and
# SLURM_CPUS_PER_TASK, an afterany job runs once the whole array has ended even when a task failed, scancel
# ends one running task and its processes, and squeue / sacct answer in a form a program can parse.
# Prints how long the start took and the scheduling latencies, so CI can be budgeted.
#
#   tests/slurm-smoke.sh      starts Slurm if it is not up and stops it at the end only in that case
#
# Needs root (scripts/slurm-local.sh installs Debian's packages and starts the daemons). Takes about 30 s
# once the packages are installed.
# The small predicate functions below are called through wait_for.
# shellcheck disable=SC2317
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

passed=0 failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1${2:+: $2}"; failed=$((failed + 1)); }
check() {  # check "what" COMMAND...: ok when the command succeeds
  local what=$1; shift
  if "$@"; then ok "$what"; else not_ok "$what"; fi
}
finish() {
  echo "$passed passed, $failed failed"
  if (( failed == 0 )); then exit 0; fi
  exit 1
}
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# wait_for SECONDS COMMAND...: polls the command every 0.1 s until it succeeds; fails after SECONDS.
wait_for() {
  local limit=$1 deadline; shift
  deadline=$(awk -v t="$(now)" -v l="$limit" 'BEGIN { printf "%.1f", t + l }')
  until "$@"; do
    awk -v t="$(now)" -v d="$deadline" 'BEGIN { exit !(t > d) }' && return 1
    sleep 0.1
  done
}

slurm_dir=${SLURM_LOCAL_DIR:-/var/tmp/masklab-slurm}
was_up=0
scripts/slurm-local.sh status >/dev/null 2>&1 && was_up=1

t0=$(now)
if start_out=$(scripts/slurm-local.sh start 2>&1); then
  ok "slurm-local.sh start: $(tail -n 1 <<<"$start_out")"
else
  not_ok "slurm-local.sh start" "$start_out"
  finish
fi
start_s=$(secs "$t0" "$(now)")
eval "$(scripts/slurm-local.sh env)"
out=$(scripts/slurm-local.sh start 2>&1)
check "a second start finds it up" grep -q 'already up' <<<"$out"
quiet() { "$@" >/dev/null 2>&1; }
check "status says up" quiet scripts/slurm-local.sh status

work=$(mktemp -d /tmp/masklab-slurm-smoke-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/slurm"
cpus=$(sinfo -h -N -o '%c' | head -n 1)

# --- a 4-task array, 2 at a time, 1 CPU each; task 2 fails -------------------------------------------------
cat >"$work/task.sh" <<'EOF'
#!/bin/bash
start=$(date +%s.%N)
sleep 2
end=$(date +%s.%N)
echo "$SLURM_ARRAY_TASK_ID ${SLURM_CPUS_PER_TASK:-unset} $SLURM_ARRAY_JOB_ID $start $end $(nproc)" >"task-$SLURM_ARRAY_TASK_ID"
[[ $SLURM_ARRAY_TASK_ID != 2 ]] || exit 3
EOF
chmod +x "$work/task.sh"

submitted=$(now)
array=$(sbatch --parsable --array=0-3%2 --cpus-per-task=1 --job-name=smoke-array --chdir="$work" \
  --output="$work/slurm/%A_%a.out" "$work/task.sh" 2>&1)
if [[ ! $array =~ ^[0-9]+$ ]]; then not_ok "sbatch --array=0-3%2" "$array"; finish; fi
ok "sbatch --array=0-3%2 --cpus-per-task=1 gave job $array"
gather=$(sbatch --parsable --dependency="afterany:$array" --job-name=smoke-gather --chdir="$work" \
  --output="$work/slurm/gather.out" --wrap 'date +%s.%N > gather' 2>&1)
if [[ $gather =~ ^[0-9]+$ ]]; then
  ok "sbatch --dependency=afterany:$array gave job $gather"
else
  not_ok "sbatch --dependency=afterany" "$gather"
fi

# While two tasks run, the others wait for the throttle, not for CPUs, and the gather job for the array.
running() { [[ $(squeue -h -r -j "$array" -t running -o '%i' | wc -l) -ge 2 ]]; }
if wait_for 20 running; then
  lines=$(squeue -h -r -j "$array" -o '%i|%T|%r')
  check "two array tasks run at once" test "$(grep -c '|RUNNING|' <<<"$lines")" -eq 2
  check "the other two wait for the %2 throttle (squeue reason JobArrayTaskLimit)" \
    test "$(grep -c '|PENDING|JobArrayTaskLimit$' <<<"$lines")" -eq 2
  check "the gather job waits on its dependency" test "$(squeue -h -j "$gather" -o '%T|%r')" = "PENDING|Dependency"
else
  not_ok "two array tasks run at once" "$(squeue -h -r -j "$array" -o '%i|%T|%r' | tr '\n' ' ')"
fi

gather_done() { [[ -s $work/gather ]]; }
wait_for 60 gather_done || not_ok "the gather job ran within 60 s" "$(squeue -h -t all -o '%i|%T|%r' | tr '\n' ' ')"

ids=$(cat "$work"/task-* 2>/dev/null | awk '{ print $1 }' | sort -n | tr '\n' ' ')
check "every task ran once, SLURM_ARRAY_TASK_ID 0..3 (got: $ids)" test "$ids" = "0 1 2 3 "
check "SLURM_CPUS_PER_TASK=1 in every task" \
  test "$(cat "$work"/task-* 2>/dev/null | awk '$2 == "1"' | wc -l)" -eq 4
check "every task is pinned to its one CPU (nproc 1)" \
  test "$(cat "$work"/task-* 2>/dev/null | awk '$6 == "1"' | wc -l)" -eq 4
check "SLURM_ARRAY_JOB_ID is the array's id in every task" \
  test "$(cat "$work"/task-* 2>/dev/null | awk -v a="$array" '$3 == a' | wc -l)" -eq 4
logs=0
for f in "$work/slurm/${array}"_{0,1,2,3}.out; do [[ -f $f ]] && logs=$((logs + 1)); done
check "each task wrote its log under slurm/ as %A_%a.out" test "$logs" -eq 4
# The most tasks running at one moment: at each task's start, count the tasks whose interval holds it.
most=$(cat "$work"/task-* | awk '{ s[NR] = $4; e[NR] = $5 } END {
  m = 0; for (i = 1; i <= NR; i++) { c = 0; for (j = 1; j <= NR; j++) if (s[j] <= s[i] && s[i] < e[j]) c++; if (c > m) m = c }
  print m }')
want=$(( cpus < 2 ? cpus : 2 ))
check "at most $want tasks ran at once (measured $most)" test "$most" -eq "$want"
last_end=$(cat "$work"/task-* | awk 'BEGIN { m = 0 } $5 > m { m = $5 } END { printf "%.6f", m }')
gather_start=$(cat "$work/gather" 2>/dev/null || echo 0)
check "the afterany job started after the last task ended, though task 2 failed" \
  awk -v g="$gather_start" -v l="$last_end" 'BEGIN { exit !(g >= l) }'

# --- squeue and sacct, parsed -----------------------------------------------------------------------------
states=$(squeue -h -t all -r -j "$array" -o '%i|%T' | sort)
expected="${array}_0|COMPLETED
${array}_1|COMPLETED
${array}_2|FAILED
${array}_3|COMPLETED"
check "squeue -t all -r -o '%i|%T' lists the tasks with their end states" test "$states" = "$expected"

if [[ $(scontrol show config | awk -F' = ' '/^AccountingStorageType/ { print $2 }') == accounting_storage/slurmdbd ]]; then
  # slurmctld sends the records to slurmdbd in the background: give them a moment.
  acct() { sacct -X -n -P -j "$array" -o JobID,State,ExitCode 2>/dev/null | sort; }
  acct_done() { [[ $(acct | grep -c -E '\|(COMPLETED|FAILED)\|') -eq 4 ]]; }
  wait_for 15 acct_done
  expected="${array}_0|COMPLETED|0:0
${array}_1|COMPLETED|0:0
${array}_2|FAILED|3:0
${array}_3|COMPLETED|0:0"
  check "sacct -X -n -P -o JobID,State,ExitCode gives each task's state and exit code" test "$(acct)" = "$expected"
else
  # No slurmdbd: sacct -c reads the job completion file, which knows raw job ids only.
  check "sacct -c -n -P lists the failed task with exit code 3" \
    grep -q '|smoke-array|FAILED|3:0$' <<<"$(sacct -c -n -P -o JobID,JobName,State,ExitCode 2>/dev/null)"
fi

# --- scancel of one running task ----------------------------------------------------------------------------
# shellcheck disable=SC2016
cancel=$(sbatch --parsable --array=0-1 --cpus-per-task=1 --job-name=smoke-cancel --chdir="$work" \
  --output="$work/slurm/%A_%a.out" --wrap 'echo $$ > cancel-$SLURM_ARRAY_TASK_ID.pid; sleep 300' 2>&1)
both_running() {
  [[ -s $work/cancel-0.pid && -s $work/cancel-1.pid \
     && $(squeue -h -r -j "$cancel" -t running -o '%i' | wc -l) -eq 2 ]]
}
if wait_for 20 both_running; then
  t=$(now)
  scancel "${cancel}_1"
  cancelled() { [[ $(squeue -h -t all -j "${cancel}_1" -o '%T') == CANCELLED ]]; }
  if wait_for 15 cancelled; then
    ok "scancel ${cancel}_1 cancelled the running task in $(secs "$t" "$(now)") s"
  else
    not_ok "scancel ${cancel}_1" "$(squeue -h -t all -j "${cancel}_1" -o '%T|%r')"
  fi
  gone() { ! kill -0 "$1" 2>/dev/null; }
  check "the cancelled task's processes are gone" wait_for 10 gone "$(cat "$work/cancel-1.pid")"
  check "the other task still runs" test "$(squeue -h -j "${cancel}_0" -o '%T')" = RUNNING
  scancel "$cancel"
  check "scancel of the whole array ends the last task" wait_for 15 gone "$(cat "$work/cancel-0.pid")"
else
  not_ok "both tasks of the cancel array run" "$(squeue -h -r -j "$cancel" -o '%i|%T|%r' | tr '\n' ' ')"
  scancel "$cancel" 2>/dev/null
fi

# --- latencies ----------------------------------------------------------------------------------------------
# Submit to start of a lone job, five times.
lat=()
for _ in 1 2 3 4 5; do
  rm -f "$work/started"
  t=$(now)
  sbatch --parsable --job-name=smoke-latency --chdir="$work" --output=/dev/null --wrap 'date +%s.%N > started' >/dev/null
  started() { [[ -s $work/started ]]; }
  if wait_for 20 started; then lat+=("$(secs "$t" "$(cat "$work/started")")"); fi
done
check "five lone jobs started" test "${#lat[@]}" -eq 5
first=$(cat "$work"/task-* | awk 'NR == 1 || $4 < m { m = $4 } END { printf "%.6f", m }')
# The second wave of the array: a task's start after the first wave's first end.
next=$(cat "$work"/task-* | sort -k4 -n | awk 'NR <= 2 { if (e == "" || $5 < e) e = $5 } NR == 3 { printf "%.2f", $4 - e }')
echo "measure: start ${start_s} s (script: $(grep -o 'up in [0-9.]* s' <<<"$start_out" || echo 'was up'));" \
  "lone job submit->start ${lat[*]:-none} s; array submit->first task $(secs "$submitted" "$first") s;" \
  "task end->next task ${next} s; last task end->afterany job $(secs "$last_end" "$gather_start") s"

# --- stop ---------------------------------------------------------------------------------------------------
if (( was_up )); then
  echo "# Slurm was up before this check: left running"
else
  pids=$(cat "$slurm_dir"/run/*.pid 2>/dev/null)
  t=$(now)
  scripts/slurm-local.sh stop >/dev/null
  echo "measure: stop $(secs "$t" "$(now)") s"
  quiet scripts/slurm-local.sh status; rc=$?
  check "status after stop says down (exit 3, got $rc)" test "$rc" -eq 3
  alive=""
  for p in $pids; do kill -0 "$p" 2>/dev/null && alive+="$p "; done
  check "no daemon left running after stop${alive:+ (alive: $alive)}" test -z "$alive"
fi
finish
