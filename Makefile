# gw: plain GNU Make build.
#
#   make            build bin/gwc and bin/gwd
#   make test       install missing Debian packages, build, run every test
#   make run        install, build, compile routes/gateway.yaml, serve it
#   make cluster    the same behind HAProxy: three gwd instances sharing a local Redis
#   make bench      benchmarks under perf/ (WHAT=routing|ratelimit|http|policies|proxy)
#   make fuzz       libFuzzer harnesses of tests/fuzz, bounded time
#   make install    install under PREFIX (/usr/local) and DESTDIR; make uninstall
#   make deb        build/gw_VERSION_ARCH.deb (dpkg-deb), a systemd service
#   make V=1        show full command lines
#
# Objects go to build/ (build/asan/ for the sanitizer flavour), binaries to bin/.

SHELL   := /bin/bash
CC      ?= cc
PKGS    := libmicrohttpd gnutls yaml-0.1 sqlite3 jansson libcurl libsystemd hiredis
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wvla -Wpointer-arith -Wcast-align -Wundef -Wnull-dereference
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
ALL_CFLAGS = -std=c17 -D_GNU_SOURCE $(WARN) $(CFLAGS) -I. -MMD -MP
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LDLIBS  = $(PKG_LIBS) -lpthread -lm

# SAN=1 builds the same sources with AddressSanitizer and UBSan into build/asan.
ifeq ($(SAN),1)
B       := build/asan
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
BIN     := build/asan/bin
else ifeq ($(FUZZ),1)
# FUZZ=1: the same sources built with clang for the libFuzzer harnesses of
# tests/fuzz into build/fuzz (tests/fuzz/run.sh drives it; docs/fuzzing.md).
B       := build/fuzz
CC      := $(or $(FUZZ_CC),clang)
OPT     := -O1
# gcc's -Wcast-align says nothing on x86-64; clang's warns of every cast from
# a byte pointer, even into memory the code aligned itself: off here, so that
# both compilers hold the code to the same warning set.
ALL_CFLAGS += -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=all -Wno-cast-align
LDFLAGS += -fsanitize=fuzzer,address,undefined
BIN     := build/fuzz/bin
else
B       := build
BIN     := bin
endif

ifneq ($(V),1)
Q := @
endif

LIB_SRC  := $(sort $(wildcard lib/*.c))
GWC_SRC  := $(sort $(wildcard gwc/*.c))
GWD_SRC  := $(sort $(wildcard gwd/*.c))
# Unit tests: one CUnit suite per source module, mirroring the tree.
TEST_SRC := $(sort $(wildcard tests/lib/*.c tests/gwc/*.c tests/gwd/*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
GWC_OBJ  := $(GWC_SRC:%.c=$(B)/%.o)
GWD_OBJ  := $(GWD_SRC:%.c=$(B)/%.o) $(B)/gen/status_page.o
TEST_OBJ := $(TEST_SRC:%.c=$(B)/%.o)
# Test suites reach a binary's modules without its main().
GWC_MOD  := $(filter-out $(B)/gwc/main.o,$(GWC_OBJ))
GWD_MOD  := $(filter-out $(B)/gwd/main.o,$(GWD_OBJ))

.PHONY: all clean test unit unit-asan integration run deps bench examples
.PHONY: fuzz fuzz-build
.PHONY: install uninstall deb
.PHONY: cluster lint
all: $(BIN)/gwc $(BIN)/gwd

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

# The status page, with Debian's dygraphs inlined, as a C array (gwd/status.h);
# embed.sh says what to install when the library is missing.
DYGRAPHS ?= /usr/share/javascript/dygraphs
build/gen/status_page.c: gwd/status.html gwd/embed.sh
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  EMBED   $@")
	$(Q)gwd/embed.sh gwd/status.html $(DYGRAPHS) > $@.tmp && mv $@.tmp $@ || { rm -f $@.tmp; exit 1; }

$(B)/gen/status_page.o: build/gen/status_page.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/libgw.a: $(LIB_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN)/gwc: $(GWC_OBJ) $(B)/libgw.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/gwd: $(GWD_OBJ) $(B)/libgw.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The unit runner: every tests/<dir>/<name>.c defines `int gw_suite_<dir>_<name>(void)`
# which adds its CUnit suite; the list is generated, so adding a test file is enough.
$(B)/tests/suites.h: Makefile $(TEST_SRC)
	@mkdir -p $(dir $@)
	$(Q)for f in $(TEST_SRC); do n=$${f#tests/}; n=$${n%.c}; n=$${n//\//_}; n=$${n//-/_}; \
		echo "GW_SUITE(gw_suite_$$n)"; done > $@.tmp && mv $@.tmp $@

$(B)/tests/runner.o: tests/runner.c $(B)/tests/suites.h
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -I$(B)/tests -c -o $@ $<

# The runner takes the modules from archives, as it takes lib/: a suite that
# includes its module's .c to reach the static functions (STYLE.md, "Tests")
# then stands in for that module's object, which the linker leaves out.
$(B)/gwc-mod.a: $(GWC_MOD)
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/gwd-mod.a: $(GWD_MOD)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN)/unit: $(B)/tests/runner.o $(TEST_OBJ) $(B)/gwc-mod.a $(B)/gwd-mod.a $(B)/libgw.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcunit

# ---- dependencies (Debian 12) ------------------------------------------------
DEB_BUILD := build-essential pkg-config libmicrohttpd-dev libgnutls28-dev libyaml-dev \
             libsqlite3-dev libjansson-dev libcunit1-dev libcurl4-gnutls-dev
DEB_TEST  := curl gnutls-bin wrk python3 python3-locust python3-yaml python3-jsonschema valgrind sqlite3 procps
DEB_TEST  += python3-websockets
# Each feature appends what it needs, one line each.
DEB_BUILD += libsystemd-dev
DEB_TEST  += clang libclang-rt-14-dev
DEB_BUILD += libjs-dygraphs
DEB_TEST  += chromium chromium-driver python3-selenium
DEB_TEST  += python3-jwt python3-cryptography
DEB_BUILD += libhiredis-dev
DEB_TEST  += redis-server redis-tools haproxy
DEB_BENCH := nginx-light haproxy clang libclang-rt-14-dev
# `make deb`, and the tests of the installed service: the package build, a
# Debian root to install it in, the man page linter, systemd-analyze (which
# asks man for the units' Documentation=), logrotate
DEB_PKG   := dpkg-dev debootstrap mandoc man-db systemd logrotate

deps:
	$(Q)tests/install-deps.sh $(DEB_BUILD)

deps-test:
	$(Q)tests/install-deps.sh $(DEB_BUILD) $(DEB_TEST) $(DEB_PKG)

deps-deb:
	$(Q)tests/install-deps.sh $(DEB_BUILD) $(DEB_PKG)

deps-bench:
	$(Q)tests/install-deps.sh $(DEB_BUILD) $(DEB_TEST) $(DEB_BENCH)

# ---- tests -------------------------------------------------------------------
# `make test` is the one test command: units (plain, sanitized, under valgrind), then the
# integration scripts against the real binaries. tests/run.sh prints the summary
# line last.
test: deps-test
	$(Q)$(MAKE) --no-print-directory all $(BIN)/unit
	$(Q)$(MAKE) --no-print-directory SAN=1 build/asan/bin/gwc build/asan/bin/gwd build/asan/bin/unit
	$(Q)tests/run.sh

unit: $(BIN)/unit
	$(Q)$(BIN)/unit

# the size rules of the house over gwc/, gwd/, lib/ (also run by `make test`)
lint:
	$(Q)tests/style/check.sh

# ---- run ---------------------------------------------------------------------
run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)routes/serve.sh

# a local three-instance cluster (docs/cluster.md)
cluster: deps-test
	$(Q)$(MAKE) --no-print-directory all
	$(Q)routes/cluster.sh

# ---- benchmarks and fuzzing --------------------------------------------------
bench: deps-bench
	$(Q)$(MAKE) --no-print-directory all
	$(Q)perf/bench.sh $(WHAT)

# The routing micro-benchmark of perf/bench-routing.sh (not part of `all`).
$(BIN)/bench_match: $(B)/perf/bench_match.o $(B)/libgw.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The rate limiter alone (figures in docs/ratelimit.md; not part of `all`).
$(BIN)/bench_ratelimit: $(B)/perf/bench_ratelimit.o $(B)/gwd/ratelimit.o $(B)/gwd/ratelimit_hdr.o
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lpthread

# The jwt policy's uncached verification per algorithm (docs/performance.md).
$(BIN)/bench_jwt: $(B)/perf/bench_jwt.o $(GWC_MOD) $(GWD_MOD) $(B)/libgw.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

fuzz: deps-test
	$(Q)tests/fuzz/run.sh

# ---- install, Debian package ------------------------------------------------
# `make install [PREFIX=/usr/local] [DESTDIR=]`: the binaries, the man pages,
# the JSON Schema, the examples, the systemd units, the logrotate snippet, and
# the default routes under SYSCONFDIR/gw, with their blob, each only when none
# exists there (an operator's routes are never overwritten).
PREFIX       ?= /usr/local
BINDIR       ?= $(PREFIX)/bin
MANDIR       ?= $(PREFIX)/share/man
DATADIR      ?= $(PREFIX)/share/gw
DOCDIR       ?= $(PREFIX)/share/doc/gw
SYSCONFDIR   ?= /etc
UNITDIR      ?= $(PREFIX)/lib/systemd/system
LOGROTATEDIR ?= $(SYSCONFDIR)/logrotate.d
INSTALL      ?= install
VERSION      := $(shell sed -n 's/^\#define GW_VERSION "\(.*\)"$$/\1/p' lib/version.h)
MANPAGES     := docs/man/gwc.1 docs/man/gw-routes.5 docs/man/gwd.8
D            := $(DESTDIR)

install: all
	$(Q)$(INSTALL) -d $(D)$(BINDIR) $(D)$(MANDIR)/man1 $(D)$(MANDIR)/man5 $(D)$(MANDIR)/man8 \
		$(D)$(DATADIR)/schema $(D)$(DOCDIR)/examples/split $(D)$(UNITDIR) \
		$(D)$(LOGROTATEDIR) $(D)$(SYSCONFDIR)/gw
	$(Q)$(INSTALL) -m 0755 bin/gwc bin/gwd $(D)$(BINDIR)/
	$(Q)for m in $(MANPAGES); do \
		$(INSTALL) -m 0644 $$m $(D)$(MANDIR)/man$${m##*.}/ || exit 1; done
	$(Q)$(INSTALL) -m 0644 schema/gateway.schema.json $(D)$(DATADIR)/schema/
	$(Q)$(INSTALL) -m 0644 examples/*.yaml $(D)$(DOCDIR)/examples/
	$(Q)$(INSTALL) -m 0644 examples/split/* $(D)$(DOCDIR)/examples/split/
	$(Q)sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		dist/systemd/gwd.service.in >$(D)$(UNITDIR)/gwd.service
	$(Q)chmod 0644 $(D)$(UNITDIR)/gwd.service
	$(Q)$(INSTALL) -m 0644 dist/systemd/gwd.socket $(D)$(UNITDIR)/
	$(Q)$(INSTALL) -m 0644 dist/logrotate/gw $(D)$(LOGROTATEDIR)/gw
	$(Q)if [ ! -e $(D)$(SYSCONFDIR)/gw/gateway.yaml ]; then \
		sed 's|^# yaml-language-server: $$schema=.*|# yaml-language-server: $$schema=$(DATADIR)/schema/gateway.schema.json|' \
			routes/gateway.yaml >$(D)$(SYSCONFDIR)/gw/gateway.yaml && \
		chmod 0644 $(D)$(SYSCONFDIR)/gw/gateway.yaml; \
	else echo "install: $(D)$(SYSCONFDIR)/gw/gateway.yaml exists: kept"; fi
	$(Q)if [ ! -e $(D)$(SYSCONFDIR)/gw/gateway.gwb ]; then \
		bin/gwc compile $(D)$(SYSCONFDIR)/gw/gateway.yaml -o $(D)$(SYSCONFDIR)/gw/gateway.gwb; fi

# What install wrote, but for SYSCONFDIR/gw (the operator's routes) and the
# database (/var/lib/gw).
uninstall:
	$(Q)rm -f $(D)$(BINDIR)/gwc $(D)$(BINDIR)/gwd $(D)$(UNITDIR)/gwd.service \
		$(D)$(UNITDIR)/gwd.socket $(D)$(LOGROTATEDIR)/gw
	$(Q)for m in $(MANPAGES); do rm -f $(D)$(MANDIR)/man$${m##*.}/$${m##*/}; done
	$(Q)rm -rf $(D)$(DATADIR) $(D)$(DOCDIR)
	$(Q)echo "uninstall: kept $(D)$(SYSCONFDIR)/gw (routes) and /var/lib/gw (database)"

# `make deb`: build/gw_VERSION_ARCH.deb from `make install` into a staging
# tree (dist/debian/build-deb.sh: control, maintainer scripts, dpkg-deb).
DEB_STAGE := build/deb/gw
deb: deps-deb
	$(Q)$(MAKE) --no-print-directory all
	$(Q)rm -rf $(DEB_STAGE)
	$(Q)$(MAKE) --no-print-directory install DESTDIR=$(CURDIR)/$(DEB_STAGE) PREFIX=/usr \
		SYSCONFDIR=/etc UNITDIR=/lib/systemd/system
	$(Q)rm -f $(DEB_STAGE)/etc/gw/gateway.gwb    # compiled by the postinst
	$(Q)dist/debian/build-deb.sh $(CURDIR)/$(DEB_STAGE) $(VERSION) \
		build/gw_$(VERSION)_$(shell dpkg --print-architecture).deb

# The harnesses (FUZZ=1): each tests/fuzz/fuzz_NAME.c is one binary linked with
# lib/, gwc/ and gwd/ (but their main.c) as the unit runner's archives, built
# once for all of them; fuzz_blob.c is built a second time as fuzz_blob_fixcrc.
FUZZ_SRC   := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES := $(FUZZ_SRC:tests/fuzz/%.c=%) fuzz_blob_fixcrc

$(B)/tests/fuzz/fuzz_blob_fixcrc.o: tests/fuzz/fuzz_blob.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -DGW_FUZZ_FIXCRC $(PKG_CFLAGS) -c -o $@ $<

$(BIN)/fuzz_%: $(B)/tests/fuzz/fuzz_%.o $(B)/gwd-mod.a $(B)/gwc-mod.a $(B)/libgw.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

fuzz-build: $(FUZZ_NAMES:%=$(BIN)/%)

# Kept, so that a rebuild relinks only what changed.
.SECONDARY: $(FUZZ_NAMES:%=$(B)/tests/fuzz/%.o)

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' -type f 2>/dev/null)
