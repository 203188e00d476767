#!/usr/bin/env bash
# A real one-node Slurm on this machine, for the sweep / k-fold job-array executor's tests and for trying
# `sbatch` without a cluster: munged, (MariaDB and slurmdbd,) slurmctld and slurmd as plain daemons, started
# without systemd and without cgroups.
#
#   scripts/slurm-local.sh start     install Debian's packages if missing, write the configs, start the daemons,
#                                    wait until the node is idle and a probe job has run; twice is fine
#   scripts/slurm-local.sh stop      cancel every job, stop the daemons; nothing of it stays running
#   scripts/slurm-local.sh status    the daemons and the node; exit 0 when all is up, 3 when all is down
#   scripts/slurm-local.sh env       prints `export SLURM_CONF=...`: eval it before sbatch, squeue, sacct, ...
#   scripts/slurm-local.sh purge     stop, then delete the folder below (queue, accounting database, logs)
#
# Everything (configs, munge key and socket, state, spool, database, logs) lives under $SLURM_LOCAL_DIR
# (default /var/tmp/masklab-slurm), never in the repository, and nothing is written to /etc: the client
# commands find this Slurm through SLURM_CONF. The daemons listen on 127.0.0.1, ports $SLURM_LOCAL_PORT
# (slurmctld, default 16817) to +3 (slurmd, MariaDB, slurmdbd), so a real Slurm on 6817/6818 is left alone.
# Needs root: slurmd starts jobs as their user, and apt installs the packages.
#
# Accounting, $SLURM_LOCAL_ACCOUNTING:
#   slurmdbd (default)  slurmdbd on a private MariaDB: `sacct` answers as on a cluster (array tasks as 12_3,
#                       states, exit codes). Costs about 30 s of apt once and 2 s a start.
#   none                no database: plain `sacct` says accounting is disabled; `sacct -c` reads the job
#                       completion file, but knows no array task ids.
# Either way finished jobs are appended to $SLURM_LOCAL_DIR/log/jobcomp.txt, and `squeue -t all` shows them
# for MinJobAge (300) seconds.
set -euo pipefail

dir=${SLURM_LOCAL_DIR:-/var/tmp/masklab-slurm}
port=${SLURM_LOCAL_PORT:-16817}
accounting=${SLURM_LOCAL_ACCOUNTING:-slurmdbd}
start_timeout=${SLURM_LOCAL_START_TIMEOUT:-60}
conf="$dir/etc/slurm.conf"
sock="$dir/run/munged.sock"  # in run/, which every user may enter: sbatch needs it
dbsock="$dir/mysql.sock"
node=$(hostname -s)

say() { echo "slurm-local: $*"; }
die() { echo "slurm-local: $*" >&2; exit 1; }

case $accounting in slurmdbd|none) ;; *) die "SLURM_LOCAL_ACCOUNTING must be slurmdbd or none, not '$accounting'" ;; esac
[[ $port =~ ^[0-9]+$ ]] || die "SLURM_LOCAL_PORT must be a port number, not '$port'"

pid_of() {  # pid_of NAME: the pid in run/NAME.pid, if that process still runs and is that daemon
  local name=$1 file="$dir/run/$1.pid" pid comm
  [[ -s $file && -r $file ]] || return 1
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  # /proc rather than kill -0, so `status` also answers for a user who may not signal root's daemons; the
  # name check keeps a stale pid file (after a reboot) from naming someone else's process.
  read -r comm <"/proc/$pid/comm" 2>/dev/null || return 1
  [[ $comm == "$name" || ($name == mariadb && $comm == mariadbd) ]] || return 1
  echo "$pid"
}

last_error() {  # the last error-looking lines of a log, for the one-line failure message
  local log=$1 lines
  [[ -f $log ]] || { echo "(no log at $log)"; return; }
  # Slurm 22.05's daemons load every MPI plugin and complain that Debian ships no PMIx: noise, not the cause.
  lines=$(grep -E -i 'error|fatal|fail' "$log" | grep -v -E 'pmix|MPI: Cannot create context' | tail -n 3 \
    | tr '\n' ' ' || true)
  [[ -n $lines ]] || lines=$(tail -n 3 "$log" | tr '\n' ' ')
  echo "$lines(log: $log)"
}

fresh_log() {  # keep the previous run's log as .1, so a failure message quotes this start only
  local f
  for f in "$@"; do if [[ -f $f ]]; then mv -f "$f" "$f.1"; fi; done
}

install_packages() {
  local missing=()
  command -v munged >/dev/null || missing+=(munge)
  command -v slurmctld >/dev/null || missing+=(slurmctld)
  command -v slurmd >/dev/null || missing+=(slurmd)
  command -v sbatch >/dev/null || missing+=(slurm-client)
  if [[ $accounting == slurmdbd ]]; then
    command -v slurmdbd >/dev/null || missing+=(slurmdbd)
    command -v mariadbd >/dev/null || missing+=(mariadb-server)
  fi
  [[ ${#missing[@]} -eq 0 ]] && return 0
  say "installing Debian's ${missing[*]} with apt"
  export DEBIAN_FRONTEND=noninteractive
  # The packages would start their system services (munge, mariadb, slurmd, slurmctld with /etc configs).
  # This script runs its own daemons on its own sockets and ports, so keep those from starting.
  local policy=/usr/sbin/policy-rc.d own_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 0755 "$policy" && own_policy=1
  fi
  local log="$dir/log/apt.log" rc=0
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1 || {
    apt-get update -qq >>"$log" 2>&1 || true
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1 || rc=$?
  }
  (( own_policy )) && rm -f "$policy"
  (( rc == 0 )) || die "apt-get install ${missing[*]} failed: $(tail -n 2 "$log" | tr '\n' ' ')(log: $log)"
}

write_conf() {  # slurm.conf (and slurmdbd.conf) for this machine's cores and memory, into $1
  local out=$1 hw cpus sockets cores threads mem_mb per_cpu
  # slurmd's own view of the hardware, so the node's line matches what slurmd registers with.
  hw=$(slurmd -C 2>/dev/null | head -n 1)
  cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$hw")
  sockets=$(sed -n 's/.* SocketsPerBoard=\([0-9]*\).*/\1/p' <<<"$hw")
  cores=$(sed -n 's/.* CoresPerSocket=\([0-9]*\).*/\1/p' <<<"$hw")
  threads=$(sed -n 's/.* ThreadsPerCore=\([0-9]*\).*/\1/p' <<<"$hw")
  if [[ -z $cpus || -z $sockets || -z $cores || -z $threads ]]; then
    cpus=$(nproc); sockets=1; cores=$cpus; threads=1
  fi
  # Leave the system 5 % of /proc/meminfo's total (at least 512 MB), so a job that asks for all of it fits.
  mem_mb=$(awk '/^MemTotal:/ { m = int($2 / 1024); r = int(m / 20); if (r < 512) r = 512; print m - r }' /proc/meminfo)
  per_cpu=$(( mem_mb / cpus ))

  local storage gather
  if [[ $accounting == slurmdbd ]]; then
    storage="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$(( port + 3 ))
# Commands and slurmctld reach slurmdbd with a munge credential from this socket, not AuthInfo's.
AccountingStoragePass=${sock}"
    gather="JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30"
  else
    storage="AccountingStorageType=accounting_storage/none"
    gather="JobAcctGatherType=jobacct_gather/none"
  fi

  cat >"$out" <<EOF
# Written by scripts/slurm-local.sh for ${node}: ${cpus} CPUs, ${mem_mb} MB. Rewritten on every start.
ClusterName=masklab
SlurmctldHost=${node}(127.0.0.1)
SlurmctldPort=${port}
SlurmdPort=$(( port + 1 ))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=${sock}
StateSaveLocation=${dir}/state
SlurmdSpoolDir=${dir}/spool
SlurmctldPidFile=${dir}/run/slurmctld.pid
SlurmdPidFile=${dir}/run/slurmd.pid
SlurmctldLogFile=${dir}/log/slurmctld.log
SlurmdLogFile=${dir}/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info

# No cgroups (a container may have none, or a read-only hierarchy): job processes are tracked through /proc and
# --mem is the scheduler's bookkeeping, not a limit. task/affinity pins each job to the CPUs it was given
# (sched_setaffinity), so a 1-CPU task sees nproc 1, as under a cluster's cgroups.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
MpiDefault=none
SwitchType=switch/none
MailProg=/bin/true

${storage}
${gather}
JobCompType=jobcomp/filetxt
JobCompLoc=${dir}/log/jobcomp.txt

# Fast turnaround on one node. slurmctld's main scheduler runs from a loop that wakes once a second; with
# batch_sched_delay=0 it starts a submitted job, the next task of an array or a job whose dependency has
# ended on the next wake-up instead of 3 s later. Finished jobs stay in squeue (-t all) for MinJobAge
# seconds; scancel escalates from SIGTERM to SIGKILL after KillWait seconds.
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0,sched_interval=5,bf_interval=5
MinJobAge=300
KillWait=5
CompleteWait=0
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=60
InactiveLimit=0
Waittime=0
MessageTimeout=10
MaxArraySize=10001
MaxJobCount=100000

# Cores and memory are consumable, so the node runs as many 1-CPU tasks at once as it has CPUs. A job that
# does not say --mem gets DefMemPerCPU per CPU rather than the whole node.
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=${per_cpu}

NodeName=${node} NodeAddr=127.0.0.1 CPUs=${cpus} SocketsPerBoard=${sockets} CoresPerSocket=${cores} ThreadsPerCore=${threads} RealMemory=${mem_mb} State=UNKNOWN
PartitionName=local Nodes=${node} Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
}

write_dbd_conf() {
  local pass
  if [[ ! -s $dir/etc/dbpass ]]; then
    (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$dir/etc/dbpass")
  fi
  pass=$(<"$dir/etc/dbpass")
  # slurmdbd reads slurmdbd.conf from slurm.conf's folder and wants it private to SlurmUser.
  (umask 077; cat >"$dir/etc/slurmdbd.conf" <<EOF
# Written by scripts/slurm-local.sh. Rewritten on every start.
AuthType=auth/munge
AuthInfo=socket=${sock}
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$(( port + 3 ))
SlurmUser=root
PidFile=${dir}/run/slurmdbd.pid
LogFile=${dir}/log/slurmdbd.log
DebugLevel=info
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$(( port + 2 ))
StorageUser=slurm
StoragePass=${pass}
StorageLoc=slurm_acct_db
EOF
  )
}

node_state() { sinfo -h -N -o '%T' 2>/dev/null | head -n 1 || true; }

wait_pidfile() {  # a daemon that forked writes its pid file a moment later; give it 10 s
  local name=$1 log=$2 i
  for i in $(seq 1 100); do
    pid_of "$name" >/dev/null && return 0
    sleep 0.1
  done
  die "$name did not start: $(last_error "$log")"
}

start_munged() {
  if pid_of munged >/dev/null && [[ -S $sock ]]; then return 0; fi
  if [[ ! -s $dir/munge/munge.key ]]; then
    if command -v mungekey >/dev/null; then
      mungekey --create --keyfile="$dir/munge/munge.key" >/dev/null
    else
      dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
    fi
  fi
  chmod 0600 "$dir/munge/munge.key"
  rm -f "$sock" "$sock.lock"
  fresh_log "$dir/log/munged.log"
  # --force: munged distrusts a socket under the world-writable /var/tmp without it.
  munged --force --key-file="$dir/munge/munge.key" --socket="$sock" --pid-file="$dir/run/munged.pid" \
    --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed" >>"$dir/log/munged.log" 2>&1 9>&- \
    || die "munged did not start: $(last_error "$dir/log/munged.log")"
  local i
  for i in $(seq 1 50); do [[ -S $sock ]] && break; sleep 0.1; done
  munge -n -S "$sock" 2>/dev/null | unmunge -S "$sock" >/dev/null 2>&1 \
    || die "munged does not answer on $sock: $(last_error "$dir/log/munged.log")"
}

start_mariadb() {
  local log="$dir/log/mariadb.log" i
  if ! pid_of mariadb >/dev/null; then
    if [[ ! -d $dir/mysql/mysql ]]; then
      mkdir -p "$dir/mysql"
      mariadb-install-db --no-defaults --user=root --datadir="$dir/mysql" --auth-root-authentication-method=socket \
        --skip-test-db >"$dir/log/mariadb-install.log" 2>&1 \
        || die "mariadb-install-db failed: $(last_error "$dir/log/mariadb-install.log")"
    fi
    fresh_log "$log"
    # --no-defaults: a private server, blind to /etc/mysql. It does not fork, so it is detached here.
    setsid mariadbd --no-defaults --user=root --datadir="$dir/mysql" --socket="$dbsock" \
      --port=$(( port + 2 )) --bind-address=127.0.0.1 --pid-file="$dir/run/mariadb.pid" --log-error="$log" \
      --skip-log-bin --innodb-buffer-pool-size=64M </dev/null >/dev/null 2>&1 9>&- &
  fi
  for i in $(seq 1 300); do
    mariadb-admin --no-defaults --socket="$dbsock" -u root ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  mariadb-admin --no-defaults --socket="$dbsock" -u root ping >/dev/null 2>&1 \
    || die "MariaDB did not start: $(last_error "$log")"
  chmod a+r "$dir/run/mariadb.pid"
  local pass
  pass=$(<"$dir/etc/dbpass")
  mariadb --no-defaults --socket="$dbsock" -u root >>"$dir/log/mariadb-install.log" 2>&1 <<EOF \
    || die "could not make slurmdbd's database user: $(last_error "$dir/log/mariadb-install.log")"
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '${pass}';
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '${pass}';
ALTER USER 'slurm'@'localhost' IDENTIFIED BY '${pass}';
ALTER USER 'slurm'@'127.0.0.1' IDENTIFIED BY '${pass}';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
EOF
}

start_slurmdbd() {
  local log="$dir/log/slurmdbd.log" deadline=$(( SECONDS + start_timeout ))
  if ! pid_of slurmdbd >/dev/null; then
    fresh_log "$log" "$dir/log/slurmdbd.out"
    slurmdbd >>"$dir/log/slurmdbd.out" 2>&1 9>&- \
      || die "slurmdbd did not start: $(last_error "$log") $(tail -n 2 "$dir/log/slurmdbd.out" | tr '\n' ' ')"
    wait_pidfile slurmdbd "$log"
  fi
  # slurmctld needs its cluster in the database; the first start creates the tables, which takes a moment.
  while (( SECONDS < deadline )); do
    sacctmgr -n -P list cluster format=cluster 2>/dev/null | grep -qx masklab && return 0
    sacctmgr -i add cluster masklab >/dev/null 2>&1 || true
    pid_of slurmdbd >/dev/null || die "slurmdbd exited: $(last_error "$log")"
    sleep 0.1
  done
  die "slurmdbd does not answer after ${start_timeout} s: $(last_error "$log")"
}

start_slurmctld() {
  pid_of slurmctld >/dev/null && return 0
  fresh_log "$dir/log/slurmctld.log" "$dir/log/slurmctld.out"
  # -c: start with an empty queue; jobs of an earlier session would point at folders that may be gone.
  slurmctld -c -f "$conf" >>"$dir/log/slurmctld.out" 2>&1 9>&- \
    || die "slurmctld did not start: $(last_error "$dir/log/slurmctld.log") $(tail -n 2 "$dir/log/slurmctld.out" | tr '\n' ' ')"
  wait_pidfile slurmctld "$dir/log/slurmctld.log"
}

start_slurmd() {
  pid_of slurmd >/dev/null && return 0
  fresh_log "$dir/log/slurmd.log" "$dir/log/slurmd.out"
  slurmd -f "$conf" -N "$node" >>"$dir/log/slurmd.out" 2>&1 9>&- \
    || die "slurmd did not start: $(last_error "$dir/log/slurmd.log") $(tail -n 2 "$dir/log/slurmd.out" | tr '\n' ' ')"
  wait_pidfile slurmd "$dir/log/slurmd.log"
}

daemons() {
  if [[ $accounting == slurmdbd ]]; then echo munged mariadb slurmdbd slurmctld slurmd; else echo munged slurmctld slurmd; fi
}

all_running() {
  local name
  for name in $(daemons); do pid_of "$name" >/dev/null || return 1; done
}

wait_node_idle() {
  local state="" deadline=$(( SECONDS + start_timeout ))
  while (( SECONDS < deadline )); do
    pid_of slurmctld >/dev/null || die "slurmctld exited: $(last_error "$dir/log/slurmctld.log")"
    pid_of slurmd >/dev/null || die "slurmd exited: $(last_error "$dir/log/slurmd.log")"
    state=$(node_state)
    case $state in
      idle|mixed|allocated|completing) return 0 ;;
      down*|drain*)  # e.g. left down by an earlier unclean stop
        scontrol update nodename="$node" state=resume >/dev/null 2>&1 || true ;;
    esac
    sleep 0.2
  done
  die "node $node not idle after ${start_timeout} s (state '${state:-no answer}'):" \
    "$(last_error "$dir/log/slurmd.log") $(last_error "$dir/log/slurmctld.log")"
}

probe_job() {
  # One real job end to end (munge credential, slurmstepd, the job's environment). It also waits out
  # slurmctld's first scheduling pass, about 3 s after it starts, so the caller's first job starts at once.
  local id state="" deadline=$(( SECONDS + start_timeout ))
  # shellcheck disable=SC2016
  id=$(sbatch --parsable --job-name=slurm-local-probe --output=/dev/null --chdir=/ \
    --wrap 'test -n "$SLURM_JOB_ID"' 2>&1) || die "sbatch refused the probe job: $id"
  while (( SECONDS < deadline )); do
    state=$(squeue -h -t all -j "$id" -o '%T' 2>/dev/null || true)
    case $state in
      COMPLETED) return 0 ;;
      FAILED|CANCELLED|TIMEOUT|NODE_FAIL|BOOT_FAIL|OUT_OF_MEMORY)
        die "probe job $id ended $state: $(last_error "$dir/log/slurmd.log")" ;;
    esac
    sleep 0.1
  done
  die "probe job $id not done after ${start_timeout} s (state '${state:-unknown}', reason" \
    "$(squeue -h -j "$id" -o '%r' 2>/dev/null)): $(last_error "$dir/log/slurmctld.log")"
}

cmd_start() {
  local t0 fresh
  t0=$(date +%s.%N)
  mkdir -p "$dir"/{etc,munge,state,spool,run,log}
  # slurm.conf is for every user's sbatch; the munge key and the database password are root's alone.
  chmod 0755 "$dir" "$dir/etc" "$dir/run" && chmod 0700 "$dir/munge"
  install_packages
  export SLURM_CONF=$conf

  fresh="$dir/etc/slurm.conf.new"
  write_conf "$fresh"
  if all_running && cmp -s "$fresh" "$conf"; then
    rm -f "$fresh"
    wait_node_idle
    say "already up: node $node $(node_state); SLURM_CONF=$conf"
    return 0
  fi
  if pid_of slurmctld >/dev/null || pid_of slurmd >/dev/null \
     || pid_of slurmdbd >/dev/null; then
    # Half up, or up with another slurm.conf (new memory size, ports, accounting): start over.
    cmd_stop >/dev/null
  fi
  mv "$fresh" "$conf"

  start_munged
  if [[ $accounting == slurmdbd ]]; then
    write_dbd_conf
    start_mariadb
    start_slurmdbd
  fi
  start_slurmctld
  start_slurmd
  wait_node_idle
  probe_job
  local secs
  secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  say "up in ${secs} s: node $node $(node_state), $(sinfo -h -N -o '%c') CPUs, $(sinfo -h -N -o '%m') MB," \
    "partition $(sinfo -h -o '%P' | head -n 1), accounting $accounting; SLURM_CONF=$conf"
}

stop_daemons() {  # SIGTERM to each named daemon at once (each takes about 2 s to exit), SIGKILL after 15 s
  local name pid i alive pids=() names=()
  for name in "$@"; do
    if pid=$(pid_of "$name"); then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid"); names+=("$name")
    fi
  done
  for i in $(seq 1 150); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    (( alive )) || break
    sleep 0.1
  done
  for i in "${!pids[@]}"; do
    if kill -0 "${pids[$i]}" 2>/dev/null; then
      say "${names[$i]} (${pids[$i]}) ignored SIGTERM for 15 s: SIGKILL"
      kill -KILL "${pids[$i]}" 2>/dev/null || true
    fi
  done
  for name in "$@"; do rm -f "$dir/run/$name.pid"; done
}

stepd_pids() {  # slurmstepd processes of this Slurm: they hold our slurmd's log open
  local p comm
  for p in /proc/[0-9]*; do
    read -r comm <"$p/comm" 2>/dev/null || continue
    [[ $comm == slurmstepd ]] || continue
    if find "$p/fd" -maxdepth 1 -lname "$dir/log/*" 2>/dev/null | grep -q .; then echo "${p#/proc/}"; fi
  done
}

kill_tree() {  # SIGKILL a process and everything below it, children first
  local pid=$1 child
  for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do kill_tree "$child"; done
  kill -KILL "$pid" 2>/dev/null || true
}

cmd_stop() {
  export SLURM_CONF=$conf
  local i p
  if pid_of slurmctld >/dev/null && pid_of slurmd >/dev/null; then
    # Cancel every job first (there is one partition) so no job outlives the daemons.
    if [[ -n $(squeue -h -o '%i' 2>/dev/null) ]]; then
      scancel --partition=local 2>/dev/null || true
      for i in $(seq 1 150); do
        [[ -z $(squeue -h -o '%i' 2>/dev/null) ]] && break
        sleep 0.1
      done
    fi
  fi
  stop_daemons slurmd slurmctld
  # A job step still alive here (a job that ignored the cancel, or daemons that were already gone) would go on
  # without a slurmd: end it and its processes.
  for p in $(stepd_pids); do say "ending left-over slurmstepd $p and its processes"; kill_tree "$p"; done
  # slurmdbd takes slurmctld's last records before its database and munged go.
  stop_daemons slurmdbd
  stop_daemons mariadb munged
  say "stopped"
}

cmd_status() {
  local up=0 down=0 name pid
  for name in $(daemons); do
    if pid=$(pid_of "$name"); then
      echo "$name running (pid $pid)"; up=$((up + 1))
    else
      echo "$name not running"; down=$((down + 1))
    fi
  done
  if (( down == 0 )); then
    export SLURM_CONF=$conf
    sinfo -N -o '%N %T %c %m %P' 2>&1 | sed 's/^/node: /'
    echo "SLURM_CONF=$conf"
    [[ $(node_state) =~ ^(idle|mixed|allocated|completing)$ ]] && return 0
    return 1
  fi
  (( up == 0 )) && return 3
  return 1
}

lock() {  # one start / stop at a time (two test runs may call start together)
  [[ $(id -u) -eq 0 ]] || die "needs root (slurmd runs jobs as their user); try: sudo $0 ${1:-start}"
  mkdir -p "$dir"
  # The daemons are started with fd 9 closed, or they would hold this lock for as long as they run.
  exec 9>"$dir/.lock"
  flock -w 120 9 || die "another slurm-local.sh has held $dir/.lock for 120 s"
}

case ${1:-} in
  start) lock start; cmd_start ;;
  stop) lock stop; cmd_stop ;;
  status) cmd_status ;;
  env) echo "export SLURM_CONF=$conf" ;;
  purge) lock purge; cmd_stop; rm -rf "$dir"; say "removed $dir" ;;
  *) echo "usage: $0 start|stop|status|env|purge   (see the comment at the top)" >&2; exit 2 ;;
esac
