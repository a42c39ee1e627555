#!/usr/bin/env bash
# The README's picture and the pictures of docs/export.md, made by vmtop itself from a real
# kernel: the dashboard runs in the lab VM (the Debian root: the module built there from the
# checkout, `script` gives the dashboard a terminal) with --record, a timed script types its keys (200 MiB loaded and unloaded, 2000 MiB
# refused as more than RAM, 8 MiB refused by kmalloc, 200 MiB again, the 2-minute window,
# `s` to save the screen, q), and the files come back over the console in base64. Then vmtop plot and vmtop report
# draw the recording.
#   scripts/lab-pictures.sh [OUT_DIR]     (default assets/; needs `make lab` and a release
#                                         build; boots one VM, a few minutes under TCG)
set -euo pipefail
cd "$(dirname "$0")/.."
vmtop=${VMTOP:-target/release/vmtop}
out=${1:-assets}
[ -x "$vmtop" ] || { echo "lab-pictures: build vmtop first (make vmtop)" >&2; exit 1; }
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Keys, typed after the dashboard has drawn its first samples. Times are generous: loads
# take seconds under TCG.
keys='sleep 14
printf 200; sleep 0.5; printf "\r"; sleep 0.5; printf l; sleep 12
printf u; sleep 5
printf 2000; sleep 0.5; printf "\r"; sleep 0.5; printf l; sleep 6
printf a; printf a; sleep 0.5; printf 8; sleep 0.5; printf "\r"; sleep 0.5; printf l; sleep 6
printf aaa; sleep 0.5; printf 200; sleep 0.5; printf "\r"; sleep 0.5; printf l; sleep 12
printf z; sleep 1; printf s; sleep 5
printf q; sleep 2; printf y; sleep 8'

"$vmtop" lab --root debian --timeout 15m --exec "
make -C /src/kmod-src >/dev/null 2>&1 || { echo module_build_failed; exit 1; }
mkdir -p /tmp/s
( $keys ) | TERM=xterm-256color script -qfec 'stty rows 34 cols 120; /src/target/release/vmtop --yes --interval 250ms --screenshot-dir /tmp/s --record /tmp/s/class.jsonl' /dev/null >/dev/null
echo dashboard_rc=\$?
for f in /tmp/s/*; do echo \"==FILE \$(basename \$f)\"; base64 -w0 \"\$f\"; echo; done
" >"$tmp/out"
grep -q '^dashboard_rc=0' "$tmp/out" || { cat "$tmp/out" >&2; echo "lab-pictures: the dashboard did not end well" >&2; exit 1; }
awk -v dir="$tmp" '/^==FILE / { name = $2; next } name != "" { print > (dir "/" name ".b64"); name = "" }' "$tmp/out"
for b in "$tmp"/*.b64; do base64 -d "$b" >"${b%.b64}"; done
svg=$(ls "$tmp"/vmtop-*.svg | head -1)
cp "$svg" "$out/vmtop-lab.svg"
cp "${svg%.svg}.png" "$out/vmtop-lab.png"
cp "$tmp/class.jsonl" "$out/lab-class.jsonl"
"$vmtop" plot "$out/lab-class.jsonl" --out "$out/lab-plot.png"
"$vmtop" plot "$out/lab-class.jsonl" --out "$out/lab-plot.svg"
"$vmtop" report "$out/lab-class.jsonl" --out "$tmp/report.html"
prof=$(mktemp -d)
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
	--disable-background-networking --disable-component-update --disable-sync \
	--hide-scrollbars --user-data-dir="$prof" --window-size=1280,2600 \
	--screenshot="$out/lab-report-chromium.png" "file://$tmp/report.html" 2>/dev/null
rm -rf "$prof"
cp "$tmp/report.html" "$out/lab-report.html"
ls -l "$out"/vmtop-lab.* "$out"/lab-*
