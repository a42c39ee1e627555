#!/usr/bin/env bash
# The fonts vmtop draws its PNG pictures and embeds in its SVG screenshots with, so that a
# picture looks the same on every machine: DejaVu Sans Mono (the screen) and DejaVu Sans
# (plot labels), regular and bold, cut down to the characters vmtop can draw (Latin, Greek,
# punctuation, arrows, a few mathematical signs, box drawing, blocks, geometric shapes,
# ⚠ ✓ ✗ ★). Braille is never taken from a font: vmtop draws its dots.
#
# Source: Debian's fonts-dejavu-core (DejaVu 2.37); tool: Debian's fonttools (pyftsubset).
# Licence: assets/fonts/LICENSE (Bitstream Vera; DejaVu's changes are public domain). The
# subsets keep DejaVu's names, which the licence allows (no "Bitstream" or "Vera" in them).
#   scripts/subset-fonts.sh        (rewrites assets/fonts/*.ttf)
set -euo pipefail
cd "$(dirname "$0")/.."
src=${DEJAVU_DIR:-/usr/share/fonts/truetype/dejavu}
command -v pyftsubset >/dev/null || { echo "subset-fonts: install fonttools (apt-get install fonttools)" >&2; exit 1; }
[ -f "$src/DejaVuSansMono.ttf" ] || { echo "subset-fonts: install fonts-dejavu-core (no $src/DejaVuSansMono.ttf)" >&2; exit 1; }
ranges="U+0020-007E,U+00A0-00FF,U+0391-03C9,U+2010-2027,U+2030-203A,U+2070,U+2074-2079,U+2080-2089,U+20AC,U+2122,U+2190-2199,U+21B5,U+2212-2213,U+2219-221A,U+221E,U+2248,U+2260,U+2264-2265,U+2500-25FF,U+2605-2606,U+2610-2612,U+26A0,U+2713-2718"
out=assets/fonts
for f in DejaVuSansMono DejaVuSansMono-Bold DejaVuSans DejaVuSans-Bold; do
	pyftsubset "$src/$f.ttf" --unicodes="$ranges" --no-hinting --desubroutinize \
		--layout-features='' --name-IDs='*' --name-languages='*' --drop-tables+=FFTM \
		--output-file="$out/$f.ttf"
done
# The licence, from Debian's copyright file (its stanza for the fonts).
{
	echo "DejaVu fonts 2.37 (Debian's fonts-dejavu-core), subset by scripts/subset-fonts.sh."
	echo
	awk '/^Files: \*$/ {on = 1; next} /^Files: / {on = 0} on' /usr/share/doc/fonts-dejavu-core/copyright |
		sed -e 's/^ \.$//' -e 's/^ //' -e 's/ *$//'
} >"$out/LICENSE"
ls -l "$out"
