#!/usr/bin/env bash
# Cost of the dashboard: CPU % of one core and memory, read-only, in a 160x45 tmux,
# for 30 s at 1 Hz and at 10 Hz sampling, beside htop run the same way in the same run.
# A benchmark, not a test: it prints figures. Absolute numbers on shared machines are
# noisy; compare the rows of one run.
#   tests/bench.sh [SECONDS]     (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
# The binary `make vmtop` builds.
vmtop=${VMTOP_BIN:-target/release/vmtop}
[ -x "$vmtop" ] || make vmtop
command -v htop >/dev/null || { echo "bench: htop is not installed (apt-get install htop)" >&2; exit 1; }
command -v tmux >/dev/null || { echo "bench: tmux is not installed" >&2; exit 1; }
hz=$(getconf CLK_TCK)

# measure NAME CMD: run CMD in tmux for $secs s, print CPU %, PSS, private memory and peak RSS.
# PSS charges each shared page to the processes that map it in equal parts, so shared
# libraries (glibc, libkmod) cost what they really cost; RSS counts them whole.
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
	pss=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup")
	priv=$(awk '/^Private_(Clean|Dirty):/ {n += $2} END {print n}' "/proc/$pid/smaps_rollup")
	threads=$(awk '/^Threads:/ {print $2}' "/proc/$pid/status")
	tmux kill-session -t "$s"
	awk -v n="$name" -v c="$((c1 - c0))" -v hz="$hz" -v t0="$t0" -v t1="$t1" -v hwm="$hwm" \
		-v pss="$pss" -v priv="$priv" -v th="$threads" \
		'BEGIN { printf "%-28s %7.2f %% %9.2f MiB %9.2f MiB %9.2f MiB %7d\n", n, 100 * c / hz / (t1 - t0), pss / 1024, priv / 1024, hwm / 1024, th }'
}

echo "160x45 terminal, ${secs} s each, read-only; CPU % of one core; PSS and private from"
echo "/proc/PID/smaps_rollup at the end; peak RSS (VmHWM) for reference"
printf "%-28s %9s %13s %13s %13s %7s\n" "program" "CPU" "PSS" "private" "peak RSS" "threads"
measure "vmtop --interval 1s" "$vmtop --interval 1s"
measure "vmtop --interval 100ms" "$vmtop --interval 100ms"
measure "htop -d 10 (1 s)" "htop -d 10"
measure "htop -d 1 (100 ms)" "htop -d 1"
