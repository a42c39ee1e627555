#!/usr/bin/env bash
# Cost of the dashboard: CPU % of one core and memory, read-only, in a 160x45 tmux, for
# SECONDS each, one program after the other in the same run:
#   vmtop --interval 100ms, 250ms (the default) and 1s; at 100ms and 1s with the areas
#   pane open (`v` typed into it);
#   htop -d 1 (100 ms) and -d 10 (1 s);
#   btop with update_ms=100 (Debian's package; a private config directory, never the user's).
# VMTOP_BEFORE=/path/to/an/older/vmtop adds its three vmtop rows to the same run, for a
# before/after comparison (VMTOP_BIN picks the "after" binary; default: `make vmtop`'s).
# A benchmark, not a test: it prints figures and checks the targets of docs/performance.md.
# Absolute numbers on a shared machine are noisy: compare the rows of one run.
#   tests/bench.sh [SECONDS]     (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
# The binary `make vmtop` builds.
vmtop=${VMTOP_BIN:-target/release/vmtop}
before=${VMTOP_BEFORE:-}
[ -x "$vmtop" ] || make vmtop
[ -z "$before" ] || [ -x "$before" ] || { echo "bench: VMTOP_BEFORE=$before is not an executable" >&2; exit 1; }
for p in htop btop tmux; do
	command -v $p >/dev/null || { echo "bench: $p is not installed (apt-get install $p)" >&2; exit 1; }
done

# btop reads $XDG_CONFIG_HOME/btop/btop.conf: a throw-away one asks for 100 ms updates.
conf=$(mktemp -d)
trap 'rm -rf "$conf"' EXIT
mkdir "$conf/btop"
echo "update_ms = 100" >"$conf/btop/btop.conf"

# CPU time of every thread of PID so far, in ns, from /proc/PID/task/*/schedstat: the
# scheduler's own count, where utime+stime in /proc/PID/stat come in 10 ms ticks (0.03 % of
# a core over 30 s, too coarse for figures of 0.05 %).
cpu_ns() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{n += $1} END {printf "%d\n", n}'
}

declare -A cpu pss
# measure KEY NAME CMD: run CMD in tmux for $secs s; print CPU %, PSS, private memory, peak
# RSS and threads. PSS charges each shared page to the processes that map it in equal
# parts, so shared libraries cost what they really cost; RSS counts them whole.
measure() {
	local key=$1 name=$2 cmd=$3 keys=${4:-} s=bench-$$ pid t0 t1 c0 c1 hwm p priv threads
	# A tmux server of its own for each program: the default one exits when its last session
	# is killed, and a client that reaches it while it exits fails ("server exited
	# unexpectedly"), which ended two runs on 2026-12-05.
	tmux() { command tmux -L "bench-$$-$key" "$@"; }
	tmux new-session -d -s "$s" -x 160 -y 45 "exec env XDG_CONFIG_HOME=$conf $cmd"
	sleep 2 # start-up is not the steady state
	# KEYS typed once started (v: the areas pane), then a second for what they open.
	if [ -n "$keys" ]; then tmux send-keys -t "$s" "$keys"; sleep 1; fi
	pid=$(tmux display-message -p -t "$s" '#{pane_pid}')
	c0=$(cpu_ns "$pid")
	t0=$(date +%s%N)
	sleep "$secs"
	c1=$(cpu_ns "$pid")
	t1=$(date +%s%N)
	hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
	p=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup")
	priv=$(awk '/^Private_(Clean|Dirty):/ {n += $2} END {print n}' "/proc/$pid/smaps_rollup")
	threads=$(awk '/^Threads:/ {print $2}' "/proc/$pid/status")
	tmux kill-server
	cpu[$key]=$(awk -v c=$((c1 - c0)) -v t=$((t1 - t0)) 'BEGIN {printf "%.4f", 100 * c / t}')
	pss[$key]=$p
	awk -v n="$name" -v c="${cpu[$key]}" -v pss="$p" -v priv="$priv" -v hwm="$hwm" -v th="$threads" \
		'BEGIN { printf "%-30s %7.3f %% %9.2f MiB %9.2f MiB %9.2f MiB %7d\n", n, c, pss / 1024, priv / 1024, hwm / 1024, th }'
}

echo "160x45 terminal, ${secs} s each, read-only; CPU % of one core (all threads, from"
echo "schedstat); PSS and private from /proc/PID/smaps_rollup at the end; peak RSS (VmHWM)"
echo "$(date -u +%F) $(uname -r), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-30s %9s %13s %13s %13s %7s\n" "program" "CPU" "PSS" "private" "peak RSS" "threads"
for iv in 100ms 250ms 1s; do
	measure "vmtop-$iv" "vmtop --interval $iv" "$vmtop --interval $iv"
	if [ -n "$before" ]; then
		measure "before-$iv" "before: vmtop --interval $iv" "$before --interval $iv"
	fi
done
# The areas pane open (v): /proc/vmallocinfo read and grouped once a second (as root; as a
# user the pane says the file is root's and reads nothing).
measure areas-100ms "vmtop 100ms, areas pane (v)" "$vmtop --interval 100ms" v
measure areas-1s "vmtop 1s, areas pane (v)" "$vmtop --interval 1s" v
measure htop1 "htop -d 1 (100 ms)" "htop -d 1"
measure htop10 "htop -d 10 (1 s)" "htop -d 10"
measure btop "btop update_ms=100" "btop"

# The targets (docs/performance.md), within this run.
check() {
	local what=$1 ok=$2
	printf "%-4s %s\n" "$([ "$ok" = 1 ] && echo ok || echo MISS)" "$what"
}
le() { awk -v a="$1" -v b="$2" 'BEGIN {print (a <= b) ? 1 : 0}'; }
echo "targets:"
check "vmtop 100ms CPU ${cpu[vmtop-100ms]} % <= 0.10 %" "$(le "${cpu[vmtop-100ms]}" 0.10)"
check "vmtop 100ms CPU <= htop -d 1's / 15 ($(awk -v h="${cpu[htop1]}" 'BEGIN {printf "%.4f", h / 15}') %)" \
	"$(le "${cpu[vmtop-100ms]}" "$(awk -v h="${cpu[htop1]}" 'BEGIN {print h / 15}')")"
check "vmtop 250ms CPU ${cpu[vmtop-250ms]} % <= 0.05 %" "$(le "${cpu[vmtop-250ms]}" 0.05)"
check "vmtop 1s CPU ${cpu[vmtop-1s]} % <= htop -d 10's ${cpu[htop10]} %" "$(le "${cpu[vmtop-1s]}" "${cpu[htop10]}")"
hmin=$((pss[htop1] < pss[htop10] ? pss[htop1] : pss[htop10]))
for iv in 100ms 250ms 1s; do
	check "vmtop $iv PSS ${pss[vmtop-$iv]} kB <= htop's (the smaller of the two) $hmin kB" "$(le "${pss[vmtop-$iv]}" "$hmin")"
done
