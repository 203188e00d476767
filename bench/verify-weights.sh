#!/usr/bin/env bash
# Proves that Pretrained.Load maps torchvision's weights: Debian's PyTorch writes resnet18 / vgg11 / googlenet /
# efficientnet_b0 state_dicts (random, seeded), an input and its output; MaskLab loads each (.pth and
# .safetensors) and must reproduce the output within a relative L2 error of 1e-4.
# Installs python3-torch and python3-torchvision with apt when they are missing (needs root). Not part of CI.
# Usage: bench/verify-weights.sh [WORKDIR]   (default: a temporary folder, removed afterwards)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# Debian's packages live in Debian's interpreter, which a python3 earlier on PATH (pyenv, venv) does not see.
py=/usr/bin/python3
[ -x "$py" ] || py=python3

if ! "$py" -c 'import torch, torchvision' 2>/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "verify-weights: python3-torch and python3-torchvision are missing; install them (apt) or run as root" >&2
    exit 1
  fi
  echo "verify-weights: installing python3-torch python3-torchvision (apt)..." >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch python3-torchvision >/dev/null
fi

if [ $# -ge 1 ]; then work="$1"; mkdir -p "$work"; else work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT; fi

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(. /etc/os-release && echo "$PRETTY_NAME")"
echo "== reference: $("$py" -c 'import torch, torchvision; print(f"torch {torch.__version__}, torchvision {torchvision.__version__}")' 2>/dev/null)"
echo "== writing torchvision weights and outputs to $work"
"$py" -W ignore "$root/bench/verify_weights.py" --out "$work"
echo "== building bench/VerifyWeights"
dotnet build "$root/bench/VerifyWeights/VerifyWeights.csproj" -c Release -nologo -v q >/dev/null
echo "== loading them in MaskLab"
dotnet "$root/bench/VerifyWeights/bin/Release/net10.0/linux-x64/VerifyWeights.dll" "$work" 2> >(grep -v NNPACK >&2)
