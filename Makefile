# gw: plain GNU Make build.
#
#   make            build bin/gwc and bin/gwd
#   make test       install missing Debian packages, build, run every test
#   make run        install, build, compile routes/gateway.yaml, serve it
#   make cluster    the same behind HAProxy: three gwd instances sharing a local Redis
#   make bench      benchmarks under perf/ (WHAT=routing|ratelimit|http|policies|proxy)
#   make fuzz       libFuzzer harnesses of tests/fuzz, bounded time
#   make V=1        show full command lines
#
# Objects go to build/ (build/asan/ for the sanitizer flavour), binaries to bin/.

SHELL   := /bin/bash
CC      ?= cc
PKGS    := libmicrohttpd gnutls yaml-0.1 sqlite3 jansson libcurl hiredis
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
GWD_OBJ  := $(GWD_SRC:%.c=$(B)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(B)/%.o)
# Test suites reach a binary's modules without its main().
GWC_MOD  := $(filter-out $(B)/gwc/main.o,$(GWC_OBJ))
GWD_MOD  := $(filter-out $(B)/gwd/main.o,$(GWD_OBJ))

.PHONY: all clean test unit unit-asan integration run deps bench fuzz examples cluster
all: $(BIN)/gwc $(BIN)/gwd

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

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

$(BIN)/unit: $(B)/tests/runner.o $(TEST_OBJ) $(GWC_MOD) $(GWD_MOD) $(B)/libgw.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcunit

# ---- dependencies (Debian 12) ------------------------------------------------
DEB_BUILD := build-essential pkg-config libmicrohttpd-dev libgnutls28-dev libyaml-dev \
             libsqlite3-dev libjansson-dev libcunit1-dev libcurl4-gnutls-dev libhiredis-dev
DEB_TEST  := curl gnutls-bin wrk python3 python3-locust python3-yaml python3-jsonschema valgrind sqlite3 procps \
             redis-server redis-tools haproxy
DEB_BENCH := nginx-light haproxy clang libclang-rt-14-dev

deps:
	$(Q)tests/install-deps.sh $(DEB_BUILD)

deps-test:
	$(Q)tests/install-deps.sh $(DEB_BUILD) $(DEB_TEST)

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
$(BIN)/bench_ratelimit: $(B)/perf/bench_ratelimit.o $(B)/gwd/ratelimit.o
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lpthread

fuzz: deps-bench
	$(Q)tests/fuzz/run.sh

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
