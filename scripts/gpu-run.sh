#!/usr/bin/env bash
# Runs the GPU kit (scripts/gpu-kit.sh) on a CUDA machine that has PyTorch but no .NET and no network, and writes
# every log and figure into one folder:
#
#   bash scripts/gpu-run.sh [OUTDIR]        OUTDIR defaults to $OUT, else ./gpu-out
#
#   KIT=FILE      the kit (default .gpu-kit/kit.tar.xz beside this script's repository, else ./kit.tar.xz)
#   PYTHON=EXE    the Python whose PyTorch supplies libtorch (default python3)
#
# Steps, each bounded by a timeout and recorded in OUTDIR/summary.txt whatever its outcome:
#   1. facts: nvidia-smi, PyTorch's version and CUDA, the kit's commit
#   2. masklab device --device cuda: loads the PyTorch libtorch in-process through MASKLAB_LIBTORCH; if that fails,
#      once more with only LD_LIBRARY_PATH set before start (the recipe that worked on an H200), which the later
#      steps then use
#   3. the CUDA test category (MaskLab.Tests --trait Category=Cuda)
#   4. MaskLab against PyTorch eager on the card (bench/vs-pytorch-gpu.sh) and the competition-scale job
#      (bench/gpu-main-job.sh), chosen with STEPS_TO_RUN
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$(mkdir -p "${1:-${OUT:-$PWD/gpu-out}}" && cd "${1:-${OUT:-$PWD/gpu-out}}" && pwd)"
kit="${KIT:-}"
[ -z "$kit" ] && for k in "$here/../.gpu-kit/kit.tar.xz" "$PWD/.gpu-kit/kit.tar.xz" "$PWD/kit.tar.xz"; do [ -f "$k" ] && { kit="$k"; break; }; done
python="${PYTHON:-python3}"
exec > >(tee -a "$out/gpu-run.log") 2>&1
summary="$out/summary.txt"
: > "$summary"
note() { echo "$*" | tee -a "$summary"; }

# One step: NAME TIMEOUT_S COMMAND...; its output goes to OUTDIR/NAME.txt, its exit code and seconds to the summary.
step() {
  local name="$1" limit="$2"; shift 2
  local start=$SECONDS rc
  echo "== $name: $*"
  timeout --kill-after=10 "$limit" "$@" > "$out/$name.txt" 2>&1
  rc=$?
  tail -n 5 "$out/$name.txt"
  note "$name: exit $rc, $((SECONDS - start)) s$([ "$rc" = 124 ] && echo " (timed out after $limit s)")"
  return $rc
}

[ -n "$kit" ] && [ -f "$kit" ] || { note "no kit: build it with scripts/gpu-kit.sh, or set KIT"; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tar -C "$work" -xJf "$kit" || { note "the kit does not unpack: $kit"; exit 2; }
cli="$work/masklab/MaskLab.Cli"
tests="$work/masklab/MaskLab.Tests"
note "kit: $kit ($(cat "$work/masklab/COMMIT" 2>/dev/null | tr '\n' ' '))"

torchlib="$("$python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))' 2>/dev/null)"
[ -n "$torchlib" ] && [ -f "$torchlib/libtorch_cuda.so" ] || { note "no CUDA PyTorch for $python (torch/lib: '${torchlib}')"; exit 2; }
export MASKLAB_LIBTORCH="$torchlib" DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 MASKLAB_HOME="$work/home"
note "libtorch: $torchlib"

# 1. Facts about the machine.
nvidia-smi > "$out/nvidia-smi.txt" 2>&1
"$python" - > "$out/pytorch.txt" 2>&1 <<'PY'
import torch
print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())
print("device", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none")
PY
note "$(head -n 2 "$out/pytorch.txt" | tr '\n' ';')"

# 2. Does MaskLab run on this libtorch?
if step device 180 "$cli" device --device cuda --json; then
  note "loading: in-process (MASKLAB_LIBTORCH)"
else
  # Without MASKLAB_LIBTORCH, MaskLab leaves a libtorch on LD_LIBRARY_PATH to the system's loader.
  unset MASKLAB_LIBTORCH
  export LD_LIBRARY_PATH="$torchlib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  if step device-ld-library-path 180 "$cli" device --device cuda --json; then
    note "loading: in-process loading FAILED, LD_LIBRARY_PATH works and is used from here on"
  else
    note "loading: MaskLab cannot run on this libtorch; stopping"
    exit 1
  fi
fi

# 3. The CUDA tests (a test class with [Trait("Category", "Cuda")] and [CudaFact] tests).
step cuda-tests 300 "$tests" --trait Category=Cuda
note "$(grep -E '^[0-9]+ passed' "$out/cuda-tests.txt" | tail -n 1)"

# 4. The benchmarks, chosen with STEPS_TO_RUN (default "vs-pytorch main-job"; one call of 10 minutes may not hold
#    both on a slow start: run them in two calls, STEPS_TO_RUN=main-job then STEPS_TO_RUN=vs-pytorch).
export PYTHON="$python"
for what in ${STEPS_TO_RUN:-vs-pytorch main-job}; do
  case "$what" in
    # MaskLab against PyTorch eager on this card, interleaved configuration by configuration.
    vs-pytorch) step vs-pytorch-gpu "${BENCH_TIMEOUT:-480}" bash "$work/masklab/bench/vs-pytorch-gpu.sh" "$cli" "$out" ;;
    # The competition-scale job: synth at full size, 10 epochs of resnet18 at 224, the GPU's busy fraction.
    main-job) step main-job "${JOB_TIMEOUT:-400}" bash "$work/masklab/bench/gpu-main-job.sh" "$cli" "$out" ;;
    *) note "unknown step '$what' in STEPS_TO_RUN" ;;
  esac
done

note "done: $out"
