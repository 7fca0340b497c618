# scones: `make test` runs every test, `make demo` the Gaussian transport demo. Both set up what
# they need on first use (the cached torch 2.11.0 environment under ~/.cache/scones, the build).
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
CC ?= cc
REL := target/release
ENV := source scripts/env.sh &&

.PHONY: all setup tools build install test lint test-rust test-cpp test-go test-julia-check test-install demo header bench bench-quick bench-busy bench-throughput bench-image-shapes demo-programs clean
.PHONY: test-sanitize test-mpi fuzz daspot

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
CXX ?= g++
CXXFLAGS_TEST := -std=c++17 -O1 -g -Wall -Wextra -Werror -pedantic -Wshadow
# Build-tree pkg-config file (scones-uninstalled.pc), written by `make build`.
PKG_DEV := PKG_CONFIG_PATH=$(abspath $(REL))/pkgconfig

all: build

setup:
	@scripts/setup-torch.sh >/dev/null

# Host toolchains of the binding tests (g++, pkg-config, Go, CMake; tree-sitter for the Julia
# checker): installed from Debian / PyPI when absent, quiet otherwise.
tools:
	@scripts/setup-tools.sh

# The cdylib carries the soname libscones.so.0 (see build.rs); programs linked with -lscones
# record that name, so the build folder gets the matching link.
build: setup
	$(ENV) cargo build --release --lib --examples
	ln -sf libscones.so $(REL)/libscones.so.0
	@scripts/dev-pkgconfig.sh

# libscones.so.X.Y.Z (+ soname and link-name links), libscones.a, scones.h, scones.hpp,
# pkgconfig/scones.pc and cmake/scones/sconesConfig*.cmake under PREFIX (DESTDIR stages).
install: build
	@scripts/install.sh "$(PREFIX)" "$(LIBDIR)" "$(INCLUDEDIR)"

test: lint test-rust test-cpp test-go test-julia-check test-install test-sanitize test-mpi

# Formatting (rustfmt.toml), clippy with warnings as errors on every target (library, tests,
# examples) and rustdoc without warnings (release profile: it reuses the built libtorch bindings). The C++ header is compiled with -Wall -Wextra -Werror by test-cpp and the Go
# binding is vetted by test-go.
lint: setup
	cargo fmt --check
	$(ENV) cargo clippy --release --all-targets -- -D warnings
	$(ENV) RUSTDOCFLAGS="-D warnings" cargo doc --release --no-deps --lib

test-rust: build
	$(ENV) cargo test --release

# libgomp's threads spin while waiting: on a busy 2-core machine (CI, or tests of several
# bindings at once) that made the tiny binding tests 20-100x slower; sleeping waiters avoid it.
test-rust test-cpp test-go test-install: export OMP_WAIT_POLICY = PASSIVE

# The C++ wrapper: its test (two translation units including scones.hpp) and the example.
test-cpp: build
	@scripts/setup-tools.sh g++ pkg-config
	@mkdir -p $(REL)/cpp-tests
	$(CXX) $(CXXFLAGS_TEST) bindings/cpp/test/test_scones.cpp bindings/cpp/test/second_tu.cpp \
	  $$($(PKG_DEV) pkg-config --cflags --libs scones) -o $(REL)/cpp-tests/test_scones
	$(REL)/cpp-tests/test_scones $(REL)/cpp-tests tests/fixtures/score_module.pt
	$(CXX) $(CXXFLAGS_TEST) examples/cpp/swiss_roll.cpp $$($(PKG_DEV) pkg-config --cflags --libs scones) \
	  -o $(REL)/swiss_roll_cpp
	$(REL)/swiss_roll_cpp --quick --out $(REL)/cpp-tests

# Data-parallel training over real MPI (Open MPI installed when mpicc is absent): 2 ranks vs 1
# process, and coherent cancel / failure on both ranks (scripts/test-mpi.sh; about 30 s on the
# busy 2-core host, 8 mpirun launches of 1-3 s each).
test-mpi: build
	scripts/test-mpi.sh

# The Go binding: go vet, go test (GOGC=1, full cgo pointer checks) and the example.
test-go: build
	@scripts/setup-tools.sh go pkg-config
	scripts/test-go.sh

# Julia cannot run here: every ccall of bindings/julia/Scones is checked against scones.h.
test-julia-check:
	@scripts/setup-tools.sh julia-check
	$$(scripts/setup-tools.sh --python) scripts/check-julia-binding.py --selftest
	$$(scripts/setup-tools.sh --python) scripts/check-julia-binding.py --suggest

# make install into a temporary prefix; C and C++ consumers via pkg-config and find_package.
test-install: build
	@scripts/setup-tools.sh cmake pkg-config g++
	scripts/test-install.sh

# The C ABI under valgrind memcheck and helgrind, RSS over 10,000 sampling calls, prompt
# cancellation (scripts/sanitize.sh; docs/results/sanitize.md has the timings).
test-sanitize: build
	@scripts/setup-tools.sh valgrind
	scripts/sanitize.sh

# Each cargo-fuzz target for FUZZ_SECONDS (nightly + cargo-fuzz; docs/results/fuzz.md).
FUZZ_SECONDS ?= 60
fuzz: setup
	scripts/fuzz.sh $(FUZZ_SECONDS)

C_EXAMPLE = $(CC) -O2 -std=c11 -Wall -Wextra -Werror -Iinclude $(1) -L$(REL) -lscones \
	  -Wl,-rpath,$(abspath $(REL)) -lm -o $(2)

demo-programs: build
	$(call C_EXAMPLE,examples/c/gaussian_transport.c,$(REL)/gaussian_transport)
	$(call C_EXAMPLE,examples/c/swiss_roll.c,$(REL)/swiss_roll)

demo: demo-programs
	$(REL)/gaussian_transport --out out
	$(REL)/swiss_roll --out out
	$(REL)/examples/spot_pairs --quick --out-dir out/spot_pairs

# DASPOT (thesis section 3.5) on the scikit-learn digits, 3 seeds, 1 thread (docs/results/daspot.md;
# about 8 minutes on this busy 2-core machine, data prepared on first use by
# scripts/prepare_digits.sh).
daspot: build
	nice -n 5 $(REL)/examples/daspot_digits --domains faded,inverted,none --seeds 3 --out out/daspot

# Regenerates include/scones.h from src/ffi (tests/header.rs fails while it is stale).
header: setup
	$(ENV) cargo build --release --lib
	cp "$$(ls -t $(REL)/build/scones-*/out/scones.h | head -1)" include/scones.h

# Library vs a plain PyTorch / POT peer per row (benches/side_by_side.py); BENCH_ARGS=--quick
# for the under-5-minute variant. bench-throughput keeps the library-only sweep of examples/bench.rs.
bench: build
	$(ENV) "$$(scripts/setup-pot.sh)" benches/side_by_side.py --out out/bench.json $(BENCH_ARGS)

bench-quick: build
	$(ENV) "$$(scripts/setup-pot.sh)" benches/side_by_side.py --quick --out out/bench.json

# The demo's programs idle and with one core held by a busy loop (benches/busy_host.py);
# BENCH_ARGS=--quick for the short variant.
bench-busy: demo-programs
	python3 benches/busy_host.py --out out/busy_host.json $(BENCH_ARGS)

bench-throughput: build
	$(ENV) cargo run --release --example bench -- --out out/bench_throughput.json

# The paper's CelebA-size potentials at d = 64 and 3 x 64 x 64 (issue 13 item 5; about 15 min on
# 2 cores): dual iterations/s and Langevin chain-steps/s with a TorchScript score, 1 and 2
# threads; BENCH_ARGS="--device cuda" on a GPU machine. docs/results/bench_image_shapes.md.
bench-image-shapes: build
	$(ENV) nice -n 5 cargo run --release --example bench -- --image-shapes --out out/bench_image_shapes.json $(BENCH_ARGS)

clean:
	cargo clean
