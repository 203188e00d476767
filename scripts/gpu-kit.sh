#!/usr/bin/env bash
# Packs the GPU kit: a self-contained MaskLab (CLI and test runner) for linux-x64 without any libtorch, to be run on a
# CUDA machine that has no .NET but has PyTorch (scripts/gpu-run.sh unpacks and runs it there).
#
#   scripts/gpu-kit.sh            build .gpu-kit/kit.tar.xz (fails if it is 60 MB or more)
#   scripts/gpu-kit.sh --check    also unpack it into a temporary folder and run its CPU checks on NuGet's CPU
#                                 libtorch through MASKLAB_LIBTORCH: the path a CUDA libtorch takes, end to end
#
# The build runs on a copy of the tracked and untracked-but-not-ignored files, so that its restore (without the
# libtorch-cpu package: -p:MaskLabLibTorch=none) and its outputs never mix with the working tree's.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/.gpu-kit"
limit_mb=60
check=0
for a in "$@"; do
  case "$a" in
    --check) check=1 ;;
    *) echo "usage: scripts/gpu-kit.sh [--check]" >&2; exit 2 ;;
  esac
done
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

src="$out/src"
stage="$out/stage"
rm -rf "$src" "$stage"
mkdir -p "$src" "$stage/masklab"
(cd "$root" && git ls-files -z -co --exclude-standard | grep -zv '^\.gpu-kit/' | xargs -0 cp --parents -t "$src")

publish() {
  # UseAppHost: the test project gets an executable too (test projects default to none).
  dotnet publish "$src/$1" -c Release -r linux-x64 --self-contained true -p:MaskLabLibTorch=none -p:UseAppHost=true \
    -p:DebugType=none -p:GenerateDocumentationFile=false -p:SatelliteResourceLanguages=en \
    -o "$stage/masklab" -nologo -v q
}
echo "gpu-kit: publishing the CLI and the tests (self-contained linux-x64, no libtorch)..." >&2
publish src/MaskLab.Cli/MaskLab.Cli.csproj
publish tests/MaskLab.Tests/MaskLab.Tests.csproj

kit="$stage/masklab"
if ls "$kit" | grep -q -E '^libtorch|^libc10'; then echo "gpu-kit: a libtorch slipped into the kit" >&2; exit 1; fi
# What the kit does not need, to stay well under the limit: the crash-dump and debugger helpers, debug symbols, API
# docs, the test SDK's code-coverage collector and its instrumentation engines for other platforms, translated
# messages, and the ImageNet weights of resnet18_mlnet (64 MB that xz cannot shrink; GPU benchmarks train from
# random weights, and that model reports the missing file in one line).
rm -rf "$kit/createdump" "$kit"/*.pdb "$kit"/*.xml "$kit"/libmscordaccore.so "$kit"/libmscordbi.so \
  "$kit/CodeCoverage" "$kit"/{x86,x64,arm64,alpine,ubuntu,macos} "$kit/pretrained" \
  "$kit"/{cs,de,es,fr,it,ja,ko,pl,pt-BR,ru,tr,zh-Hans,zh-Hant}
cp "$root/scripts/gpu-run.sh" "$kit/"
mkdir -p "$kit/bench" && cp "$root/bench/gpu_reference.py" "$root/bench/vs_pytorch_gpu.py" "$root/bench/vs-pytorch-gpu.sh" "$root/bench/gpu-main-job.sh" "$kit/bench/"
git -C "$root" rev-parse HEAD > "$kit/COMMIT" 2>/dev/null || true
if [ -n "$(git -C "$root" status --porcelain 2>/dev/null)" ]; then echo "dirty" >> "$kit/COMMIT"; fi

echo "gpu-kit: packing..." >&2
tar -C "$stage" -cJf "$out/kit.tar.xz.tmp" masklab
mv "$out/kit.tar.xz.tmp" "$out/kit.tar.xz"
bytes=$(stat -c %s "$out/kit.tar.xz")
mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
echo "gpu-kit: $out/kit.tar.xz, $mb MiB ($(du -sh "$kit" | cut -f1) unpacked)"
if [ "$bytes" -ge $((limit_mb * 1048576)) ]; then echo "gpu-kit: the kit is $mb MiB, over the $limit_mb MiB limit" >&2; exit 1; fi
rm -rf "$src"

[ "$check" = 1 ] || exit 0

# The check: the unpacked kit on NuGet's CPU libtorch, loaded from outside the kit as a CUDA one would be.
nuget="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
cpu_lib="$nuget/libtorch-cpu-linux-x64/2.10.0/runtimes/linux-x64/native"
[ -f "$cpu_lib/libtorch_cpu.so" ] || { echo "gpu-kit: no CPU libtorch at $cpu_lib to check with (restore the project once)" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
tar -C "$tmp" -xJf "$out/kit.tar.xz"
export MASKLAB_HOME="$tmp/home" DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
cli="$tmp/masklab/MaskLab.Cli"
fail=0
step() { echo "== $*" >&2; }

step "without a libtorch: one line, exit 2"
set +e; msg=$(env -u MASKLAB_LIBTORCH PATH=/nonexistent "$cli" device 2>&1); rc=$?; set -e
echo "$msg"
[ "$rc" = 2 ] && [ "$(printf '%s\n' "$msg" | wc -l)" = 1 ] || { echo "gpu-kit: expected one line and exit 2, got exit $rc" >&2; fail=1; }

export MASKLAB_LIBTORCH="$cpu_lib"
step "device on MASKLAB_LIBTORCH=$cpu_lib"
"$cli" device --json | tee "$tmp/device.txt"
grep -q "\"libtorch_cpu_loaded\":\"$cpu_lib/libtorch_cpu.so\"" "$tmp/device.txt" || { echo "gpu-kit: libtorch_cpu.so was not loaded from MASKLAB_LIBTORCH" >&2; fail=1; }
step "cuda on a CPU libtorch: one line, exit 2"
set +e; "$cli" device --device cuda; rc=$?; set -e
[ "$rc" = 2 ] || { echo "gpu-kit: expected exit 2, got $rc" >&2; fail=1; }

step "the same libtorch through LD_LIBRARY_PATH alone, left to the system loader"
env -u MASKLAB_LIBTORCH LD_LIBRARY_PATH="$cpu_lib" "$cli" device --json | tail -n 1 > "$tmp/device-ld.txt"
cat "$tmp/device-ld.txt"
grep -q '"libtorch_source":"LD_LIBRARY_PATH"' "$tmp/device-ld.txt" && grep -q "\"libtorch_cpu_loaded\":\"$cpu_lib/libtorch_cpu.so\"" "$tmp/device-ld.txt" \
  || { echo "gpu-kit: LD_LIBRARY_PATH was not used" >&2; fail=1; }

# Debian's python3-torch (PyTorch 1.13) is a libtorch TorchSharp 0.107 cannot use: found through python3, refused in one line.
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  step "python3's PyTorch found on its own; Debian's 1.13 refused in one line naming both versions"
  set +e; msg=$(env -u MASKLAB_LIBTORCH -u LD_LIBRARY_PATH PATH="/usr/bin:$PATH" "$cli" device 2>&1); rc=$?; set -e
  echo "$msg"
  [ "$rc" = 2 ] && printf '%s' "$msg" | grep -q "libtorch 1.13.*cannot run TorchSharp 0.107.0 (built for libtorch 2.10.0)" \
    || { echo "gpu-kit: expected the one-line refusal and exit 2, got exit $rc" >&2; fail=1; }
fi

step "a tiny training run end to end (synth, train, predict, score)"
"$cli" synth --out "$tmp/data" --people 12 --eval-people 4 --size 48x64 --seed 1 > /dev/null
"$cli" train --data "$tmp/data" --out "$tmp/run" --set model=baseline --set epochs=1 --set batch_size=16 --set image_size=48x64 > "$tmp/train.log" 2>&1 \
  || { cat "$tmp/train.log"; echo "gpu-kit: training failed" >&2; fail=1; }
tail -n 3 "$tmp/train.log"
[ -f "$tmp/run/summary.json" ] || { echo "gpu-kit: no summary.json" >&2; fail=1; }

step "tests: the CUDA category (skipped here, with the reason) and the CPU tests of the GPU pieces"
"$tmp/masklab/MaskLab.Tests" --trait Category=Cuda > "$tmp/cuda-tests.txt" || fail=1
tail -n 3 "$tmp/cuda-tests.txt"
grep -q "^SKIP .*needs a GPU: no CUDA libtorch loaded" "$tmp/cuda-tests.txt" || { echo "gpu-kit: the CUDA tests were not skipped with their reason" >&2; fail=1; }
"$tmp/masklab/MaskLab.Tests" --filter LossScalerTests --filter Fp16TrainStepTests --filter DevicePrefetcherTests --filter DeviceResolutionTests | tail -n 3 || fail=1

[ "$fail" = 0 ] && echo "gpu-kit: check passed" || { echo "gpu-kit: check FAILED" >&2; exit 1; }
