# vmtop: two commands do all set-up on a fresh Debian/Ubuntu machine.
#   make run    install what is missing, build, run the dashboard (on this machine's kernel if
#               it can load modules, else in the lab VM with one kernel and the busybox root)
#   make test   the same set-up plus everything the tests need (make lab), then every test
#   make deb    the Debian packages vmtop and alloc-large-mem-dkms, in build/deb
SHELL := /bin/bash
CARGO ?= cargo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PREFIX ?= /usr/local
KDIR ?= /lib/modules/$(shell uname -r)/build
LAB_DIR ?= $(CURDIR)/build/lab
# make install: DKMS=auto puts the module in through DKMS when dkms is installed (it rebuilds
# it for every new kernel, and signs it with its Machine Owner Key), else into updates/ with
# depmod; DKMS=yes insists on DKMS, DKMS=no always takes updates/.
DKMS ?= auto
DKMS_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' kmod-src/dkms.conf)
# Before a recipe that needs root runs $(SUDO): one line saying why this user cannot become
# root, and the fix (sudo missing, the user not in sudoers, no terminal for the password).
CHECK_SUDO := $(CURDIR)/scripts/check-sudo.sh
# Linked dynamically against the distribution's glibc and libkmod, as packagers expect:
# shared library pages are shared with every other process (judged by PSS, tests/bench.sh).
RELEASE := --release --locked
VMTOP := $(CURDIR)/target/release/vmtop
# `make test` builds vmtop with its test hooks (VMTOP_TEST_PANIC, a worker-thread panic for the
# dashboard's host test); `make vmtop` and `make install` build it without them.
TEST_FEATURES := --features vmtop/test-hooks
export VMTOP_LAB_DIR := $(LAB_DIR)
# Where make deb puts the packages (the lab test once::packages installs them).
DEB_DIR := $(CURDIR)/build/deb
export VMTOP_DEB_DIR := $(DEB_DIR)

# Debian packages: building vmtop (linked with libkmod; its bindings are kept in
# patches/kmod-sys, so no libclang), the lab VM, the module
# (dwarves: pahole, which kernels with BTF for modules, like Debian's 6.12, run at link time).
BUILD_DEPS := build-essential pkg-config libkmod-dev kmod dwarves
# dkms, xz-utils, zstd: the installed-module lab test (DKMS, compression as distributions do).
# groff-base, openssl, util-linux (setpriv): the man-page, signing and privilege tests.
# gcc-multilib: linking vmtop for i686 (the 32-bit lab; its libkmod comes from the lab's sysroot).
# tmux, htop, btop: the dashboard tests and `make bench` (vmtop beside htop and btop).
# debootstrap: the lab's Debian root (scripts/build-lab-root.sh).
# chromium: the report page opened in a real browser (tests/host/export.rs).
LAB_DEPS := debootstrap qemu-system-x86 busybox-static cpio tmux htop btop dkms xz-utils zstd groff-base openssl util-linux gcc-multilib chromium
# What make run's lab needs beside BUILD_DEPS: QEMU and the busybox root's static busybox.
RUN_LAB_DEPS := qemu-system-x86 busybox-static
# make deb: Debian's own tools (dpkg-buildpackage, debhelper with dh-dkms) and lintian.
DEB_DEPS := dpkg-dev debhelper dh-dkms lintian

# Lab kernels: Debian's kernel from the host's own apt sources (6.1 on bookworm) and the
# one from its backports (6.12), each fetched by scripts/fetch-lab-kernel.sh.
LAB_SUITES ?= host backports
# LAB_ARCH: amd64 and i386 by default (`make lab LAB_ARCH=i386`: the 32-bit lab only, where
# the vmalloc address space is the limit; scripts/fetch-lab-i386.sh, and vmtop for i686).
LAB_ARCH ?= amd64 i386
I686 := i686-unknown-linux-gnu
I686_SYSROOT = $(LAB_DIR)/i386/sysroot
I686_LIBS = $(I686_SYSROOT)/usr/lib/i386-linux-gnu:$(I686_SYSROOT)/lib/i386-linux-gnu
VMTOP_I686 := $(CURDIR)/target/$(I686)/release/vmtop
# The lab tests (tests/lab, the cargo test target `lab`, which plain `cargo test` leaves out):
# `make test` runs them once per 64-bit lab kernel, at most TEST_THREADS VMs at once (these
# machines have two cores). Those under `once::` choose their own kernels (the 32-bit lab, the
# Debian root on 6.1) and run with the first kernel only. LAB_FILTER: only the lab tests whose
# names contain it (cargo's test filter), e.g. `make test LAB_FILTER=engine::`.
TEST_THREADS ?= 2
LAB_FILTER ?=
# What cargo's test harness reports: the number of tests that passed, summed over its
# "test result:" lines (one per test binary).
PASSED = awk '/^test result:/ { for (i = 1; i < NF; i++) if ($$(i + 1) ~ /^passed/) n += $$i } END { print n + 0 }'
# The lab kernels in LAB_DIR as "RELEASE<TAB>HEADERS<TAB>ARCH" lines, newest first (vmtop's
# own list); the per-kernel test runs use the 64-bit ones (tests/lab/once/lab32.rs boots the
# 32-bit lab).
LAB_KERNELS = $(VMTOP) lab --list-kernels | awk -F'\t' -v d="$(LAB_DIR)/" 'index($$3, d) == 1 { print $$1 "\t" $$4 "\t" $$2 }'

.PHONY: all run run-build run-lab test deps lab-deps run-lab-deps deb-deps lab module vmtop vmtop-i686 deb install uninstall clean check bench sudo-check

all: vmtop

# $(call install-missing,PACKAGES): installs only those not installed; apt-get runs through
# sudo when not root.
define install-missing
@missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then echo "installing: $$missing"; \
	  $(CHECK_SUDO) "make $(or $(MAKECMDGOALS),all)" "to install $$(echo $$missing)" && \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; fi
endef

deps:
	$(call install-missing,$(BUILD_DEPS))
	@command -v cargo >/dev/null || { echo "cargo not found: install Rust from https://rustup.rs (or apt-get install cargo)" >&2; exit 1; }

lab-deps:
	$(call install-missing,$(LAB_DEPS))

run-lab-deps:
	$(call install-missing,$(RUN_LAB_DEPS))

deb-deps:
	$(call install-missing,$(DEB_DEPS))

# The lab kernels: Debian's kernels and headers, downloaded and unpacked (not installed).
lab: lab-deps vmtop
	@if echo " $(LAB_ARCH) " | grep -q ' amd64 '; then \
	  for suite in $(LAB_SUITES); do scripts/fetch-lab-kernel.sh $(LAB_DIR) $$suite || exit 1; done; fi
	@if echo " $(LAB_ARCH) " | grep -q ' amd64 '; then $(SUDO) scripts/build-lab-root.sh $(LAB_DIR); fi
	@if echo " $(LAB_ARCH) " | grep -q ' i386 '; then \
	  scripts/fetch-lab-i386.sh $(LAB_DIR) && $(MAKE) --no-print-directory vmtop-i686; fi

# vmtop and vmtop-kmod for the 32-bit lab, linked against the lab's i386 libkmod.
vmtop-i686:
	@rustup target list --installed 2>/dev/null | grep -qx $(I686) || rustup target add $(I686)
	CARGO_TARGET_I686_UNKNOWN_LINUX_GNU_RUSTFLAGS="-L native=$(I686_SYSROOT)/usr/lib/i386-linux-gnu -L native=$(I686_SYSROOT)/lib/i386-linux-gnu -C link-arg=-Wl,-rpath-link,$(I686_LIBS)" \
	  $(CARGO) build $(RELEASE) --target $(I686)

# Without cargo, binaries already in target/release are used as they are: the lab's Debian
# root (`vmtop lab --root debian`) puts the host-built ones in its copy of the checkout.
vmtop:
	@if ! command -v $(CARGO) >/dev/null && [ -x $(VMTOP) ] && [ -x $(VMTOP)-kmod ]; then \
	  echo "cargo not found: using the prebuilt $(VMTOP) and $(VMTOP)-kmod"; \
	else $(MAKE) --no-print-directory deps && $(CARGO) build $(RELEASE); fi

# The module for this machine's kernel (needs its headers).
module:
	$(MAKE) -C kmod-src KDIR=$(KDIR)

# make run's build: the `quick` profile (Cargo.toml: the first build of a fresh clone a quarter
# faster), target/quick/vmtop; without cargo, the prebuilt target/release ones, as make vmtop.
QUICK_VMTOP := $(CURDIR)/target/quick/vmtop
RUN_VMTOP = $$(if command -v $(CARGO) >/dev/null; then echo $(QUICK_VMTOP); else echo $(VMTOP); fi)
run-build:
	@if ! command -v $(CARGO) >/dev/null && [ -x $(VMTOP) ] && [ -x $(VMTOP)-kmod ]; then \
	  echo "cargo not found: using the prebuilt $(VMTOP) and $(VMTOP)-kmod"; \
	else $(MAKE) --no-print-directory deps && $(CARGO) build --profile quick --locked; fi

# make run starts only what the dashboard needs. Host can load modules and has headers: run
# here (as root), no lab; can load modules but has no headers: say which package, or the lab;
# cannot load modules: the lab with one kernel (the first of LAB_SUITES, from the host's apt
# sources), fetched while vmtop builds, and the busybox root. make lab fetches the rest for the
# tests (the second kernel, the Debian root, the i686 build).
run:
	@if [ -e /proc/modules ]; then \
	  $(MAKE) --no-print-directory run-build || exit 1; \
	  bin=$(RUN_VMTOP); \
	  if [ -f "$(KDIR)/Makefile" ]; then \
	    $(CHECK_SUDO) "make run" "to load the module" && $(MAKE) --no-print-directory module && $(SUDO) $$bin; \
	  else \
	    echo "no kernel headers for $$(uname -r) at $(KDIR): install them (sudo apt-get install linux-headers-$$(uname -r)) and run make run again, or run the dashboard in the lab VM: make run-lab && $$bin lab" >&2; \
	    exit 1; \
	  fi; \
	else \
	  echo "this kernel cannot load modules: the dashboard runs in the lab VM (its kernel is fetched while vmtop builds)"; \
	  $(MAKE) --no-print-directory run-lab-deps || exit 1; \
	  if command -v $(CARGO) >/dev/null; then $(MAKE) --no-print-directory deps || exit 1; fi; \
	  mkdir -p build; \
	  $(MAKE) --no-print-directory run-lab >build/run-lab.log 2>&1 & fetch=$$!; \
	  $(MAKE) --no-print-directory run-build; built=$$?; \
	  wait $$fetch; fetched=$$?; cat build/run-lab.log; \
	  [ $$built = 0 ] || exit 1; \
	  [ $$fetched = 0 ] || { echo "make run: fetching the lab kernel failed (build/run-lab.log, above)" >&2; exit 1; }; \
	  $(RUN_VMTOP) lab; \
	fi

# The lab make run uses: one lab kernel (scripts/fetch-lab-kernel.sh skips one it already has);
# QEMU and a static busybox come from run-lab-deps.
run-lab: run-lab-deps
	scripts/fetch-lab-kernel.sh $(LAB_DIR) $(firstword $(LAB_SUITES))

# --test lab: the lab tests are not among --all-targets (test = false in tui/Cargo.toml).
# Formatting, lints, and every path and link the docs name (scripts/check-doc-paths.sh).
check:
	scripts/check-doc-paths.sh
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets --test lab --locked -- -D warnings

# The module built W=1 for every lab kernel (no warning allowed: the compiler's "warning:" and
# modpost's "WARNING:"); the unit, snapshot and host tests (what plain `cargo test` runs); then
# the lab tests on each 64-bit lab kernel (each test boots the VM). Fails when any of these ran
# no test at all. The packages (make deb, before the test build) are installed, used, upgraded
# and purged by the lab test once::packages (VMTOP_DEB_DIR).
test: lab check deb
	$(CARGO) build $(RELEASE) $(TEST_FEATURES)
	@mkdir -p build && $(LAB_KERNELS) > build/lab-kernels.txt && [ -s build/lab-kernels.txt ] || \
	  { echo "no lab kernel in $(LAB_DIR): run make lab" >&2; exit 1; }
	@set -o pipefail; while IFS=$$'\t' read -r rel kdir arch; do \
	  echo "== module build (W=1) for $$rel"; \
	  karch=; [ "$$arch" = i386 ] && karch=ARCH=x86; \
	  $(MAKE) --no-print-directory -C kmod-src KDIR=$$kdir $$karch W=1 2>&1 | tee build/module-build.log || exit 1; \
	  ! grep -qi 'warning:' build/module-build.log || { echo "module build for $$rel has warnings" >&2; exit 1; }; \
	  $(MAKE) --no-print-directory -C kmod-src clean >/dev/null; \
	done < build/lab-kernels.txt
	@set -o pipefail; echo "== unit, snapshot and host tests"; \
	$(CARGO) test $(RELEASE) $(TEST_FEATURES) --workspace 2>&1 | tee build/test-host.log || exit 1; \
	n=$$($(PASSED) build/test-host.log); echo "== $$n unit, snapshot and host tests passed"; \
	[ "$$n" -gt 0 ] || { echo "make test: cargo test ran no unit or host test" >&2; exit 1; }
	@set -o pipefail; kernels=0; skip=; for rel in $$(awk -F'\t' '$$3 == "x86_64" { print $$1 }' build/lab-kernels.txt); do \
	  start=$$SECONDS; echo "== lab tests on $$rel$${skip:+ (without once::)}"; \
	  VMTOP_LAB_KERNEL=$$rel $(CARGO) test $(RELEASE) $(TEST_FEATURES) --test lab -- --test-threads=$(TEST_THREADS) $$skip $(LAB_FILTER) 2>&1 \
	    | tee build/test-lab-$$rel.log || exit 1; \
	  n=$$($(PASSED) build/test-lab-$$rel.log); \
	  echo "== $$n lab tests passed on $$rel in $$((SECONDS - start)) s"; \
	  [ "$$n" -gt 0 ] || { echo "make test: no lab test ran on $$rel$(if $(LAB_FILTER), (LAB_FILTER=$(LAB_FILTER)))" >&2; exit 1; }; \
	  kernels=$$((kernels + 1)); skip="--skip once::"; \
	done; \
	[ $$kernels -gt 0 ] || { echo "make test: no 64-bit lab kernel in $(LAB_DIR), so no lab test ran: run make lab" >&2; exit 1; }

# The Debian packages, built by Debian's tools from debian/ (dpkg-buildpackage, debhelper,
# dh-dkms): build/deb/vmtop_VERSION_ARCH.deb and alloc-large-mem-dkms_VERSION_all.deb, with
# their .buildinfo and .changes; then lintian, which must report no error. dpkg-buildpackage
# writes to the parent folder by default: DEB_DESTDIR (debian/rules) and the -u options keep
# everything in build/deb, and --post-clean leaves debian/ as it was. vmtop is the release
# build `make vmtop` makes (not rebuilt when it is there).
deb: deps deb-deps
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)
	DEB_DESTDIR=$(DEB_DIR) CARGO=$(CARGO) dpkg-buildpackage -b -us -uc --post-clean \
	  --buildinfo-option=-u$(DEB_DIR) --changes-option=-u$(DEB_DIR) \
	  --buildinfo-file=$(DEB_DIR)/vmtop.buildinfo --changes-file=$(DEB_DIR)/vmtop.changes
	lintian --fail-on error --display-info $(DEB_DIR)/vmtop.changes
	@ls -1 $(DEB_DIR)/*.deb

bench: vmtop lab-deps
	VMTOP_BIN=$(VMTOP) tests/bench.sh

# make install and make uninstall: say first when sudo will not work for this user.
sudo-check:
	@$(CHECK_SUDO) "make $(or $(MAKECMDGOALS),install)" "to change files under $(PREFIX) and /lib/modules"

install: vmtop sudo-check install-man-completions
	$(SUDO) install -D -m 0755 $(VMTOP) $(PREFIX)/bin/vmtop
	$(SUDO) install -D -m 0755 $(VMTOP)-kmod $(PREFIX)/libexec/vmtop/vmtop-kmod
	$(SUDO) install -D -m 0644 -t $(PREFIX)/share/vmtop/kmod-src kmod-src/alloc_large_mem.c kmod-src/Kbuild kmod-src/Makefile kmod-src/dkms.conf
	@# The module: through DKMS (DKMS=auto and dkms installed, or DKMS=yes; it compresses it
	@# as the kernel's modules are), else into updates/, compressed the same way.
	@rel=$$(uname -r); upd=/lib/modules/$$rel/updates; mod=alloc_large_mem/$(DKMS_VERSION); \
	case "$(DKMS)" in \
	  auto) if command -v dkms >/dev/null; then dkms=yes; else dkms=no; fi;; \
	  yes) command -v dkms >/dev/null || { echo "make install DKMS=yes: dkms is not installed: apt-get install dkms, or make install DKMS=no (into updates/ with depmod)" >&2; exit 1; }; dkms=yes;; \
	  no) dkms=no;; \
	  *) echo "make install: DKMS=$(DKMS) is not one of auto, yes, no" >&2; exit 1;; \
	esac; \
	if [ ! -f "$(KDIR)/Makefile" ]; then \
	  echo "no kernel headers at $(KDIR): module not installed (install linux-headers-$$rel, or use vmtop lab)"; \
	elif [ $$dkms = yes ]; then \
	  echo "installing the module through DKMS ($$mod; make install DKMS=no puts it in updates/ instead)"; \
	  if dkms status $$mod 2>/dev/null | grep -q .; then $(SUDO) dkms remove $$mod --all >/dev/null || exit 1; fi; \
	  $(SUDO) rm -rf /usr/src/alloc_large_mem-$(DKMS_VERSION) && $(SUDO) cp -r $(PREFIX)/share/vmtop/kmod-src /usr/src/alloc_large_mem-$(DKMS_VERSION) && \
	  $(SUDO) dkms install $$mod -k $$rel; \
	else \
	  echo "installing the module into $$upd (no DKMS: $(if $(filter no,$(DKMS)),DKMS=no,dkms is not installed))"; \
	  $(MAKE) --no-print-directory module && $(SUDO) install -D -m 0644 kmod-src/alloc_large_mem.ko $$upd/alloc_large_mem.ko && \
	  if grep -q '\.ko\.zst:' /lib/modules/$$rel/modules.dep 2>/dev/null; then $(SUDO) zstd -q -T0 --rm -f $$upd/alloc_large_mem.ko; \
	  elif grep -q '\.ko\.xz:' /lib/modules/$$rel/modules.dep 2>/dev/null; then $(SUDO) xz --check=crc32 --lzma2=dict=1MiB -f $$upd/alloc_large_mem.ko; fi && \
	  $(SUDO) depmod -a $$rel && echo "installed $$(ls $$upd/alloc_large_mem.ko*)"; \
	fi

uninstall: sudo-check uninstall-man-completions
	$(SUDO) rm -f $(PREFIX)/bin/vmtop
	$(SUDO) rm -rf $(PREFIX)/libexec/vmtop
	$(SUDO) rm -rf $(PREFIX)/share/vmtop
	@if command -v dkms >/dev/null && dkms status alloc_large_mem 2>/dev/null | grep -q .; then \
	  $(SUDO) dkms remove alloc_large_mem/$(DKMS_VERSION) --all; fi
	$(SUDO) rm -rf /usr/src/alloc_large_mem-$(DKMS_VERSION)
	@if ls /lib/modules/$$(uname -r)/updates/alloc_large_mem.ko* >/dev/null 2>&1; then \
	  $(SUDO) rm -f /lib/modules/$$(uname -r)/updates/alloc_large_mem.ko* && $(SUDO) depmod -a; fi

# Man pages (vmtop.1, vmtop-SUBCOMMAND.1) and bash/zsh/fish completions, generated from the
# command-line definitions by the binary being installed.
MAN1_DIR = $(PREFIX)/share/man/man1
BASH_COMPLETION = $(PREFIX)/share/bash-completion/completions/vmtop
ZSH_COMPLETION = $(PREFIX)/share/zsh/site-functions/_vmtop
FISH_COMPLETION = $(PREFIX)/share/fish/vendor_completions.d/vmtop.fish
.PHONY: install-man-completions uninstall-man-completions

install-man-completions: vmtop sudo-check
	rm -rf build/man && $(VMTOP) __generate man build/man >/dev/null
	$(SUDO) install -D -m 0644 -t $(MAN1_DIR) build/man/*.1
	$(VMTOP) __generate bash >build/vmtop.bash && $(SUDO) install -D -m 0644 build/vmtop.bash $(BASH_COMPLETION)
	$(VMTOP) __generate zsh >build/_vmtop && $(SUDO) install -D -m 0644 build/_vmtop $(ZSH_COMPLETION)
	$(VMTOP) __generate fish >build/vmtop.fish && $(SUDO) install -D -m 0644 build/vmtop.fish $(FISH_COMPLETION)

uninstall-man-completions: sudo-check
	$(SUDO) rm -f $(MAN1_DIR)/vmtop.1 $(MAN1_DIR)/vmtop-*.1 $(BASH_COMPLETION) $(ZSH_COMPLETION) $(FISH_COMPLETION)

clean:
	$(CARGO) clean
	rm -rf build
	$(MAKE) -C kmod-src clean >/dev/null 2>&1 || true
