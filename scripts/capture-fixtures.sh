#!/bin/bash
# Regenerate the kernel-log and /proc fixtures of the unit tests (tui/testdata) from the lab:
# every case below runs in a real Debian kernel under `vmtop lab --exec`, and its fixture is
# what that kernel printed (/dev/kmsg records) or showed (/proc files), with a header saying
# what it is, the kernel, the VM and the exact commands. Cases that share a kernel command line
# share one boot. A capture that lacks the line its case is about is an error (nothing of
# that case is written).
#   scripts/capture-fixtures.sh [CASE|BOOT...]   default: every case (--list shows them)
# Environment: VMTOP (default target/release/vmtop; its vmtop-kmod beside it), VMTOP_LAB_DIR
# and VMTOP_LAB_VMTOP (the i686 vmtop) as for `vmtop lab`. Needs the lab kernels (`make lab`:
# 6.1 and 6.12 x86_64, 6.1 i386), openssl and objcopy. Boots one VM at a time. Not part of
# `make test`: it rewrites the fixtures.
set -euo pipefail
cd "$(dirname "$0")/.."
vmtop=${VMTOP:-target/release/vmtop}
out_dir=tui/testdata
me=scripts/capture-fixtures.sh
die() { echo "capture-fixtures: $*" >&2; exit 1; }
failed=0
# A case that did not capture what it is about: say so, write nothing of it, go on.
fail() { echo "capture-fixtures: FAILED: $*" >&2; failed=$((failed + 1)); }

# --- The cases -------------------------------------------------------------------------
# case_ NAME BOOT WHAT [FILE]: a case, in its boot's run order, whose kernel records go to
# FILE. step NAME EXPECT CMD: a command in the VM (EXPECT: ok, eN = fails with errno N, any);
# "@FILE CMD" writes CMD's output to FILE (a /proc fixture). want NAME REGEX: a record the
# capture must hold. In file names {S} is the kernel series (6.1, 6.12).
declare -A BOOT WHAT FILE
declare -a ORDER
declare -A STEPS WANTS
case_() { ORDER+=("$1"); BOOT[$1]=$2; WHAT[$1]=$3; FILE[$1]=${4:-}; }
step() { STEPS[$1]+="$2 $3"$'\n'; }
want() { WANTS[$1]+="$2"$'\n'; }
M=/lab/alloc_large_mem.ko
insert() { echo "vmtop-kmod insert $M $*"; }

case_ meminfo-idle x86 "/proc/meminfo of the idle lab VM (nothing loaded)."
step meminfo-idle ok "@meminfo-{S}-lab-1g.txt cat /proc/meminfo"

case_ loaded64 x86 "/proc/meminfo and /proc/vmallocinfo with the module holding 64 MiB (safe mode)."
step loaded64 ok "vmtop load --memsize 64 --json"
step loaded64 ok "@meminfo-{S}-loaded64.txt cat /proc/meminfo"
step loaded64 ok "@vmallocinfo-{S}-x86_64.txt cat /proc/vmallocinfo"
step loaded64 ok "vmtop unload"

# The areas view (vmtop areas): every vmap area with the module holding 100 MiB, and the
# figures the kernel-memory line shows, from the same boot.
case_ areas-100 x86 "/proc/vmallocinfo, /proc/meminfo and /proc/pressure/memory with the module holding 100 MiB (safe mode): the areas view."
step areas-100 ok "vmtop load --memsize 100 --json"
step areas-100 ok "@vmallocinfo-{S}-x86_64-100m.txt cat /proc/vmallocinfo"
step areas-100 ok "@meminfo-{S}-x86_64-100m.txt cat /proc/meminfo"
step areas-100 ok "@pressure-memory-{S}-x86_64.txt cat /proc/pressure/memory"
step areas-100 ok "vmtop unload"

case_ lab-safe-counted x86 "Safe mode: 940 MiB (above available minus the reserve: refused before allocating), 700 MiB (loads), unload, 850 MiB (refused before allocating)." "kmsg-{S}-lab-safe-counted.txt"
step lab-safe-counted e12 "vmtop load --memsize 940 --json"
step lab-safe-counted ok "vmtop load --memsize 700 --json"
step lab-safe-counted ok "vmtop unload"
step lab-safe-counted e12 "vmtop load --memsize 850 --json"
want lab-safe-counted 'alloc_large_mem: fail memsize_mib=940 .*stage=reserve allocated=0'
want lab-safe-counted 'alloc_large_mem: load memsize_mib=700 '
want lab-safe-counted 'alloc_large_mem: fail memsize_mib=850 .*stage=reserve allocated=0'

case_ enomem-safe x86 "Safe mode, less than MemTotal but more than is available: refused before allocating (ENOMEM, stage=reserve allocated=0), the kernel prints nothing else." "kmsg-{S}-enomem-safe.txt"
step enomem-safe e12 "vmtop load --memsize 950 --json"
want enomem-safe 'alloc_large_mem: fail memsize_mib=950 .*oom_safe=Y err=-12 stage=reserve allocated=0'

case_ exceeds-total-safe x86 "Safe mode, more than MemTotal: refused before allocating (ENOMEM, stage=reserve allocated=0), silently." "kmsg-{S}-exceeds-total-safe.txt"
step exceeds-total-safe e12 "vmtop load --memsize 2000 --json"
want exceeds-total-safe 'alloc_large_mem: fail memsize_mib=2000 .*oom_safe=Y err=-12 stage=reserve allocated=0'

case_ exceeds-total-unsafe x86 "Unsafe mode (plain vmalloc), more than MemTotal: refused at once with the kernel's warning (ENOMEM)." "kmsg-{S}-exceeds-total-unsafe.txt"
step exceeds-total-unsafe e12 "vmtop load --memsize 2000 --mode unsafe --force --json"
want exceeds-total-unsafe 'vmalloc error: size 2097152000, exceeds total pages'
want exceeds-total-unsafe 'alloc_large_mem: fail memsize_mib=2000 .*oom_safe=N err=-12 stage=vmalloc'

case_ param x86 "memsize=0: the module refuses it (EINVAL)." "kmsg-{S}-param.txt"
step param e22 "$(insert memsize=0)"
want param 'alloc_large_mem: fail memsize_mib=0 .*err=-22 stage=param'
want param 'alloc_large_mem: memsize must be between 1 and [0-9]+ MiB'

case_ param-range x86 "fragment_order=8 (below the pageblock order) and reserve_mib=-2: the module refuses both (EINVAL)." "kmsg-{S}-param-range.txt"
step param-range e22 "$(insert memsize=4 fragment_order=8)"
step param-range e22 "$(insert memsize=4 reserve_mib=-2)"
want param-range 'alloc_large_mem: fail memsize_mib=4 .*err=-22 stage=param allocated=0 fragment_order=8 pageblock_order=[0-9]+'
want param-range 'alloc_large_mem: fragment_order must be 0 \(off\) or between [0-9]+ \(pageblock_order\) and [0-9]+, not 8'
want param-range 'alloc_large_mem: reserve_mib must be -1 \(the default reserve\), 0 \(none\) or a size in MiB, not -2'

case_ param-alloc x86 "alloc=bogus: the module names the allocators it knows (EINVAL)." "kmsg-{S}-param-alloc.txt"
step param-alloc e22 "$(insert memsize=8 alloc=bogus)"
want param-alloc 'alloc_large_mem: fail memsize_mib=8 .*err=-22 stage=param'
want param-alloc "alloc_large_mem: alloc must be one of [a-z_,]+, not 'bogus'"

# The loader killed while the module fills its buffer: vmalloc has counted the pages in
# VmallocUsed once it has them all, so the kill lands in the fill loop, which gives up.
case_ fill-interrupted x86 "The loader killed (SIGKILL) once VmallocUsed shows the 700 MiB buffer, while the module fills it: the fill loop gives up (EINTR, which the dead loader never sees). mi KEY: the /proc/meminfo figure in kB." "kmsg-{S}-fill-interrupted.txt"
step fill-interrupted any "$(insert memsize=700) & p=\$!; until [ \$(mi VmallocUsed) -gt 600000 ]; do sleep 0.05; done; kill -9 \$p; wait \$p"
want fill-interrupted 'alloc_large_mem: fail memsize_mib=700 .*err=-4 stage=fill'

# The allocators (kmod-src/README.md). Above an allocator's limit the module refuses the
# request as a parameter (EINVAL) in both modes: the kernel would WARN on it in unsafe mode.
case_ alloc x86 "The allocators: kmalloc 8 MiB unsafe and safe, pages 8 safe, kmalloc 2000 safe, kvmalloc 2048 unsafe (all above their allocator's limit: refused as parameters, no WARNING), vmalloc 256, kvmalloc 256, kvmalloc 4." "kmsg-{S}-alloc.txt"
step alloc e22 "$(insert memsize=8 alloc=kmalloc oom_safe=N)"
step alloc e22 "$(insert memsize=8 alloc=kmalloc)"
step alloc e22 "$(insert memsize=8 alloc=pages)"
step alloc e22 "$(insert memsize=2000 alloc=kmalloc)"
step alloc e22 "$(insert memsize=2048 alloc=kvmalloc oom_safe=N)"
step alloc ok "$(insert memsize=256 alloc=vmalloc)"
step alloc ok "vmtop-kmod remove alloc_large_mem"
step alloc ok "$(insert memsize=256 alloc=kvmalloc)"
step alloc ok "vmtop-kmod remove alloc_large_mem"
step alloc ok "$(insert memsize=4 alloc=kvmalloc)"
step alloc ok "vmtop-kmod remove alloc_large_mem"
want alloc 'fail memsize_mib=8 .*oom_safe=N err=-22 stage=param allocated=0 alloc=kmalloc .*limit_bytes=[0-9]+'
want alloc 'fail memsize_mib=8 .*oom_safe=Y err=-22 stage=param allocated=0 alloc=pages .*limit_bytes=[0-9]+'
want alloc 'fail memsize_mib=2000 .*stage=param allocated=0 alloc=kmalloc order=19 '
want alloc 'fail memsize_mib=2048 .*oom_safe=N err=-22 stage=param allocated=0 alloc=kvmalloc .*limit_bytes=2147483647'
want alloc 'alloc=kmalloc gives at most [0-9]+ bytes'
want alloc 'load memsize_mib=256 .*alloc=vmalloc '
want alloc 'load memsize_mib=256 .*alloc=kvmalloc .*backing=vmalloc'
want alloc 'load memsize_mib=4 .*alloc=kvmalloc .*backing=linear'

# Fragmentation (kmod-src/README.md): with compaction held back, no free block of the order,
# counting the blocks free but for pages on the per-CPU lists (parked_kib).
case_ fragment x86 "Fragmentation, with compaction held back: pages 4 fragment_order=10, kmalloc 2 fragment_order=9." "kmsg-{S}-fragment.txt"
step fragment ok "sysctl -w vm.extfrag_threshold=1000 vm.compaction_proactiveness=0"
step fragment e12 "$(insert memsize=4 alloc=pages fragment_order=10)"
step fragment e12 "$(insert memsize=2 alloc=kmalloc fragment_order=9)"
step fragment ok "sysctl -w vm.extfrag_threshold=500 vm.compaction_proactiveness=20"
want fragment 'fail memsize_mib=4 .*stage=pages .*fragment_order=10'
want fragment 'fail memsize_mib=2 .*stage=kmalloc .*fragment_order=9 '

# The OOM killer: plain vmalloc of nearly all RAM (950 of MemTotal ~958 MiB). The loader
# (vmtop-kmod, oom_score_adj 1000) is its victim; nothing else is.
case_ oom-unsafe x86 "Unsafe mode (plain vmalloc), 950 MiB: below MemTotal, above what is free: the OOM killer kills the loader." "kmsg-{S}-oom-unsafe.txt"
step oom-unsafe any "vmtop load --memsize 950 --mode unsafe --force --json"
want oom-unsafe 'vmtop-kmod invoked oom-killer: gfp_mask='
want oom-unsafe '^oom-kill:constraint=.*,task=vmtop-kmod,pid=[0-9]+'
want oom-unsafe '^Out of memory: Killed process [0-9]+ \(vmtop-kmod\)'

# A module built against another kernel's headers (the same source): 6.1 compares symbol CRCs
# first, starting with module_layout (CONFIG_MODVERSIONS); 6.12 first compares the size of
# the module's struct module with its own.
case_ other-kernel x86 "The module built against the headers of {OTHER} (the same source), loaded with vmtop-kmod (vmtop refuses it before the kernel): ENOEXEC." "kmsg-{S}-other-kernel.txt"
step other-kernel e8 "vmtop-kmod insert /lab/other-kernel.ko memsize=8"
want other-kernel 'alloc_large_mem: disagrees about version of symbol module_layout|module alloc_large_mem: \.gnu\.linkonce\.this_module section size must match the kernel.s built struct module size'

# The same module without symbol versions, as `modprobe --force-modversion` loads it (its
# __versions section not allocated): the kernel compares the whole version magic.
case_ vermagic x86 "The {OTHER} build with its symbol versions dropped (__versions not SHF_ALLOC, as modprobe --force-modversion does): the kernel compares the version magic (ENOEXEC)." "kmsg-{S}-vermagic.txt"
step vermagic e8 "vmtop-kmod insert /lab/other-kernel-noversions.ko memsize=8"
want vermagic "alloc_large_mem: version magic '[^']*' should be '[^']*'"

case_ symbol-version x86 "The lab module with the CRC of vmalloc in its __versions changed (the same version magic): EINVAL." "kmsg-{S}-symbol-version.txt"
step symbol-version e22 "vmtop load --memsize 8 --module /lab/symbol-crc.ko --json"
want symbol-version 'alloc_large_mem: disagrees about version of symbol vmalloc'
want symbol-version 'alloc_large_mem: Unknown symbol vmalloc \(err -22\)'

case_ lockdown lockdown "Kernel lockdown (integrity): the unsigned lab module, then the same module signed with a key the kernel does not know (EPERM both)." "kmsg-{S}-lockdown.txt"
step lockdown e1 "vmtop load --memsize 8 --json"
step lockdown e1 "vmtop load --memsize 8 --module /lab/signed.ko --json"
want lockdown 'Lockdown: vmtop-kmod: unsigned module loading is restricted; see man kernel_lockdown.7'

case_ sig-rejected sig "Signature enforcement: the unsigned lab module (EKEYREJECTED)." "kmsg-{S}-sig-rejected.txt"
step sig-rejected e129 "vmtop load --memsize 8 --json"
want sig-rejected '^Loading of unsigned module is rejected'

case_ sig-unknown-key sig "Signature enforcement: the lab module signed with scripts/sign-file and a fresh key the kernel does not know (EKEYREJECTED)." "kmsg-{S}-sig-unknown-key.txt"
step sig-unknown-key e129 "vmtop load --memsize 8 --module /lab/signed.ko --json"
want sig-unknown-key '^Loading of module with unavailable key is rejected'

case_ i686-vm-struct-failed i386 "32-bit: plain vmalloc of 300 MiB in a 120 MiB vmalloc area (the article's module, oom_safe=N): no free range that big." "kmsg-i686-vm-struct-failed.txt"
step i686-vm-struct-failed e12 "$(insert memsize=300 oom_safe=N)"
want i686-vm-struct-failed 'vmap allocation for size [0-9]+ failed: use vmalloc=<size> to increase size'
want i686-vm-struct-failed 'vmalloc error: size 314572800, vm_struct allocation failed'

case_ vmallocinfo-i686 i386 "32-bit: /proc/vmallocinfo with the module holding 32 MiB."
step vmallocinfo-i686 ok "vmtop load --memsize 32 --json"
step vmallocinfo-i686 ok "@vmallocinfo-i686.txt cat /proc/vmallocinfo"
step vmallocinfo-i686 ok "vmtop unload"

case_ areas-i686 i386 "32-bit: /proc/vmallocinfo before and with the module holding 100 MiB of the 120 MiB window (safe mode), and the figures of the kernel-memory line."
step areas-i686 ok "@vmallocinfo-i686-idle.txt cat /proc/vmallocinfo"
step areas-i686 ok "vmtop load --memsize 100 --json"
step areas-i686 ok "@vmallocinfo-i686-100m.txt cat /proc/vmallocinfo"
step areas-i686 ok "@meminfo-i686-100m.txt cat /proc/meminfo"
step areas-i686 ok "@pressure-memory-i686.txt cat /proc/pressure/memory"
step areas-i686 ok "vmtop unload"

# The kernel's own record of an address-space failure (vmalloc:alloc_vmap_area, 6.2+): a
# build of the module with 1.5 GiB of .bss, more than the x86_64 module area (~1 GiB) holds
# and less than the VM's RAM, so that the kernel's check of total pages passes and the
# module area is what is missing. The event is recorded in an instance of the capture's own
# (the lab's /init mounts tracefs since; the mount here stacks a second one, harmless).
case_ module-area x86-next-2g "The module built with 1.5 GiB of .bss (more than the module area holds, less than RAM), loaded with vmtop-kmod while instances/capture records vmalloc:alloc_vmap_area failures (ENOMEM); then the instance's trace." "kmsg-{S}-module-area.txt"
TI=/sys/kernel/tracing/instances/capture
step module-area ok "mount -t tracefs nodev /sys/kernel/tracing; mkdir $TI && echo 'failed != 0' > $TI/events/vmalloc/alloc_vmap_area/filter && echo 1 > $TI/events/vmalloc/alloc_vmap_area/enable"
step module-area e12 "vmtop-kmod insert /lab/bigbss.ko memsize=8"
step module-area ok "@trace-{S}-module-area.txt cat $TI/trace"
step module-area ok "echo 0 > $TI/events/vmalloc/alloc_vmap_area/enable && rmdir $TI"
want module-area 'execmem: unable to allocate memory'

# --- The boots -------------------------------------------------------------------------
declare -A BOOT_ARGS=(
	[x86]="--mem 1024 --cpus 2"
	[lockdown]="--mem 1024 --cpus 2 --append lockdown=integrity"
	[sig]="--mem 1024 --cpus 2 --append module.sig_enforce=1"
	[i386]="--arch i386 --mem 1024 --cpus 2"
	[x86-next]="--mem 1024 --cpus 2"
	[x86-next-2g]="--mem 2048 --cpus 2"
)
BOOTS=(x86 lockdown sig i386 x86-next x86-next-2g)
# The cases whose kernel text differs between 6.1 and the newer x86_64 lab kernel (6.12),
# run again on it (boot x86-next); there the "other kernel" is 6.1.
# (vermagic is not among them: 6.12 refuses a 6.1 build for the size of its struct module
# before it looks at symbol versions or the version magic.)
NEXT=(alloc exceeds-total-unsafe fragment oom-unsafe other-kernel areas-100)

if [ "${1:-}" = --list ]; then
	for c in "${ORDER[@]}"; do printf '%-22s boot %-8s %s\n' "$c" "${BOOT[$c]}" "${WHAT[$c]}"; done
	echo "boot x86-next runs ${NEXT[*]} again on the newer x86_64 kernel"
	exit 0
fi
declare -A WANTED
if [ $# -eq 0 ]; then
	for c in "${ORDER[@]}"; do WANTED[$c]=1; done
else
	for a; do
		found=
		for c in "${ORDER[@]}"; do
			if [ "$c" = "$a" ] || [ "${BOOT[$c]}" = "$a" ]; then WANTED[$c]=1; found=1; fi
		done
		[ "$a" != x86-next ] || { WANTED[x86-next]=1; found=1; }
		[ -n "$found" ] || die "no case or boot named '$a' (--list shows them)"
	done
fi

# --- Host side: the kernels, the modules the cases load --------------------------------
[ -x "$vmtop" ] || die "$vmtop is missing: build it (cargo build --release) or set VMTOP"
for t in openssl objcopy; do command -v $t >/dev/null || die "$t is missing (apt-get install openssl binutils)"; done
kernels=$("$vmtop" lab --list-kernels) || die "vmtop lab --list-kernels failed: run make lab"
# The first kernel of ARCH whose release matches the extended regex RE: "release<TAB>headers".
pick() { awk -F'\t' -v a="$1" -v re="$2" '$2 == a && $1 ~ re { print $1 "\t" $4; exit }' <<<"$kernels"; }
IFS=$'\t' read -r R61 K61 < <(pick x86_64 '^6\.1[.-]') || die "no 6.1 x86_64 lab kernel: run make lab"
ROTHER= KOTHER=
IFS=$'\t' read -r ROTHER KOTHER < <(pick x86_64 "^(6\.1[0-9]|[7-9]\.)") || true
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

build() { # DIR KDIR: the module from kmod-src, built in DIR against KDIR
	mkdir -p "$1"
	cp kmod-src/alloc_large_mem.c kmod-src/Kbuild "$1/"
	make -s -C "$2" M="$(realpath "$1")" modules >"$1/build.log" 2>&1 ||
		{ cat "$1/build.log" >&2; die "building the module against $2 failed"; }
}
# A copy of the module with the CRC of SYMBOL in its __versions section changed (entries
# of struct modversion_info: an 8-byte CRC, then a 56-byte name).
patch_crc() { # IN OUT SYMBOL
	local v=$tmp/versions i=0 at= name b
	objcopy --dump-section __versions="$v" "$1"
	while [ $((i * 64)) -lt "$(stat -c %s "$v")" ]; do
		name=$(dd if="$v" bs=1 skip=$((i * 64 + 8)) count=56 2>/dev/null | tr -d '\0')
		[ "$name" = "$3" ] && { at=$((i * 64)); break; }
		i=$((i + 1))
	done
	[ -n "$at" ] || die "no $3 in the __versions of $1"
	b=$(od -An -tu1 -j "$at" -N1 "$v" | tr -d ' ')
	printf "\\$(printf '%03o' $((b ^ 255)))" | dd of="$v" bs=1 seek="$at" conv=notrunc 2>/dev/null
	objcopy --update-section __versions="$v" "$1" "$2"
}

# --- Guest side ------------------------------------------------------------------------
# Each case is framed by records written to /dev/kmsg; one read of the log at the end, so
# nothing is missed and nothing of another case slips in.
PRELUDE='
mi() { awk -v k="$1:" "\$1 == k { print \$2 }" /proc/meminfo; }
mark() { echo "vmtop-capture: $*" > /dev/kmsg; }
report() { # CASE STEP RC OUTPUT
	e=$(printf "%s\n" "$4" | sed -n "s/^vmtop-kmod-errno=//p; s/^  \"errno\": \([0-9]*\),*$/\1/p" | head -n 1)
	m=$(printf "%s\n" "$4" | sed -n "s/^  \"error\": \"\(.*\)\",*$/\1/p" | head -n 1)
	echo "STEP $1 $2 rc=$3 errno=${e:-none} error=$m"
	printf "%s\n" "$4" | sed "s/^/OUT $1 $2:/"
}
echo "VAR release=$(uname -r)"
echo "VAR cmdline=$(cat /proc/cmdline)"
echo "VAR cpus=$(grep -c ^processor /proc/cpuinfo)"
echo "VAR memtotal=$(mi MemTotal)"
echo "VAR vmalloctotal=$(mi VmallocTotal)"
echo "VAR lockdown=$(cat /sys/kernel/security/lockdown 2>/dev/null || echo absent)"
echo "VAR sig_enforce=$(cat /sys/module/module/parameters/sig_enforce 2>/dev/null || echo absent)"
echo "VAR efi=$([ -d /sys/firmware/efi ] && echo yes || echo no)"
'

errno_name() {
	case $1 in
	1) echo EPERM ;; 8) echo ENOEXEC ;; 12) echo ENOMEM ;; 22) echo EINVAL ;; 129) echo EKEYREJECTED ;;
	*) echo "errno $1" ;;
	esac
}

start=$(date +%s)
boots_run=0
for boot in "${BOOTS[@]}"; do
	cases=()
	# The boot's kernel ("self") and the other x86_64 one, whose build it is given.
	KSELF=$K61 KOTH=$KOTHER ROTH=$ROTHER
	if [ "$boot" = x86-next-2g ]; then
		KSELF=$KOTHER KOTH=$K61 ROTH=$R61
		[ -n "$ROTHER" ] || die "boot x86-next-2g needs a second x86_64 lab kernel (6.12: make lab)"
	fi
	if [ "$boot" = x86-next ]; then
		KSELF=$KOTHER KOTH=$K61 ROTH=$R61
		[ -n "$ROTHER" ] || { [ $# -eq 0 ] && continue; die "boot x86-next needs a second x86_64 lab kernel (6.12: make lab)"; }
		for c in "${NEXT[@]}"; do
			[ -n "${WANTED[$c]:-}${WANTED[x86-next]:-}" ] && cases+=("$c")
		done
	else
		for c in "${ORDER[@]}"; do
			[ "${BOOT[$c]}" = "$boot" ] && [ -n "${WANTED[$c]:-}" ] && cases+=("$c")
		done
	fi
	[ ${#cases[@]} -gt 0 ] || continue
	args=(${BOOT_ARGS[$boot]})
	case $boot in
	i386) ;;
	x86-next | x86-next-2g) args+=(--kernel-release "$ROTHER") ;;
	*) args+=(--kernel-release "$R61") ;;
	esac
	# What the cases of this boot load besides the lab module.
	kit=$tmp/kit-$boot
	mkdir -p "$kit"
	for c in "${cases[@]}"; do
		case $c in
		other-kernel | vermagic)
			[ -n "$ROTHER" ] || die "case $c needs a second x86_64 lab kernel (6.12: make lab)"
			[ -f "$kit/other-kernel.ko" ] || {
				build "$kit/m-other" "$KOTH"
				cp "$kit/m-other/alloc_large_mem.ko" "$kit/other-kernel.ko"
				objcopy --set-section-flags __versions=contents,readonly \
					"$kit/other-kernel.ko" "$kit/other-kernel-noversions.ko"
				args+=(--copy "$kit/other-kernel.ko:/lab/other-kernel.ko"
					--copy "$kit/other-kernel-noversions.ko:/lab/other-kernel-noversions.ko")
			}
			;;
		module-area)
			mkdir -p "$kit/m-bigbss"
			cp kmod-src/alloc_large_mem.c kmod-src/Kbuild "$kit/m-bigbss/"
			printf '\n/* capture-fixtures.sh: more .bss than the module area holds. */\nstatic char capture_bss[1536UL << 20] __used;\n' >>"$kit/m-bigbss/alloc_large_mem.c"
			make -s -C "$KSELF" M="$(realpath "$kit/m-bigbss")" modules >"$kit/m-bigbss/build.log" 2>&1 ||
				{ cat "$kit/m-bigbss/build.log" >&2; die "building the .bss module against $KSELF failed"; }
			args+=(--copy "$kit/m-bigbss/alloc_large_mem.ko:/lab/bigbss.ko")
			;;
		symbol-version)
			[ -d "$kit/m-self" ] || build "$kit/m-self" "$KSELF"
			patch_crc "$kit/m-self/alloc_large_mem.ko" "$kit/symbol-crc.ko" vmalloc
			args+=(--copy "$kit/symbol-crc.ko:/lab/symbol-crc.ko")
			;;
		lockdown | sig-unknown-key)
			[ -f "$kit/signed.ko" ] || {
				[ -d "$kit/m-self" ] || build "$kit/m-self" "$KSELF"
				openssl req -new -nodes -utf8 -sha256 -days 1 -batch -x509 \
					-subj "/CN=vmtop capture key, not enrolled" -newkey rsa:2048 \
					-outform PEM -out "$kit/key.pem" -keyout "$kit/key.pem" 2>/dev/null
				"$KSELF/scripts/sign-file" sha256 "$kit/key.pem" "$kit/key.pem" \
					"$kit/m-self/alloc_large_mem.ko" "$kit/signed.ko"
				args+=(--copy "$kit/signed.ko:/lab/signed.ko")
			}
			;;
		esac
	done
	script=$PRELUDE
	for c in "${cases[@]}"; do
		script+="mark \"begin $c\""$'\n'
		i=0
		while IFS= read -r line; do
			[ -n "$line" ] || continue
			i=$((i + 1))
			cmd=${line#* }
			if [ "${cmd#@}" != "$cmd" ]; then
				cmd=${cmd#@* }
				script+="out=\$($cmd 2>/dev/null); report $c $i \$? \"\$out\""$'\n'
			else
				script+="out=\$($cmd 2>&1); report $c $i \$? \"\$out\""$'\n'
			fi
		done <<<"${STEPS[$c]}"
		# Records printed after the command returned (the OOM reaper) belong to it. A module
		# a failed case left loaded is removed, so the next case starts as the first did.
		script+="sleep 1; mark \"end $c\""$'\n'
		script+="[ ! -d /sys/module/alloc_large_mem ] || { vmtop-kmod remove alloc_large_mem; echo \"LEFT $c\"; }"$'\n'
	done
	script+='(cat /dev/kmsg & p=$!; sleep 2; kill $p) | sed "s/^/REC:/"'$'\n'
	echo "capture-fixtures: boot $boot (${cases[*]})" >&2
	log=$tmp/$boot.out
	"$vmtop" lab "${args[@]}" --exec "$script" >"$log" ||
		{ cat "$log" >&2; die "the $boot boot failed (vmtop lab ${args[*]})"; }
	boots_run=$((boots_run + 1))
	var() { sed -n "s/^VAR $1=//p" "$log" | head -n 1; }
	release=$(var release)
	[ -n "$release" ] || { cat "$log" >&2; die "the $boot boot printed no kernel release"; }
	series=$(sed -E 's/^([0-9]+\.[0-9]+).*/\1/' <<<"$release")
	arch=x86_64
	[ "$boot" = i386 ] && arch=i386
	vm="$(awk '{ print $1 }' <<<"${BOOT_ARGS[$boot]#*--mem }") MiB, $(var cpus) CPUs (MemTotal $(var memtotal) kB, VmallocTotal $(var vmalloctotal) kB)"
	state="lockdown \"$(var lockdown)\", sig_enforce $(var sig_enforce), EFI $(var efi)"
	for c in "${cases[@]}"; do
		# The commands as run, each with what it returned.
		cmds=() files=() i=0 bad=
		while IFS= read -r line; do
			[ -n "$line" ] || continue
			i=$((i + 1))
			expect=${line%% *} cmd=${line#* }
			res=$(grep -m1 "^STEP $c $i " "$log" || true)
			[ -n "$res" ] || { bad="step $i ($cmd) did not run"; break; }
			rc=$(sed -n 's/.* rc=\([0-9]*\) .*/\1/p' <<<"$res")
			en=$(sed -n 's/.* errno=\([^ ]*\) .*/\1/p' <<<"$res")
			msg=$(sed -n 's/.* error=//p' <<<"$res")
			case $expect in
			ok) [ "$rc" = 0 ] || bad="step $i ($cmd) exited $rc: $msg" ;;
			e*) [ "$en" = "${expect#e}" ] || bad="step $i ($cmd): errno $en, not ${expect#e}" ;;
			esac
			[ -z "$bad" ] || break
			if [ "${cmd#@}" != "$cmd" ]; then
				f=${cmd%% *} f=${f#@} cmd=${cmd#@* }
				files+=("$i ${f//\{S\}/$series}")
			fi
			r="exit status $rc"
			if [ "$en" != none ]; then
				r+=", errno $en"
				[ -n "$msg" ] || r+=" ($(errno_name "$en"))"
			fi
			[ -z "$msg" ] || r+=": $msg"
			cmds+=("$cmd ($r)")
		done <<<"${STEPS[$c]}"
		! grep -q "^LEFT $c\$" "$log" || bad=${bad:-"it left the module loaded"}
		[ -z "$bad" ] || { grep "^OUT $c " "$log" >&2 || true; fail "case $c: $bad"; continue; }
		what=${WHAT[$c]//\{OTHER\}/$ROTH}
		header() {
			echo "# Captured in the lab by $me (case $c): Debian $release ($arch), $vm;"
			echo "# kernel command line \"$(var cmdline)\"; $state."
			echo "# $what"
			local n=1 x
			for x in "${cmds[@]}"; do echo "# $n. $x"; n=$((n + 1)); done
		}
		if [ -n "${FILE[$c]}" ]; then
			recs=$tmp/$c.recs
			awk -v n="$c" '
				/^REC:/ {
					r = substr($0, 5)
					if (r !~ /^[0-9]+,[0-9]+,[0-9]+,[^;]*;/) next
					t = r; sub(/^[^;]*;/, "", t)
					if (t == "vmtop-capture: begin " n) { on = 1; b = 1; next }
					if (t == "vmtop-capture: end " n) { on = 0; e = 1; next }
					if (t ~ /^vmtop-capture: /) next
					if (on) print r
				}
				END { exit !(b && e) }' "$log" >"$recs" ||
				{ fail "case $c: its records are not all in the log (lost from the ring buffer?)"; continue; }
			missing=
			sed 's/^[^;]*;//' "$recs" >"$recs.text"
			while IFS= read -r re; do
				[ -n "$re" ] || continue
				grep -Eq -- "$re" "$recs.text" || missing+=" '$re'"
			done <<<"${WANTS[$c]:-}"
			[ -z "$missing" ] || {
				cat "$recs" >&2
				fail "case $c: the kernel printed no line matching$missing"
				continue
			}
			out=$out_dir/${FILE[$c]//\{S\}/$series}
			{
				header
				echo "# /dev/kmsg records (PRI,SEQ,TS_USEC,FLAGS;text) printed while they ran. Lines starting with # are not records."
				cat "$recs"
			} >"$out"
			echo "wrote $out ($(wc -l <"$recs") records)" >&2
		fi
		for f in "${files[@]}"; do
			n=${f%% *} out=$out_dir/${f#* }
			body=$(sed -n "s/^OUT $c $n://p" "$log")
			[ -n "$body" ] || { fail "case $c: step $n printed nothing"; continue; }
			{
				header
				echo "# The output of command $n. Lines starting with # are not part of it."
				printf '%s\n' "$body"
			} >"$out"
			echo "wrote $out ($(wc -l <<<"$body") lines)" >&2
		done
	done
done
echo "capture-fixtures: $boots_run boots, $(($(date +%s) - start)) s" >&2
[ "$failed" = 0 ] || die "$failed cases failed (their fixtures were left as they were)"
