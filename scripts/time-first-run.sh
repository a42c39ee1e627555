#!/bin/bash
# How long a new user waits: a fresh clone, `make run`, until the dashboard's first frame.
#
#   scripts/time-first-run.sh [SOURCE [REV]]
#
# Clones SOURCE (a git repository or worktree; default: this checkout, its HEAD) at REV
# (default: SOURCE's HEAD) into a private folder (mktemp -d), runs `make run` there in a
# terminal (tmux, 100x30, on a tmux server of its own), polls the screen until the dashboard's
# first frame shows (its header's "not loaded" and "MemAvailable"), and prints the seconds
# from the clone to that frame, with the time each stage of `make run` was reached. Then it
# quits the dashboard with q, checks that make run exited 0 and that nothing it started is
# still running, and removes the folder. Nothing of the caller's environment that names vmtop
# paths (VMTOP_*) is passed on: the clone finds what a new user's clone finds.
#   TIMEOUT=SECONDS   give up waiting for the first frame (default 1800)
# Exit status: 0 when the frame showed and everything ended cleanly, 1 otherwise.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
src=${1:-$here}
rev=${2:-}
timeout=${TIMEOUT:-1800}
for tool in git tmux make perl; do
	command -v $tool >/dev/null || { echo "$0: $tool is not installed" >&2; exit 1; }
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/vmtop-first-run.XXXXXX")
sock=$dir/tmux.sock
tm() { tmux -S "$sock" "$@"; }
cleanup() {
	tm kill-server 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

now() { perl -MTime::HiRes=time -e 'printf "%.1f", time'; }
since() { perl -e 'printf "%6.1f", $ARGV[0] - $ARGV[1]' "$1" "$start"; }

echo "time-first-run: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)$([ -e /proc/modules ] || echo ' (cannot load modules)')"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(now)
git -c init.defaultBranch=main -c advice.detachedHead=false clone --quiet "$src" "$dir/vmtop"
[ -z "$rev" ] || git -C "$dir/vmtop" -c advice.detachedHead=false checkout --quiet --detach "$rev"
echo "clone of $src at $(git -C "$dir/vmtop" log -1 --format='%h (%cs) %s' | cut -c1-90)"

# make run in a terminal, its output logged with the time of each line.
env_unset=$(env | sed -n 's/^\(VMTOP_[A-Za-z0-9_]*\)=.*/-u \1/p' | tr '\n' ' ')
tm -f /dev/null new-session -d -s run -x 100 -y 30 \
	"cd '$dir/vmtop' && env $env_unset make run; echo MAKE-RUN-EXIT=\$?; exec sleep 3600"
# (No % in it: tmux passes the command through strftime.)
tm pipe-pane -t run "exec perl -MTime::HiRes=time -ne 'BEGIN { \$| = 1 } print int(time * 10) / 10, \" \", \$_' >>'$dir/log'"
pane_pid=$(tm display-message -p -t run '#{pane_pid}')

descendants() { # PID: it and every process below it
	local p=$1 c
	echo "$p"
	for c in $(ps -o pid= --ppid "$p" 2>/dev/null); do descendants "$c"; done
}

frame=""
while :; do
	tm capture-pane -p -t run >"$dir/screen" 2>/dev/null || true
	if grep -q 'not loaded' "$dir/screen" && grep -q 'MemAvailable' "$dir/screen"; then
		frame=$(now)
		break
	fi
	if grep -q 'MAKE-RUN-EXIT=' "$dir/screen"; then
		echo "make run ended before the dashboard showed:" >&2
		cat "$dir/screen" >&2
		exit 1
	fi
	if perl -e 'exit !($ARGV[0] - $ARGV[1] > $ARGV[2])' "$(now)" "$start" "$timeout"; then
		echo "no dashboard after $timeout s:" >&2
		cat "$dir/screen" >&2
		exit 1
	fi
	sleep 0.5
done
started=$(descendants "$pane_pid" | sort -u)

# Where the time went: the first line of each stage in make run's output.
# The log without terminal escapes (cargo colours its words).
sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' "$dir/log" >"$dir/log.txt"
stage() { # PATTERN LABEL [N]: the time of the Nth line (default 1) matching PATTERN
	local t
	t=$(grep -a -E "$1" "$dir/log.txt" | sed -n "${3:-1}p" | cut -d' ' -f1 || true)
	[ -z "$t" ] || echo "  $(since "$t") s  $2"
}
stage 'installing: ' 'installing missing packages'
stage ' Compiling ' 'cargo: first crate compiling'
stage ' Finished ' 'cargo: first build finished'
stage 'this kernel cannot load modules' 'make run: the lab chosen'
# make run fetches the lab kernel in the background and shows its log after the build: the
# log file's time is when the fetch ended.
if [ -f "$dir/vmtop/build/run-lab.log" ]; then
	echo "  $(since "$(stat -c %Y "$dir/vmtop/build/run-lab.log")") s  lab kernel fetched (in the background, during the build)"
else
	stage 'fetching lab kernel|updating the package lists' 'lab kernels: first fetch started'
	stage 'lab kernel .* ready in' 'lab kernels: first one ready'
fi
stage 'building the Debian root' 'lab: debootstrap of the Debian root started'
stage 'fetching i386 lab kernel' 'lab: the i386 lab started (its kernel, then vmtop for i686)'
[ "$(grep -a -c ' Finished ' "$dir/log.txt")" -lt 2 ] || stage ' Finished ' 'cargo: last build finished' '$'
echo "first frame after $(since "$frame") s"
echo "load average at the frame: $(cut -d' ' -f1-3 /proc/loadavg)"

# Quit as a user does, and check that everything make run started has ended.
tm send-keys -t run q
ended=""
for _ in $(seq 1 240); do
	tm capture-pane -p -t run >"$dir/screen" 2>/dev/null || true
	if grep -q 'MAKE-RUN-EXIT=' "$dir/screen"; then ended=1; break; fi
	sleep 0.5
done
[ -n "$ended" ] || { echo "make run did not end within 120 s of q:" >&2; cat "$dir/screen" >&2; exit 1; }
rc=$(grep -o 'MAKE-RUN-EXIT=[0-9]*' "$dir/screen" | cut -d= -f2)
left=""
for p in $started; do
	# The pane's own shell is `sleep` now, started after make run ended.
	[ "$p" = "$pane_pid" ] || [ ! -e "/proc/$p" ] || left="$left $p($(ps -o comm= -p "$p" 2>/dev/null))"
done
also=$(pgrep -a -f -- "$dir/vmtop/" | grep -v -E "^$$ |tmux" || true)
echo "quit with q: make run exited $rc; still running: ${left:-nothing}${also:+, and $also}"
[ "$rc" = 0 ] && [ -z "$left" ] && [ -z "$also" ]
