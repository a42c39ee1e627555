#!/usr/bin/env bash
# Every path the documentation names must exist: `make check` runs this.
#   scripts/check-doc-paths.sh [FILE.md ...]   (default: README.md, ARCHITECTURE.md, docs/*.md,
#                                              kmod-src/README.md, patches/README.md)
# Checked: relative Markdown links ([text](path#anchor), resolved from the file's folder,
# with the anchor checked against the target's headings as GitHub makes them), and
# backticked repository paths (`tui/src/...`, `tests/...`, `scripts/...`, ...; a trailing
# :LINE is ignored, a * must match at least one file). ARCHITECTURE.md's code map names files
# under tui/src/ without that prefix, so there every backticked word that looks like a path
# (with a / or a file extension) must exist from the top or from tui/src/. Build outputs
# (build/, target/, *.ko) are not checked. One line per broken path; exit status 1 if any.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ $# -gt 0 ]; then files=("$@"); else
	files=()
	for f in README.md ARCHITECTURE.md docs/*.md kmod-src/README.md patches/README.md; do
		[ -e "$f" ] && files+=("$f")
	done
fi

# GitHub's anchors for the headings of a Markdown file, one per line.
anchors() {
	awk '/^```/ { code = !code; next } !code && /^#+ / {
		h = $0; sub(/^#+ +/, "", h); h = tolower(h)
		gsub(/[^a-z0-9 _-]/, "", h); gsub(/ /, "-", h); print h }' "$1"
}

bad=0
fail() { echo "$1: $2" >&2; bad=1; }

for f in "${files[@]}"; do
	dir=$(dirname "$f")
	# Markdown links outside code blocks (fenced blocks are skipped).
	while IFS= read -r target; do
		case "$target" in http://* | https://* | mailto:*) continue ;; esac
		path=${target%%#*}
		anchor=; [[ "$target" == *"#"* ]] && anchor=${target#*#}
		if [ -z "$path" ]; then dest=$f; else dest=$dir/$path; fi
		if [ ! -e "$dest" ]; then fail "$f" "link to a missing file: $target"; continue; fi
		if [ -n "$anchor" ] && [[ "$dest" == *.md ]] && ! anchors "$dest" | grep -qxF -- "$anchor"; then
			fail "$f" "link to a missing heading: $target"
		fi
	done < <(awk '/^```/ { code = !code; next } !code' "$f" | grep -o '\](\([^)]*\))' | sed 's/^](\(.*\))$/\1/')
	# Backticked repository paths.
	while IFS= read -r p; do
		p=${p%%:[0-9]*}
		[[ "$p" == *.ko ]] && continue
		[[ "$p" == build/* || "$p" == target/* ]] && continue
		if [[ "$p" == *"*"* ]]; then
			compgen -G "$p" >/dev/null || compgen -G "tui/src/$p" >/dev/null ||
				fail "$f" "no file matches \`$p\`"
		elif [ ! -e "$p" ] && ! { [ "$f" = ARCHITECTURE.md ] && [ -e "tui/src/$p" ]; }; then
			fail "$f" "missing path \`$p\`"
		fi
	done < <(grep -o '`[^` ]*`' "$f" | tr -d '`' | if [ "$f" = ARCHITECTURE.md ]; then
		grep -E '^[A-Za-z0-9_.][A-Za-z0-9_./*-]*(:[0-9]+(-[0-9]+)?)?$' | grep -E '/|\.(rs|md|sh|c|toml|txt|snap|py)(:|$)'
	else
		grep -E '^(tui|tests|scripts|kmod-src|docs|patches|assets|lessons|\.ci)/[A-Za-z0-9_./*-]*(:[0-9]+(-[0-9]+)?)?$|^(Makefile|Cargo\.toml|README\.md|ARCHITECTURE\.md)$'
	fi)
done
exit $bad
