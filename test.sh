#!/usr/bin/env bash
# Runs the test suite (the README's test command).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
# The Slurm executor's tests run against a real Slurm: the one SLURM_CONF names, else the local one of
# scripts/slurm-local.sh, started here where this user may (root with apt-get: it installs Debian's packages on a
# fresh machine, about a minute once, and is left running for the next time). Where no Slurm can be had the Slurm
# tests are skipped with the reason printed, except under CI (CI=true), where they must run and so fail instead.
# MASKLAB_NO_SLURM=1 skips them outright.
if [[ -z ${SLURM_CONF:-} && ${MASKLAB_NO_SLURM:-} != 1 ]]; then
  reason=
  if scripts/slurm-local.sh status >/dev/null 2>&1; then
    eval "$(scripts/slurm-local.sh env)"
  elif [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "test.sh: starting a local Slurm for the Slurm executor's tests (scripts/slurm-local.sh; installs Debian's packages once)" >&2
    if out=$(scripts/slurm-local.sh start 2>&1); then
      echo "test.sh: $(tail -n 1 <<<"$out") (left running; scripts/slurm-local.sh stop ends it)" >&2
      eval "$(scripts/slurm-local.sh env)"
    else
      reason="a local Slurm would not start: $(tail -n 1 <<<"$out")"
    fi
  else
    reason="no Slurm is running and this user cannot install one (sudo scripts/slurm-local.sh start does)"
  fi
  if [[ -n $reason ]]; then
    if [[ ${CI:-} == true ]]; then
      echo "test.sh: $reason; under CI the Slurm tests run regardless, so they will fail" >&2
    else
      echo "test.sh: skipping the Slurm executor's tests: $reason" >&2
      export MASKLAB_NO_SLURM=1
    fi
  fi
fi
# The dashboard's browser tests (DashboardBrowserTests) drive Debian's headless Chromium: installed here where this
# user may (root with apt-get: Debian's chromium and chromium-driver, about a minute once). Where it cannot be had
# they are skipped with the reason printed, except under CI (CI=true), where they must run and so fail instead.
# MASKLAB_NO_BROWSER=1 skips them outright.
if [[ ${MASKLAB_NO_BROWSER:-} != 1 ]] && ! command -v chromium >/dev/null; then
  reason="no chromium, and this user cannot install it (sudo apt-get install chromium chromium-driver does)"
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "test.sh: installing Debian's chromium for the dashboard's browser tests (once)" >&2
    if ! out=$( (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) 2>&1); then
      reason="chromium would not install: $(tail -n 1 <<<"$out")"
    fi
  fi
  if ! command -v chromium >/dev/null; then
    if [[ ${CI:-} == true ]]; then
      echo "test.sh: $reason; under CI the browser tests run regardless, so they will fail" >&2
    else
      echo "test.sh: skipping the dashboard's browser tests: $reason" >&2
      export MASKLAB_NO_BROWSER=1
    fi
  fi
fi
dotnet test tests/MaskLab.Tests/MaskLab.Tests.csproj -c Release --logger "console;verbosity=normal" "$@"
