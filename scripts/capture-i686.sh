#!/bin/sh
# The 32-bit lab's fixtures (kmsg-i686-vm-struct-failed.txt, vmallocinfo-i686.txt): the i386
# boot of scripts/capture-fixtures.sh, which captures every fixture.
#   scripts/capture-i686.sh [VMTOP]
[ $# -gt 0 ] && export VMTOP="$1"
exec "$(dirname "$0")/capture-fixtures.sh" i386
