#!/bin/bash
# Can this user become root, as the Makefile's recipes that load or install the module do
# (through sudo when not root)? Run before any of that work starts.
#
#   scripts/check-sudo.sh WHAT WHY      e.g. scripts/check-sudo.sh "make run" "to load the module"
#
# Exits 0 when root, or when sudo lets this user in (sudo asks for the password on the
# terminal if it must, and remembers it for the recipe). Else prints one line, what is wrong
# and the fix, and exits 1.
set -uo pipefail

what=${1:?usage: $0 WHAT WHY}
why=${2:?usage: $0 WHAT WHY}
[ "$(id -u)" = 0 ] && exit 0
user=$(id -un)
# Debian's and Ubuntu's /etc/sudoers let the group sudo in; the new group counts from the
# next login.
grant="as root: usermod -aG sudo $user, then log in again"

if ! command -v sudo >/dev/null; then
	echo "$what needs root $why, and sudo is not installed: run $what as root, or install sudo and let $user use it (as root: apt-get install sudo && usermod -aG sudo $user, then log in again)" >&2
	exit 1
fi
# No password needed (NOPASSWD, or remembered from a moment ago): nothing to ask.
sudo -n true 2>/dev/null && exit 0
# -v asks for the password on the terminal (/dev/tty, not stdout or stderr), and refuses a
# user the sudoers file does not name without asking. Its last line is the reason.
if err=$(sudo -v 2>&1 >/dev/null); then
	exit 0
fi
reason=$(printf '%s\n' "$err" | awk 'NF { l = $0 } END { print l }')
reason=${reason#sudo: }
case "$reason" in
*"may not run sudo"* | *"not in the sudoers file"* | *"not allowed to run sudo"*)
	fix="ask an administrator to let you use sudo ($grant), or run $what as root" ;;
*"password is required"* | *"terminal is required"*)
	fix="run $what in a terminal, where sudo can ask for your password, or run it as root" ;;
*)
	fix="run $what again, or run it as root" ;;
esac
echo "$what needs root $why, and sudo refused $user (\"${reason:-sudo -v failed}\"): $fix" >&2
exit 1
