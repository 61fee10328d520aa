# weir - top-level Makefile. Targets: all deps test asan tsan fuzz bench install clean.
# Quiet unless V=1. Out-of-tree objects under $(B) (build/ by default).

CC	?= cc
B	?= build
PREFIX	?= /usr/local
DESTDIR	?=
V	?= 0
SAN	?=
FUZZ_SECONDS ?= 600
SMOKE_SECONDS ?= 15
SHARED	?= $(abspath ../shared)

ifeq ($(V),1)
Q :=
else
Q := @
endif

WARN	 = -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes
CFLAGS	?= -O2 -g
# libweir's layers, one sub-folder each (docs/design.md): base < ie < wire <
# flow < fmt; prog (program support) uses base only.
# Every folder is on the include path, so "#include "tmpl.h"" works anywhere.
LIB_DIRS := $(filter-out common/gen,$(patsubst %/,%,$(sort $(dir $(wildcard common/*/*.[ch])))))
override CFLAGS += -std=gnu11 $(WARN) -MMD -MP $(LIB_DIRS:%=-I%) -I$(B)/gen -D_GNU_SOURCE
LDLIBS	 = -lcsv -lpcap

ifeq ($(SAN),1)
override CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
override LDFLAGS += -fsanitize=address,undefined
endif
ifeq ($(SAN),thread)
override CFLAGS += -fsanitize=thread -fno-omit-frame-pointer
override LDFLAGS += -fsanitize=thread
endif
ifeq ($(SAN),fuzz)
override CFLAGS += -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
override LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRC	:= $(filter-out common/gen/%,$(wildcard common/*/*.c))
LIB_OBJ	:= $(LIB_SRC:%.c=$(B)/%.o) $(B)/gen/ie_table.o
# libweir's public headers, the ones `install` copies: every header of a
# library layer but the internal ones, named *_int.h. prog/ objects go into
# the archive too (the programs link them from it) but are not its interface.
LIB_PUB_HDR := $(filter-out common/gen/% common/prog/% %_int.h,$(wildcard common/*/*.h))
LIB	:= $(B)/libweir.a
IE_CSV	:= $(sort $(wildcard ie-defs/*.csv))

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(B)/tests/%)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%)
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(B)/bench/%)

.DELETE_ON_ERROR:
.PHONY: all lib deps demo test unit layers shape asan tsan fuzz fuzz-smoke fuzzers integration bench install clean tools

all: lib tools $(B)/weir-generator $(B)/weir-collector $(if $(wildcard exporter/main.c),$(B)/weir-exporter)

lib: $(LIB)

tools: $(TOOL_BIN)

$(B)/%.o: %.c
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

# The IE registry: ie-defs/*.csv -> C table, by a generator that shares the
# run-time CSV loader of common/ie/ie_csv.c.
$(B)/iegen: common/gen/iegen.c common/ie/ie_csv.c common/base/err.c common/base/buf.c common/ie/ie.h
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  HOSTCC  $@"
	$(Q)$(CC) -std=gnu11 -O1 $(WARN) -Icommon/base -Icommon/ie -o $@ common/gen/iegen.c common/ie/ie_csv.c common/base/err.c common/base/buf.c -lcsv

$(B)/gen/ie_table.c: $(B)/iegen $(IE_CSV)
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  IEGEN   $@"
	$(Q)$(B)/iegen $(IE_CSV) > $@

$(B)/gen/ie_table.o: $(B)/gen/ie_table.c
	@[ "$(V)" = 1 ] || echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@[ "$(V)" = 1 ] || echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  CCLD    $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -Itests -o $@ $< $(LIB) -lcriterion $(LDLIBS)

$(B)/tests/%: tests/tools/%.c $(LIB)
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  CCLD    $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -Itests -o $@ $< $(LIB) $(LDLIBS)

# The test Kafka cluster (librdkafka's mock cluster): links librdkafka.
$(B)/tests/weir-kafka-broker: tests/tools/weir-kafka-broker.c
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  CCLD    $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -lrdkafka -pthread

# weir-generator (generator/*.c). Everything but main.c also goes into
# libgen.a, which the generator's unit tests (tests/unit/test_gen_*.c) link.
GEN_SRC	:= $(wildcard generator/*.c)
GEN_OBJ	:= $(GEN_SRC:%.c=$(B)/%.o)
GEN_LIB	:= $(B)/generator/libgen.a
GEN_LDLIBS := -lpcap -lm -pthread

$(GEN_LIB): $(filter-out $(B)/generator/main.o,$(GEN_OBJ))
	@[ "$(V)" = 1 ] || echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/weir-generator: $(B)/generator/main.o $(GEN_LIB) $(LIB)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(GEN_LDLIBS)

# The shorter stem wins over $(B)/tests/%: these link libgen.a too.
$(B)/tests/test_gen_%: tests/unit/test_gen_%.c $(GEN_LIB) $(LIB)
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  CCLD    $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -Itests -Igenerator -o $@ $< $(GEN_LIB) $(LIB) -lcriterion $(LDLIBS) $(GEN_LDLIBS)

# Prefix enrichment (enrich/*.c) -> libenrich.a: prefix tables, CSV and
# MaxMind DB sources. The collector links it; so do its unit tests
# (tests/unit/test_enrich_*.c) and bench/enrich_*.c.
ENR_SRC	:= $(wildcard enrich/*.c)
ENR_OBJ	:= $(ENR_SRC:%.c=$(B)/%.o)
ENR_LIB	:= $(B)/enrich/libenrich.a
ENR_LDLIBS := -lmaxminddb -pthread
$(ENR_OBJ): override CFLAGS += -Ienrich

$(ENR_LIB): $(ENR_OBJ)
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/tests/test_enrich_%: tests/unit/test_enrich_%.c $(ENR_LIB) $(LIB)
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  CCLD    $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -Itests -Ienrich -o $@ $< $(ENR_LIB) $(LIB) -lcriterion $(LDLIBS) $(ENR_LDLIBS)

$(B)/bench/enrich_%: bench/enrich_%.c $(ENR_LIB) $(LIB)
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  CCLD    $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -Ienrich -o $@ $< $(ENR_LIB) $(LIB) $(LDLIBS) $(ENR_LDLIBS)

# weir-collector (collector/*.c). Everything but main.c also goes into
# libcol.a, which the collector's unit tests (tests/unit/test_col_*.c) link;
# they run weir-generator and weir-collector too, so both come first.
COL_SRC	:= $(wildcard collector/*.c)
COL_OBJ	:= $(COL_SRC:%.c=$(B)/%.o)
COL_LIB	:= $(B)/collector/libcol.a
COL_LDLIBS := -lmicrohttpd -lpcap -lrdkafka $(ENR_LDLIBS) -pthread
$(COL_OBJ): override CFLAGS += -Ienrich

$(COL_LIB): $(filter-out $(B)/collector/main.o,$(COL_OBJ))
	@[ "$(V)" = 1 ] || echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/weir-collector: $(B)/collector/main.o $(COL_LIB) $(ENR_LIB) $(LIB)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(COL_LDLIBS)

$(B)/tests/test_col_%: tests/unit/test_col_%.c $(COL_LIB) $(ENR_LIB) $(LIB) $(B)/weir-generator $(B)/weir-collector
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  CCLD    $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -Itests -Icollector -Ienrich -DCOL_TEST_BUILD='"$(B)"' -o $@ $< $(COL_LIB) $(ENR_LIB) $(LIB) -lcriterion $(LDLIBS) $(COL_LDLIBS)

# BPF programs (bpf/*.bpf.c; tests/bpf/*.bpf.c for the tests' and benches'
# own): clang -target bpf against the kernel's uapi headers (<linux/bpf.h>,
# Debian's linux-libc-dev), not a vmlinux.h: the programs read no
# kernel-internal struct (only __sk_buff, which the verifier rewrites for
# any kernel), so they need no CO-RE relocation, and the build needs no
# /sys/kernel/btf/vmlinux (a build container may have none, or another
# kernel's). -g gives the object the BTF that libbpf needs for ring buffers,
# spin locks and global functions. Skeletons by bpftool; the lock variant
# is bench/bpf's (docs/exporter.md "Live metering: the BPF programs").
BPF_CLANG ?= clang
BPFTOOL	?= bpftool
BPF_ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
BPF_MULTIARCH := $(shell $(BPF_CLANG) -print-multiarch 2>/dev/null)
BPF_CFLAGS := -O2 -g -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -Wall -Wextra -Werror -MMD -MP \
	-Ibpf -idirafter /usr/include/$(BPF_MULTIARCH)
BPF_SKEL := $(B)/bpf/weir_tc.skel.h
BPF_TEST_SKEL := $(B)/bpf/weir_tc_lock.skel.h $(patsubst %.bpf.c,$(B)/%.skel.h,$(wildcard tests/bpf/*.bpf.c))

# The objects stay: a skeleton is rebuilt only when its object changes.
.SECONDARY: $(patsubst %.skel.h,%.bpf.o,$(BPF_SKEL) $(BPF_TEST_SKEL))

$(B)/%.bpf.o: %.bpf.c
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  BPF     $@"
	$(Q)$(BPF_CLANG) $(BPF_CFLAGS) -c -o $@ $<

$(B)/bpf/weir_tc_lock.bpf.o: bpf/weir_tc.bpf.c
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  BPF     $@"
	$(Q)$(BPF_CLANG) $(BPF_CFLAGS) -DWTC_SPIN_LOCK -c -o $@ $<

$(B)/%.skel.h: $(B)/%.bpf.o
	@[ "$(V)" = 1 ] || echo "  GENSKEL $@"
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# weir-exporter (exporter/*.c; bpf/ holds the flow state it shares with
# its BPF programs). Everything but main.c also goes into libexp.a, which
# the exporter's unit tests (tests/unit/test_exp_*.c) link. The live path
# (exporter/live*.c) includes the programs' skeleton, so its objects come
# after it; the exporter links libbpf.
EXP_SRC	:= $(wildcard exporter/*.c)
EXP_OBJ	:= $(EXP_SRC:%.c=$(B)/%.o)
EXP_LIB	:= $(B)/exporter/libexp.a
EXP_LDLIBS := -lpcap -lbpf -lelf -lz -lmicrohttpd -pthread
$(EXP_OBJ): override CFLAGS += -Iexporter -Ibpf -I$(B)/bpf
$(filter $(B)/exporter/live%,$(EXP_OBJ)): $(BPF_SKEL)

$(EXP_LIB): $(filter-out $(B)/exporter/main.o,$(EXP_OBJ))
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/weir-exporter: $(B)/exporter/main.o $(EXP_LIB) $(LIB)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(EXP_LDLIBS)

# Runs weir-collector against the exporting process: the binary first.
$(B)/tests/test_exp_xp_collector: $(B)/weir-collector
# Its collectors run in threads of the test.
$(B)/tests/test_exp_xp_wait: EXP_LDLIBS += -pthread

$(B)/tests/test_exp_%: tests/unit/test_exp_%.c $(EXP_LIB) $(LIB)
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  CCLD    $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -Itests -Iexporter -Ibpf -DEXP_TEST_BUILD='"$(B)"' -o $@ $< $(EXP_LIB) $(LIB) -lcriterion $(LDLIBS) $(EXP_LDLIBS)

# The BPF programs' tests (tests/unit/test_bpf_*.c): the skeletons, the
# parser and the meter they compare the kernel with. They need root and a
# kernel with BPF; without, they print SKIPPED with the reason.
$(B)/tests/test_bpf_%: tests/unit/test_bpf_%.c $(BPF_SKEL) $(BPF_TEST_SKEL) $(EXP_LIB) $(LIB)
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  CCLD    $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -Itests -Iexporter -Ibpf -I$(B)/bpf -I$(B)/tests/bpf -o $@ $< $(EXP_LIB) $(LIB) -lcriterion $(LDLIBS) $(EXP_LDLIBS) -pthread

# The BPF programs' benchmark: the skeletons, frames from pktbuild.
$(B)/bench/bpf: bench/bpf.c $(BPF_SKEL) $(BPF_TEST_SKEL) $(LIB)
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  CCLD    $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -Itests -Ibpf -I$(B)/bpf -I$(B)/tests/bpf -o $@ $< $(LIB) $(LDLIBS) -lbpf -lelf -lz -pthread

# The flow meter's benchmark links libexp.a.
$(B)/bench/meter: bench/meter.c $(EXP_LIB) $(LIB)
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  CCLD    $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -Iexporter -Ibpf -o $@ $< $(EXP_LIB) $(LIB) $(LDLIBS) $(EXP_LDLIBS)

$(B)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  CCLD    $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -Itests -o $@ $< $(LIB) $(LDLIBS)

# The enrichment sources' harness also links libenrich and libmaxminddb.
$(B)/fuzz/fuzz_enrich: tests/fuzz/fuzz_enrich.c $(ENR_LIB) $(LIB)
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  FUZZLD  $@"
	$(Q)$(CC) $(CFLAGS) -fsanitize=fuzzer,address,undefined -Itests -Ienrich -o $@ $< $(ENR_LIB) $(LIB) $(LDLIBS) $(ENR_LDLIBS)

$(B)/fuzz/%: tests/fuzz/%.c $(LIB)
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  FUZZLD  $@"
	$(Q)$(CC) $(CFLAGS) -fsanitize=fuzzer,address,undefined -Itests -o $@ $< $(LIB) $(LDLIBS)

unit: $(UNIT_BIN) $(TOOL_BIN)
	$(Q)WEIR_SHARED=$(SHARED) tests/run-unit $(UNIT_BIN)

deps:
	$(Q).ci/deps

# The quick-start demo: weir-generator on its defaults (IPFIX to
# 127.0.0.1:4739) sends three export packets to weir-collector, which prints
# the flows as common JSON; SIGTERM makes the collector flush and exit.
demo: all
	$(Q)$(B)/weir-collector -t netflow -p 4739 -f common --metrics-port 0 & cpid=$$!; \
	for i in $$(seq 50); do grep -qi ":$$(printf %04X 4739) " /proc/net/udp /proc/net/udp6 2>/dev/null && break; sleep 0.1; done; \
	$(B)/weir-generator -n 3 --ledger $(B)/demo-ledger.json; gst=$$?; \
	sleep 0.5; kill -TERM $$cpid; wait $$cpid; cst=$$?; [ $$gst -eq 0 ] && [ $$cst -eq 0 ]

# libweir's layers depend one way only: the check on nm of the objects, and
# its self-test (a wrong tree must fail it).
layers: lib
	$(Q)tests/layers --selftest
	$(Q)tests/layers $(B)

# No C file over 1,000 lines and no function over 100 lines without a
# reason written next to it (tests/shape), and its self-test.
shape:
	$(Q)tests/shape --selftest
	$(Q)tests/shape

# The whole suite: the layer and shape checks, unit tests, the same under
# ASan+UBSan, a short fuzz run per decoder, the integration tests against
# real peers.
test: all
	$(Q)$(MAKE) --no-print-directory layers
	$(Q)$(MAKE) --no-print-directory shape
	$(Q)$(MAKE) --no-print-directory unit
	$(Q)$(MAKE) --no-print-directory asan
	$(Q)$(MAKE) --no-print-directory tsan
	$(Q)$(MAKE) --no-print-directory fuzz-smoke
	$(Q)$(MAKE) --no-print-directory integration

asan:
	$(Q)$(MAKE) --no-print-directory B=build/asan SAN=1 CFLAGS="-O1 -g" unit

# ThreadSanitizer: weir-collector and weir-generator built with
# -fsanitize=thread in build/tsan, driven by the threaded tests: the
# collector unit tests that run the programs (workers, metrics scraped
# while traffic flows, enrichment reload under load, SIGHUP, SIGTERM during
# a reload; Criterion's runner itself cannot run under TSan, so the test
# binaries are the plain ones, pointed at build/tsan by WEIR_TEST_BIN) and
# tests/tsan/stress (scrapes, SIGHUPs and SIGTERM under load at once).
# Left out: the Kafka tests (librdkafka starts its threads where TSan does
# not see them and crashes at once) and col_enrich/sigterm_during_reload
# (its 5 s bound is for the uninstrumented program). Any report fails it.
TSAN_B	:= build/tsan
TSAN_RUN := col_udp col_tcp col_enrich col_enrich_pcap
tsan: all $(TSAN_RUN:%=$(B)/tests/test_%)
	$(Q)$(MAKE) --no-print-directory B=$(TSAN_B) SAN=thread CFLAGS="-O1 -g" $(TSAN_B)/weir-collector $(TSAN_B)/weir-generator
	$(Q)rm -rf $(TSAN_B)/reports && mkdir -p $(TSAN_B)/reports
	$(Q)export TSAN_OPTIONS="log_path=$(abspath $(TSAN_B))/reports/tsan" WEIR_TEST_BIN=$(TSAN_B) WEIR_SHARED=$(SHARED); \
	st=0; \
	for t in $(TSAN_RUN); do \
		$(B)/tests/test_$$t --jobs=2 --filter="$$t/!(sigterm_during_reload)" || st=1; \
	done; \
	B=$(TSAN_B) tests/tsan/stress || st=1; \
	if ls $(TSAN_B)/reports/tsan.* >/dev/null 2>&1; then \
		cat $(TSAN_B)/reports/tsan.*; echo "tsan: ThreadSanitizer reported the races above"; st=1; \
	fi; \
	echo "tsan: $$([ $$st -eq 0 ] && echo clean || echo FAILED)"; exit $$st

fuzzers:
	$(Q)$(MAKE) --no-print-directory B=build/fuzz SAN=fuzz CC=clang CFLAGS="-O1 -g" $(patsubst $(B)/%,build/fuzz/%,$(FUZZ_BIN))

fuzz: fuzzers tools
	$(Q)SHARED=$(SHARED) tests/fuzz/run $(FUZZ_SECONDS) $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/fuzz/%)

fuzz-smoke: fuzzers tools
	$(Q)SHARED=$(SHARED) tests/fuzz/run $(SMOKE_SECONDS) $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/fuzz/%)

integration: all
	$(Q)WEIR_SHARED=$(SHARED) B=$(B) tests/integration/run

# Every bench/run-* but run-compare, which builds a previous commit to
# measure beside this tree: `bench/run-compare REV [ROUNDS]` (docs/benchmarks.md).
bench: all $(BENCH_BIN)
	$(Q)for b in $(filter-out bench/run-compare,$(wildcard bench/run-*)); do B=$(B) $$b || exit 1; done

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/weir
	install -m 755 $(B)/weir-generator $(DESTDIR)$(PREFIX)/bin/
	install -m 755 $(B)/weir-collector $(DESTDIR)$(PREFIX)/bin/
	install -m 755 $(B)/weir-exporter $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 $(LIB_PUB_HDR) $(DESTDIR)$(PREFIX)/include/weir/

clean:
	rm -rf build

-include $(shell find $(B) -name '*.d' 2>/dev/null)
