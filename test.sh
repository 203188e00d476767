#!/usr/bin/env bash
# Runs the test suite (the README's test command).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
dotnet test tests/MaskLab.Tests/MaskLab.Tests.csproj -c Release --logger "console;verbosity=normal" "$@"
