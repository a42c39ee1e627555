#!/usr/bin/env bash
# Regenerate tui/hot-code.ld: the functions the dashboard's steady loop runs, placed together
# at link time so that the code it keeps resident is a few 64 KiB blocks, not 25 of them
# (docs/hot-code.md).
#
# Builds an unstripped release vmtop in target/hot-prof (the release profile with symbols and
# line tables; VMTOP_HOT_CODE=0, so linked without tui/hot-code.ld, as valgrind names no function
# outside .text), runs it at --interval 100ms in a 160x45 tmux under callgrind, zeroes the
# counts when the dashboard trims its start-up code (malloc_trim, called only by
# footprint::trim_code_pages after the first frame), types a key no table binds (a full
# redraw, as a message from the worker brings 2 s after the trim), dumps them 40 s later and
# writes one pattern per function callgrind saw run in the vmtop binary in between (libc's
# are in libc.so, not ours to place). Everything that runs after the trim counts, once or often: a
# page touched once stays resident. Then it types `v` (the areas pane, which reads
# /proc/vmallocinfo: run as root) and profiles 30 s more: the functions only that adds are
# placed after the others, so the dashboard without the pane touches none of them. Run it
# after a change to what the dashboard runs; the first run builds the dependencies in
# target/hot-prof (some 10 minutes), later ones a minute, plus 80 s of profiling.
#   scripts/hot-code.sh                              profile and write tui/hot-code.ld
#   scripts/hot-code.sh CALLGRIND.OUT BIN [AREAS.OUT]  only turn existing profiles of BIN into
#                                                    patterns (AREAS.OUT: the pane's)
# Needs valgrind (callgrind_control) and tmux.
set -euo pipefail
cd "$(dirname "$0")/.."
out=tui/hot-code.ld

if [ $# -ge 2 ]; then
	cg=$1 bin=$2 cg2=${3:-}
else
	for p in valgrind callgrind_control tmux; do
		command -v $p >/dev/null || { echo "hot-code: $p is not installed (apt-get install valgrind tmux)" >&2; exit 1; }
	done
	VMTOP_HOT_CODE=0 CARGO_TARGET_DIR=target/hot-prof CARGO_PROFILE_RELEASE_STRIP=false \
		CARGO_PROFILE_RELEASE_DEBUG=line-tables-only cargo build --release --locked --bin vmtop
	bin=$PWD/target/hot-prof/release/vmtop
	dir=$(mktemp -d)
	s=hot-code-$$
	trap 'tmux kill-session -t "$s" 2>/dev/null || true; rm -rf "$dir"' EXIT
	tmux new-session -d -s "$s" -x 160 -y 45 "exec valgrind --tool=callgrind --demangle=no \
		--zero-before=malloc_trim --callgrind-out-file=$dir/out $bin --interval 100ms"
	sleep 25 # start-up under valgrind, then 20 s or more of the steady state
	pid=$(pgrep -f -n -- "--callgrind-out-file=$dir/out") || { echo "hot-code: callgrind did not start" >&2; exit 1; }
	# A key no table binds: a full redraw and nothing else. Natively one comes 2 s after the
	# trim (a message from the worker); under valgrind that message may come before it.
	tmux send-keys -t "$s" j
	sleep 20
	# Each dump writes the counts since the last one (out.1, out.2) and zeroes them.
	callgrind_control -d "$pid" >/dev/null 2>&1
	tmux send-keys -t "$s" v
	sleep 30 # the areas pane: grouped once a second
	callgrind_control -d "$pid" >/dev/null 2>&1
	cg=$dir/out.1 cg2=$dir/out.2
	tmux send-keys -t "$s" q
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
	[ -s "$cg" ] && [ -s "$cg2" ] || { echo "hot-code: no profile written to $dir" >&2; exit 1; }
fi

# Function names (mangled) that ran instructions of their own in $bin, from callgrind's format:
# "ob=(N) path" and "fn=(N) name" give a name the first time and only "(N)" after ("cob=" and
# "cfn=", a callee's, give names too); a cost line right after "calls=" is the callee's
# (inclusive), not the function's: main, which only calls, is not listed. A name callgrind
# suffixes with 'N (a recursion level) is the same function.
ran() {
	awk -v obj="$bin" '
	function ref(s, tbl,   id, rest) {
		if (match(s, /^\([0-9]+\)/)) {
			id = substr(s, 2, RLENGTH - 2); rest = substr(s, RLENGTH + 2)
			if (rest != "") tbl[id] = rest
			return tbl[id]
		}
		return s
	}
	/^ob=/ { ob = ref(substr($0, 4), obn); next }
	/^cob=/ { ref(substr($0, 5), obn); next }
	/^cfn=/ { ref(substr($0, 5), fnn); next }
	/^fn=/ { f = ref(substr($0, 4), fnn); cur = (ob == obj) ? f : ""; next }
	/^calls=/ { call = 1; next }
	/^[0-9+*-]/ { if (!call && cur != "") ran[cur] = 1; call = 0; next }
	END { for (f in ran) print f }
' "$1" | sed "s/'[0-9]*$//" | sort -u
}
names=$(ran "$cg")
[ -n "$names" ] || { echo "hot-code: no function of $bin in $cg" >&2; exit 1; }

# Names to patterns that survive a rebuild: the hashes in names change with the profile,
# features and toolchain. Legacy mangling (_ZN...17h<16 hex>E): the hash becomes *. v0
# mangling (_R..., std's): crate disambiguators (Cs<base62>_) and back-references (B<base62>_,
# offsets into the name that move when a disambiguator's length does) become *.
# LLVM's suffix on a local copy (.427, .llvm.123) is a number of the build: it becomes * too.
pattern() {
	sed -E -e 's/(\.llvm)?\.[0-9]+$/*/' -e 's/17h[0-9a-f]{16}E/17h*E/' \
		-e '/^_R/{s/Cs[0-9A-Za-z]+_/Cs*_/g; s/([A-Za-z_])B[0-9A-Za-z]*_/\1B*_/g}' | sort -u
}
patterns=$(pattern <<<"$names")
# The areas pane's own: what its profile adds to the dashboard's.
areas=
if [ -n "$cg2" ]; then
	areas=$(ran "$cg2" | pattern | comm -23 - <(cat <<<"$patterns"))
fi

{
	cat <<EOF
/* Generated by scripts/hot-code.sh ($(date -u +%F), $(rustc -V | cut -d' ' -f1-2)): do not edit.
 * The functions the dashboard runs after its start-up code is trimmed (callgrind, 160x45,
 * --interval 100ms), then the areas pane's, in one output section before .text so that
 * they share a few 64 KiB blocks of the binary (docs/hot-code.md). Added to the linker's
 * default layout (INSERT), not a replacement: tui/build.rs passes it to GNU ld and lld
 * when they link the vmtop binary.
 * rustc puts each function in a section of its own, .text.<mangled name> (.text.unlikely.<name>
 * for a #[cold] one, such as RawVec's grow_one); hashes are *.
 * Stale patterns are harmless: one that matches nothing places nothing, and a function
 * missing from the list stays in .text where it was (it costs memory, not correctness).
 */
SECTIONS
{
  .text.hot :
  {
EOF
	sed 's/.*/    *(.text.& .text.unlikely.&)/' <<<"$patterns"
	if [ -n "$areas" ]; then
		echo "    /* The areas pane's (v), after the rest: without the pane none of it is touched. */"
		sed 's/.*/    *(.text.& .text.unlikely.&)/' <<<"$areas"
	fi
	cat <<EOF
  }
}
INSERT BEFORE .text;
EOF
} >"$out"
echo "hot-code: $(wc -l <<<"$patterns") patterns from $(wc -l <<<"$names") functions, $(grep -c . <<<"$areas" || true) more for the areas pane, written to $out"
