#!/usr/bin/env bash
# Cost of the dashboard: CPU % of one core and peak RSS, read-only, in a 160x45 tmux,
# for 30 s at 1 Hz and at 10 Hz sampling, beside htop run the same way in the same run.
# A benchmark, not a test: it prints figures. Absolute numbers on shared machines are
# noisy; compare the rows of one run.
#   tests/bench.sh [SECONDS]     (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
# The binary `make vmtop` builds (static glibc, see the Makefile).
vmtop=${VMTOP_BIN:-target/$(rustc -vV | sed -n 's/^host: //p')/release/vmtop}
[ -x "$vmtop" ] || make vmtop
command -v htop >/dev/null || { echo "bench: htop is not installed (apt-get install htop)" >&2; exit 1; }
command -v tmux >/dev/null || { echo "bench: tmux is not installed" >&2; exit 1; }
hz=$(getconf CLK_TCK)

# measure NAME CMD: run CMD in tmux for $secs s, print CPU % and peak RSS.
measure() {
	local name=$1 cmd=$2 s=bench-$$ pid t0 t1 c0 c1
	tmux new-session -d -s "$s" -x 160 -y 45 "exec $cmd"
	sleep 2 # start-up is not the steady state
	pid=$(tmux display-message -p -t "$s" '#{pane_pid}')
	c0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
	t0=$(date +%s.%N)
	sleep "$secs"
	c1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
	t1=$(date +%s.%N)
	hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
	tmux kill-session -t "$s"
	awk -v n="$name" -v c="$((c1 - c0))" -v hz="$hz" -v t0="$t0" -v t1="$t1" -v hwm="$hwm" \
		'BEGIN { printf "%-28s %8.2f %% %10.2f MiB\n", n, 100 * c / hz / (t1 - t0), hwm / 1024 }'
}

echo "160x45 terminal, ${secs} s each, read-only; CPU % of one core, peak RSS (VmHWM)"
printf "%-28s %10s %14s\n" "program" "CPU" "peak RSS"
measure "vmtop --interval 1s" "$vmtop --interval 1s"
measure "vmtop --interval 100ms" "$vmtop --interval 100ms"
measure "htop -d 10 (1 s)" "htop -d 10"
measure "htop -d 1 (100 ms)" "htop -d 1"
