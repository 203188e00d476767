#!/usr/bin/env bash
# Measures the face detector against the synthetic set's known face boxes (face_boxes.csv): hit rate (IoU >= 0.5)
# and mean IoU per shown mask state (wear / incorrect / none), and photos per second (decode + detect, all cores).
# Draws truth (green), detection (red) and the face crop (blue) on a few photos when --sheet is given.
# Usage: bench/face-detect.sh [SETDIR] [--per-kind N] [--threshold S] [--margin M] [--sheet FILE.png]
#   SETDIR: a synthetic set (default: one of N + N/10 + 10 people, N = --per-kind (200), generated once under
#   $MASKLAB_HOME or ~/.cache/masklab)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
home="${MASKLAB_HOME:-$HOME/.cache/masklab}"
per_kind=200
prev=""
for a in "$@"; do [ "$prev" = "--per-kind" ] && per_kind="$a"; prev="$a"; done
set_dir="$home/face-detect-set-$per_kind"
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then set_dir="$1"; shift; fi
dotnet build "$root/bench/FaceDetect/FaceDetect.csproj" -c Release -v q -nologo >/dev/null
exec "$root/bench/FaceDetect/bin/Release/net10.0/linux-x64/FaceDetect" "$set_dir" "$@"
