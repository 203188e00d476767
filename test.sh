#!/usr/bin/env bash
# Runs the test suite (the README's test command).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
# The Slurm executor's tests run against a real Slurm: the one SLURM_CONF names, else the local one of
# scripts/slurm-local.sh (started here where this user may start it and its packages are installed; it is left
# running for the next time). MASKLAB_NO_SLURM=1 skips those tests instead.
if [[ -z ${SLURM_CONF:-} && ${MASKLAB_NO_SLURM:-} != 1 ]]; then
  installed=1
  for c in munged slurmctld slurmd sbatch; do command -v "$c" >/dev/null || installed=0; done
  if [[ ${SLURM_LOCAL_ACCOUNTING:-slurmdbd} == slurmdbd ]]; then
    for c in slurmdbd mariadbd; do command -v "$c" >/dev/null || installed=0; done
  fi
  if scripts/slurm-local.sh status >/dev/null 2>&1; then
    eval "$(scripts/slurm-local.sh env)"
  elif [[ $(id -u) -eq 0 && $installed -eq 1 ]]; then
    if out=$(scripts/slurm-local.sh start 2>&1); then
      echo "test.sh: $(tail -n 1 <<<"$out") (left running; scripts/slurm-local.sh stop ends it)"
      eval "$(scripts/slurm-local.sh env)"
    else
      echo "test.sh: the Slurm tests will fail: $out" >&2
    fi
  else
    echo "test.sh: no Slurm here, so the Slurm executor's tests will fail: start one with sudo scripts/slurm-local.sh start" \
      "(it installs Debian's packages), or set MASKLAB_NO_SLURM=1 to skip them" >&2
  fi
fi
dotnet test tests/MaskLab.Tests/MaskLab.Tests.csproj -c Release --logger "console;verbosity=normal" "$@"
