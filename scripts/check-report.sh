#!/usr/bin/env bash
# Looks at the HTML report as a person would: trains a tiny real run (or takes RUNDIR...), renders its report in
# headless Chromium (Debian's package, installed with apt when missing), keeps the screenshot in docs/, and fails
# unless the rendered page has its plots, tables and gallery and the screenshot is not blank.
#
#   scripts/check-report.sh [RUNDIR...]      default: a fresh tiny run on a small synthetic set
#
# CI does not run this (it needs apt); tests/MaskLab.Tests/TrackingTests.cs checks the HTML sections there.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

work=$(mktemp -d /tmp/masklab-check-report-XXXXXX)
trap 'rm -rf "$work"' EXIT

browser=$(command -v chromium || command -v chromium-browser || true)
if [[ -z "$browser" ]]; then
  echo "installing Debian's chromium with apt"
  sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
  browser=$(command -v chromium)
fi

runs=("$@")
if [[ ${#runs[@]} -eq 0 ]]; then
  ./masklab synth --out "$work/data" --people 120 --eval-people 12 --size 48x64 --seed 7 >/dev/null
  ./masklab train --data "$work/data" --out "$work/run" --set model=resnet18 --set image_size=48x64 \
    --set epochs=4 --set batch_size=16 --set warmup_epochs=0 --set seed=1 >/dev/null
  runs=("$work/run")
fi

html="$work/report.html"
./masklab report "${runs[@]}" --out "$html"

shot=docs/report-screenshot.png
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
       --disable-component-update --disable-sync --hide-scrollbars)
# A tall window so the screenshot shows the curves, the heat map and the bars, not just the header.
"$browser" "${flags[@]}" --user-data-dir="$work/profile-shot" --window-size=1300,3000 \
  --screenshot="$PWD/$shot" "file://$html" 2>"$work/chromium-shot.log"
"$browser" "${flags[@]}" --user-data-dir="$work/profile-dom" --dump-dom "file://$html" >"$work/dom.html" 2>"$work/chromium-dom.log"

fail() { echo "check-report: FAIL: $*" >&2; exit 1; }
dom="$work/dom.html"
for id in curves confusion per-class per-attribute gallery metadata; do
  grep -q "<section id=\"$id\"" "$dom" || fail "rendered page lacks the $id section"
done
plots=$(grep -o '<img class="plot"' "$dom" | wc -l)
tables=$(grep -o '<table' "$dom" | wc -l)
photos=$(grep -o '<img class="photo"' "$dom" | wc -l)
(( plots >= 6 )) || fail "only $plots plots"
(( tables >= 2 )) || fail "only $tables tables"
(( photos >= 1 )) || fail "no photos in the gallery"
[[ -s "$shot" ]] || fail "no screenshot"
size=$(stat -c %s "$shot")
(( size > 50000 )) || fail "screenshot is $size bytes: blank page?"
# A blank or broken page compresses to almost nothing; a page of plots has many distinct colours.
python3 - "$shot" <<'PY' || fail "screenshot looks blank"
import sys, zlib, struct
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n'
w, h = struct.unpack('>II', data[16:24])
idat = b''; i = 8
while i < len(data):
    n = struct.unpack('>I', data[i:i+4])[0]; kind = data[i+4:i+8]
    if kind == b'IDAT': idat += data[i+8:i+8+n]
    i += 12 + n
raw = zlib.decompress(idat)
nonwhite = sum(1 for b in raw[::97] if b < 200)
print(f"screenshot {w}x{h}, sampled non-white bytes {nonwhite}")
sys.exit(0 if w >= 1000 and h >= 1000 and nonwhite > 500 else 1)
PY
echo "check-report: OK: $plots plots, $tables tables, $photos gallery photos; screenshot $shot ($size bytes)"
