# apigw-vpc-probe — the two commands a newcomer needs: `make demo` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
BIN := target/debug/apigw-vpc-probe

# Debian packages the tests use: nft and ip build the isolated network namespaces, curl plays a
# caller; the network lab adds dnsmasq (the VPC's DNS) and jq (its assertions). Installed only
# when missing, and only as root (a non-root run says what it skips).
TEST_PACKAGES := nftables iproute2 util-linux curl dnsmasq-base jq

# Benchmarks (`make bench`, issue 6): which binary is measured. `release` is `cargo build
# --release` (glibc); once issue 5's `make build` (the static musl binary FC runs) is on main, set
# BENCH_VIA := build here (or `make bench BENCH_VIA=build`).
BENCH_VIA := release
ifeq ($(BENCH_VIA),build)
BENCH_BIN := target/x86_64-unknown-linux-musl/release/apigw-vpc-probe
BENCH_LABEL := make build: static x86_64-unknown-linux-musl, what FC runs
BENCH_PACKAGE := dist/apigw-vpc-probe.zip
else
BENCH_BIN := target/release/apigw-vpc-probe
BENCH_LABEL := cargo build --release: glibc, not the shipped musl binary
# No package of this binary: the runner zips it itself to report a package size.
BENCH_PACKAGE :=
endif
# Debian packages the benchmark's peers and load generator come from.
BENCH_PACKAGES := curl wrk prometheus-blackbox-exporter python3

.PHONY: all build demo test lint fmt deps lab lab-test bench bench-deps bench-release bench-build

all: build

build:
	$(CARGO) build

## demo: start the local stand-in (DNS, API Gateway, backend) and invoke the function the three
## ways FC does; prints every report.
demo:
	$(CARGO) run --quiet -- demo

## test: every test (unit, integration against the real binary, network-namespace tests, the
## network lab's failure matrix).
test: deps
	$(CARGO) test --all-targets
	$(CARGO) test --doc
	@$(MAKE) --no-print-directory lab-test

## lab: build both scenarios in network namespaces (needs root), invoke the function in each the
## way FC does, print the reports, tear everything down. See README, "Network lab".
lab: deps
	@CARGO="$(CARGO)" lab/lab.sh run

## lab-test: the network lab's failure matrix (needs root; skips, saying why, otherwise).
lab-test: deps
	@CARGO="$(CARGO)" lab/lab.sh test

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

deps:
	@missing=""; \
	for p in $(TEST_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "note: missing Debian packages:$$missing (not root: network-namespace tests will skip)"; \
	  fi; \
	fi

## bench: the function against the Python+curl function it replaces and blackbox_exporter
## (cold start, invocation, throughput, memory, accuracy); writes BENCHMARKS.md. A few minutes.
bench: bench-deps bench-$(BENCH_VIA)
	python3 bench/run --bin $(BENCH_BIN) --bin-label "$(BENCH_LABEL)" --package "$(BENCH_PACKAGE)" --out BENCHMARKS.md

bench-release:
	$(CARGO) build --release

bench-build: build package

bench-deps:
	@missing=""; \
	for p in $(BENCH_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "error: missing Debian packages:$$missing (run as root, or apt-get install them)"; exit 1; \
	  fi; \
	fi
