# scones: `make test` runs every test, `make demo` the Gaussian transport demo. Both set up what
# they need on first use (the cached torch 2.11.0 environment under ~/.cache/scones, the build).
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
CC ?= cc
REL := target/release
ENV := source scripts/env.sh &&

.PHONY: all setup build test test-rust demo header bench clean

all: build

setup:
	@scripts/setup-torch.sh >/dev/null

# The cdylib carries the soname libscones.so.0 (see build.rs); programs linked with -lscones
# record that name, so the build folder gets the matching link.
build: setup
	$(ENV) cargo build --release --lib --examples
	ln -sf libscones.so $(REL)/libscones.so.0

test: build
	$(ENV) cargo test --release

C_EXAMPLE = $(CC) -O2 -std=c11 -Wall -Wextra -Werror -Iinclude $(1) -L$(REL) -lscones \
	  -Wl,-rpath,$(abspath $(REL)) -lm -o $(2)

demo: build
	$(call C_EXAMPLE,examples/c/gaussian_transport.c,$(REL)/gaussian_transport)
	$(call C_EXAMPLE,examples/c/swiss_roll.c,$(REL)/swiss_roll)
	$(REL)/gaussian_transport --out out
	$(REL)/swiss_roll --out out

# Regenerates include/scones.h from src/ffi (tests/header.rs fails while it is stale).
header: setup
	$(ENV) cargo build --release --lib
	cp "$$(ls -t $(REL)/build/scones-*/out/scones.h | head -1)" include/scones.h

bench: build
	$(ENV) cargo run --release --example bench -- --out out/bench.json

clean:
	cargo clean
