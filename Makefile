# liblm build: shared + static library, the lm tool, tests, fuzz replays, docs, install.
# Plain GNU make. `make help` lists the targets.

# The version is written once, in include/lm/version.h.
version_part = $(shell sed -n 's/^\#define LM_VERSION_$(1) \([0-9][0-9]*\).*/\1/p' include/lm/version.h)
MAJOR := $(call version_part,MAJOR)
MINOR := $(call version_part,MINOR)
PATCH := $(call version_part,PATCH)
VERSION := $(MAJOR).$(MINOR).$(PATCH)

# On a fresh machine the first make installs the Debian packages it needs (as root) or prints the
# command to do so (scripts/bootstrap.sh). Sub-makes and clean/help skip the check.
ifneq ($(LM_BOOTSTRAPPED),1)
ifneq ($(filter-out clean help uninstall,$(or $(MAKECMDGOALS),all)),)
BOOTSTRAP_STATUS := $(shell bash scripts/bootstrap.sh --quiet >&2; echo $$?)
ifneq ($(BOOTSTRAP_STATUS),0)
$(error missing build dependencies: see the bootstrap message above)
endif
endif
endif
export LM_BOOTSTRAPPED := 1

PREFIX ?= /usr/local
DESTDIR ?=
LIBDIR_INSTALL ?= $(PREFIX)/lib
INCLUDEDIR_INSTALL ?= $(PREFIX)/include

CC ?= cc
CXX ?= c++
PKG_CONFIG ?= pkg-config
DEPS := openblas libcjson libutf8proc
DEP_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(DEPS))
DEP_LIBS := $(shell $(PKG_CONFIG) --libs $(DEPS)) -lgomp -lpthread -lm
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka)

# Build variant: `make check-asan` reruns everything into build/asan with sanitizers.
B ?= build
L ?= lib
BIN ?= bin
SANITIZE ?=
OPT ?= -O2
WARN := -Wall -Wextra -Wpedantic -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
# clang reports an `omp simd` loop it does not vectorise; the pragma is a hint, not a requirement.
ifneq ($(findstring clang,$(shell $(CC) --version 2>/dev/null)),)
WARN += -Wno-pass-failed
endif
CFLAGS_LIB := -std=c11 $(OPT) -g $(WARN) -fPIC -fvisibility=hidden -fopenmp $(SANITIZE) \
              -Iinclude -Isrc $(DEP_CFLAGS)
LDFLAGS_SAN := $(SANITIZE)

SRC := $(sort $(wildcard src/*/*.c))
OBJ := $(SRC:%.c=$(B)/%.o)
SHARED := $(L)/liblm.so.$(VERSION)
SONAME := liblm.so.$(MAJOR)
STATIC := $(L)/liblm.a

TOOL_SRC := $(sort $(wildcard tools/lm/*.c))
TOOL := $(BIN)/lm

TEST_SRC := $(sort $(wildcard tests/test_*.c))
TEST_BIN := $(TEST_SRC:tests/%.c=$(B)/tests/%)
EXAMPLE_SRC := $(filter-out examples/hello.c,$(wildcard examples/*.c))
EXAMPLES := $(EXAMPLE_SRC:examples/%.c=$(B)/examples/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
FUZZ_REPLAY := $(FUZZ_NAMES:%=$(B)/fuzz/replay_%)

.PHONY: all lib tool check check-asan check-valgrind check-abi check-installed docs install \
        uninstall clean demo help fuzz bench-tokenizer bench-infer bench-train bench-gemm \
        bench-serve bench-finetune finetune-table finetune-trace bench-profile bench-embed
all: lib tool

lib: $(SHARED) $(L)/$(SONAME) $(L)/liblm.so $(STATIC)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_LIB) -MMD -MP -c $< -o $@

-include $(OBJ:.o=.d)

$(SHARED): $(OBJ) lm.map
	@mkdir -p $(L)
	$(CC) -shared -o $@ $(OBJ) -Wl,-soname,$(SONAME) -Wl,--version-script=lm.map \
	    -Wl,--no-undefined -fopenmp $(LDFLAGS_SAN) $(DEP_LIBS)

$(L)/$(SONAME): $(SHARED)
	ln -sf liblm.so.$(VERSION) $@

$(L)/liblm.so: $(L)/$(SONAME)
	ln -sf $(SONAME) $@

$(STATIC): $(OBJ)
	@mkdir -p $(L)
	rm -f $@
	ar rcs $@ $(OBJ)

# `lm serve` needs libmicrohttpd (scripts/bootstrap.sh installs it); without it the command says
# so and the rest of the tool is built as before.
MHD_OK := $(shell $(PKG_CONFIG) --exists libmicrohttpd && echo yes)
TOOL_CFLAGS := $(if $(MHD_OK),-DLM_HAVE_MHD $(shell $(PKG_CONFIG) --cflags libmicrohttpd))
TOOL_LIBS := $(if $(MHD_OK),$(shell $(PKG_CONFIG) --libs libmicrohttpd))

tool: $(TOOL)
$(TOOL): $(TOOL_SRC) $(wildcard tools/lm/*.h) $(STATIC) include/lm.h $(wildcard include/lm/*.h)
	@mkdir -p $(BIN)
	$(CC) -std=c11 $(OPT) -g $(WARN) $(SANITIZE) -Iinclude $(TOOL_CFLAGS) -o $@ $(TOOL_SRC) \
	    $(STATIC) -fopenmp $(DEP_LIBS) $(TOOL_LIBS)

# Tests link the static library and may include internal headers from src/.
$(B)/tests/%: tests/%.c $(STATIC) $(wildcard tests/*.h)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(OPT) -g $(WARN) -Wno-missing-prototypes -D_POSIX_C_SOURCE=200809L $(SANITIZE) -Iinclude -Isrc \
	    $(DEP_CFLAGS) -DLM_SOURCE_DIR='"$(CURDIR)"' -o $@ $< $(STATIC) -fopenmp $(DEP_LIBS) \
	    $(CMOCKA_LIBS)

# Fuzz targets: built here with a replay driver (runs the committed corpus in `make check`);
# `make fuzz FUZZ=name SECONDS=60` runs libFuzzer with clang.
$(B)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(wildcard tests/fuzz/*.h) $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(OPT) -g $(WARN) -Wno-missing-prototypes -D_POSIX_C_SOURCE=200809L $(SANITIZE) -Iinclude -Isrc \
	    $(DEP_CFLAGS) -o $@ $< tests/fuzz/replay.c $(STATIC) -fopenmp $(DEP_LIBS)

FUZZ ?= utf8
SECONDS ?= 60
fuzz:
	$(MAKE) B=build/fuzz-clang L=build/fuzz-clang/lib CC=clang OPT=-O1 \
	    SANITIZE="-fsanitize=fuzzer-no-link,address,undefined" build/fuzz-clang/lib/liblm.a
	clang -O1 -g -fsanitize=fuzzer,address,undefined -Iinclude -Isrc $(DEP_CFLAGS) \
	    -o build/fuzz-clang/fuzz_$(FUZZ) tests/fuzz/fuzz_$(FUZZ).c build/fuzz-clang/lib/liblm.a \
	    -fopenmp $(DEP_LIBS)
	mkdir -p build/fuzz-corpus/$(FUZZ)
	build/fuzz-clang/fuzz_$(FUZZ) -max_total_time=$(SECONDS) -max_len=65536 \
	    build/fuzz-corpus/$(FUZZ) tests/fuzz/corpus/$(FUZZ)

check: lib tool $(TEST_BIN) $(FUZZ_REPLAY) $(EXAMPLES)
	@B=$(B) L=$(L) BIN=$(BIN) CC="$(CC)" CXX="$(CXX)" RUNNER="$(RUNNER)" SANITIZE="$(SANITIZE)" FUZZ_NAMES="$(FUZZ_NAMES)" \
	    TESTS="$(TEST_BIN)" bash tests/run.sh

check-asan:
	$(MAKE) check B=build/asan L=build/asan/lib BIN=build/asan/bin OPT=-O1 \
	    SANITIZE="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

check-valgrind:
	OMP_WAIT_POLICY=passive LM_TEST_QUICK=1 LM_NO_RESTART=1 $(MAKE) check RUNNER="valgrind --quiet --error-exitcode=99 --leak-check=full \
	    --errors-for-leak-kinds=definite,indirect --suppressions=$(CURDIR)/tests/valgrind.supp"

check-abi: lib
	abidw --no-corpus-path --headers-dir include $(SHARED) > $(B)/lm.abi
	abidiff --headers-dir1 include --headers-dir2 include abi/liblm.abi $(B)/lm.abi

docs:
	@mkdir -p $(B)/docs
	doxygen docs/Doxyfile

# Regenerated on every install: it carries the install prefix. The private dependencies are
# written as plain linker flags (no Requires.private): `pkg-config --cflags lm` then gives only
# liblm's own include folder and works without the -dev packages of OpenBLAS, cJSON, utf8proc.
PRIVATE_LIBS = $(shell $(PKG_CONFIG) --libs --static $(DEPS)) -lgomp -lpthread -lm
.PHONY: $(B)/lm.pc
$(B)/lm.pc: pkgconfig/lm.pc.in include/lm/version.h
	@mkdir -p $(B)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR_INSTALL)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR_INSTALL)|' -e 's|@VERSION@|$(VERSION)|' \
	    -e 's|@PRIVATE_LIBS@|$(PRIVATE_LIBS)|' $< > $@

install: lib tool $(B)/lm.pc
	install -d $(DESTDIR)$(INCLUDEDIR_INSTALL)/lm $(DESTDIR)$(LIBDIR_INSTALL)/pkgconfig \
	    $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man3
	install -m 644 include/lm.h $(DESTDIR)$(INCLUDEDIR_INSTALL)/lm.h
	install -m 644 include/lm.hpp $(DESTDIR)$(INCLUDEDIR_INSTALL)/lm.hpp
	install -m 644 include/lm/*.h $(DESTDIR)$(INCLUDEDIR_INSTALL)/lm/
	install -m 755 $(SHARED) $(DESTDIR)$(LIBDIR_INSTALL)/
	ln -sf liblm.so.$(VERSION) $(DESTDIR)$(LIBDIR_INSTALL)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR_INSTALL)/liblm.so
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR_INSTALL)/liblm.a
	install -m 644 $(B)/lm.pc $(DESTDIR)$(LIBDIR_INSTALL)/pkgconfig/lm.pc
	install -m 755 $(TOOL) $(DESTDIR)$(PREFIX)/bin/lm
	install -m 644 docs/lm.1 $(DESTDIR)$(PREFIX)/share/man/man1/lm.1
	install -m 644 docs/liblm.3 $(DESTDIR)$(PREFIX)/share/man/man3/liblm.3

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR_INSTALL)/lm.h $(DESTDIR)$(INCLUDEDIR_INSTALL)/lm.hpp \
	    $(DESTDIR)$(LIBDIR_INSTALL)/liblm.so* \
	    $(DESTDIR)$(LIBDIR_INSTALL)/liblm.a $(DESTDIR)$(LIBDIR_INSTALL)/pkgconfig/lm.pc \
	    $(DESTDIR)$(PREFIX)/bin/lm $(DESTDIR)$(PREFIX)/share/man/man1/lm.1 \
	    $(DESTDIR)$(PREFIX)/share/man/man3/liblm.3
	rm -rf $(DESTDIR)$(INCLUDEDIR_INSTALL)/lm

# Examples build against the public header and the static library, like a user's program.
$(B)/examples/%: examples/%.c $(STATIC) include/lm.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(OPT) -g $(WARN) -D_POSIX_C_SOURCE=200809L $(SANITIZE) -Iinclude -o $@ $< \
	    $(STATIC) -fopenmp $(DEP_LIBS)

demo: all $(EXAMPLES)
	bash examples/demo.sh

bench-tokenizer: all
	bash bench/tokenizer.sh

bench-infer: all
	bash bench/infer.sh

bench-train: all
	bash bench/train.sh

bench-embed: all
	bash bench/embed.sh

# liblm's GEMM against OpenBLAS (as detected and with OPENBLAS_CORETYPE=SKYLAKEX), under a minute.
$(B)/bench/gemm: bench/gemm.c $(STATIC) src/tensor/gemm.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(OPT) -g $(WARN) -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc $(DEP_CFLAGS) -o $@ \
	    $< $(STATIC) -fopenmp $(DEP_LIBS)

bench-gemm: $(B)/bench/gemm
	$(B)/bench/gemm

bench-serve: all
	bash bench/serve.sh

# The bindings against an installed library, from a fresh clone of the committed tree: make
# install PREFIX=<tmp>, then the C++, Python, HTTP, Rust and Go suites against that prefix.
check-installed:
	bash scripts/check_installed.sh

# liblm's lm train against the PyTorch recipe (docs/finetune.md): SST-2, or every task.
# MAX_TRAIN=N MAX_EVAL=N run a subset on both sides (the full runs take hours).
bench-finetune: all
	bash bench/finetune.sh sst2

finetune-table: all
	bash bench/finetune.sh all

# Both sides step by step with the randomness taken out (no dropout, file order, one initial
# model): TASK=squad|sst2|rte|stsb|wnut17 (default squad), STEPS=60 BATCH=16.
finetune-trace: all
	bash bench/finetune.sh trace $(or $(TASK),squad)

# A per-op profile of the forward pass with the sgemm peak of the same run:
#   make bench-profile [PROFILE_ARGS="--model DIR --batch 32 --seq 128 --threads 2"]
PROFILE_ARGS ?= --random-base --batch 32 --seq 128
$(B)/bench/profile: bench/profile.c bench/peak.h $(STATIC) src/tensor/gemm.h src/base/profile.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(OPT) -g $(WARN) -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc $(DEP_CFLAGS) -o $@ \
	    $< $(STATIC) -fopenmp $(DEP_LIBS)

bench-profile: $(B)/bench/profile
	$(B)/bench/profile $(PROFILE_ARGS)

clean:
	rm -rf build lib bin

help:
	@echo "make                 build lib/liblm.so.$(VERSION), lib/liblm.a and bin/lm"
	@echo "make check           build and run every test (cmocka), fuzz corpus replays, install test"
	@echo "make check-asan      the same suite under AddressSanitizer + UBSan"
	@echo "make check-valgrind  the same suite under valgrind memcheck"
	@echo "make check-abi       compare the ABI with the committed baseline abi/liblm.abi"
	@echo "make check-installed fresh clone, make install PREFIX=tmp, C++/Python/HTTP/Rust/Go tests on it"
	@echo "make docs            Doxygen HTML into build/docs; fails on undocumented symbols"
	@echo "make install         PREFIX=/usr/local DESTDIR= ; make uninstall removes it"
	@echo "make demo            the main job: fine-tune and predict"
	@echo "make fuzz FUZZ=name SECONDS=60   run a libFuzzer target (clang)"
	@echo "make bench-infer     inference latency/throughput against PyTorch and ONNX Runtime"
	@echo "make bench-embed     lm embed's whole job against sentence-transformers and ONNX Runtime"
	@echo "make bench-train     training steps/s, FLOP share and peak RSS against PyTorch"
	@echo "make bench-gemm      liblm's GEMM against OpenBLAS on BERT shapes (GFLOP/s)"
	@echo "make bench-serve     lm serve: requests/s, p50/p99 at 1, 8, 64 clients vs a Python server"
	@echo "make bench-finetune  lm train vs the PyTorch recipe on SST-2 (MAX_TRAIN=N: a subset)"
	@echo "make finetune-table  the same for every task of docs/finetune.md, as one table"
	@echo "make finetune-trace  TASK=squad: both sides step by step, no dropout, one initial model"
	@echo "make bench-profile   per-op profile of a forward pass, share of the sgemm peak"
