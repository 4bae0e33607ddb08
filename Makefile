# apigw-vpc-probe — the two commands a newcomer needs: `make demo` and `make test`.
# Deploying: `make deploy` (builds, packages, and runs Serverless Devs; README, "Deploying").
SHELL := /bin/bash
CARGO ?= cargo
BIN := target/debug/apigw-vpc-probe

# Debian packages the tests use: nft and ip build the isolated network namespaces, curl plays a
# caller; the network lab adds dnsmasq (the VPC's DNS) and jq (its assertions); prometheus (and
# its promtool) scrapes /probe in tests/metrics.rs. Installed only when missing, and only as
# root (a non-root run says what it skips).
TEST_TOOLS := nft:nftables ip:iproute2 unshare:util-linux curl:curl dnsmasq:dnsmasq-base jq:jq prometheus:prometheus

# The function's binary: static, x86_64 musl, so it runs on any FC custom runtime (debian10 has
# glibc 2.28, older than this machine's). ring compiles C, with musl-gcc for this target.
MUSL_TARGET := x86_64-unknown-linux-musl
RELEASE_BIN := target/$(MUSL_TARGET)/release/apigw-vpc-probe
# What FC unpacks into /code: the code directory s.yaml deploys, and the same files zipped.
CODE_DIR := dist/code
PACKAGE_ZIP := dist/apigw-vpc-probe.zip
# Fixed file times in the zip, so the same binary gives the same package.
PACKAGE_MTIME := 2020-01-01 00:00:00 UTC
# Commands `make build`/`package` and the package tests need, each with its Debian package.
BUILD_TOOLS := musl-gcc:musl-tools zip:zip unzip:unzip readelf:binutils file:file

# Serverless Devs, from npm. The tests render s*.yaml with it (`s preview`); `make deploy` uses
# an `s` on PATH if there is one, else this one. Installed under target/, no root needed.
S_CLI_VERSION := 3.1.10
S_CLI_DIR := target/s-cli
S_CLI := $(S_CLI_DIR)/node_modules/.bin/s
NODE_TOOLS := node:nodejs npm:npm

# make deploy [SCENARIO=same-region|cross-region] [ACCESS=<s config alias>]
SCENARIO ?= same-region
ACCESS ?=
S_TEMPLATE_same-region := s.yaml
S_TEMPLATE_cross-region := s.cross-region.yaml
S_TEMPLATE = $(S_TEMPLATE_$(SCENARIO))
DEPLOY_VARS := REGION VPC_ID VSWITCH_IDS SECURITY_GROUP_ID ROLE_ARN APIGW_GROUP_ID APIGW_PATH
DEPLOY_VARS_cross-region := APIGW_REGION

# Benchmarks (`make bench`): which binary is measured. `build` is the static musl binary FC runs
# (`make build`) and its package; `release` (`make bench BENCH_VIA=release`) is `cargo build
# --release` for glibc, for comparison.
BENCH_VIA := build
ifeq ($(BENCH_VIA),build)
BENCH_BIN := $(RELEASE_BIN)
BENCH_LABEL := make build: static x86_64-unknown-linux-musl, what FC runs
BENCH_PACKAGE := $(PACKAGE_ZIP)
else
BENCH_BIN := target/release/apigw-vpc-probe
BENCH_LABEL := cargo build --release: glibc, not the shipped musl binary
# No package of this binary: the runner zips it itself to report a package size.
BENCH_PACKAGE :=
endif
# Debian packages the benchmark's peers and load generator come from.
BENCH_TOOLS := curl:curl wrk:wrk prometheus-blackbox-exporter:prometheus-blackbox-exporter python3:python3 openssl:openssl
# The stand-in's binary (bench/run.py --standin; the runner appends `backend --listen …`), a
# release build so that the backend is never what limits a load step.
BENCH_STANDIN := target/release/apigw-standin
SMOKE_STANDIN := target/debug/apigw-standin

# Alibaba Cloud's official Python SDKs, the reference the tests judge our OpenAPI wire format and
# the stand-in control plane by (signature V3, response models). Pinned to the versions the
# control-plane spec was checked with; installed from PyPI into a virtual environment under
# target/, no root needed.
PY_SDK_DIR := target/py-sdk
PY_SDK := $(PY_SDK_DIR)/bin/python
PY_SDK_PACKAGES := alibabacloud_openapi_util==0.2.4 alibabacloud_tea_openapi==0.4.6 \
	alibabacloud_cloudapi20160714==4.9.0 alibabacloud_vpc20160428==7.2.2 \
	alibabacloud_cbn20170912==1.4.0 alibabacloud_fc20230330==4.8.3 alibabacloud_cms20190101==4.0.10 \
	alibabacloud_sls20201230==5.15.1

.PHONY: all build package deploy demo test lint fmt deps build-deps s-cli py-sdk lab lab-test bench bench-render bench-smoke bench-deps bench-release bench-build

all: build

# Installs each missing command's Debian package (root only). $(1): cmd:package pairs.
# $(2): what a run as another user does without them: empty to stop with an error, or a note to
# print and carry on (the tests that need them then say why they skip).
define install_tools
	@missing=""; \
	for pair in $(1); do command -v $${pair%%:*} >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  elif [ -n "$(2)" ]; then \
	    echo "note: missing Debian packages:$$missing ($(2))"; \
	  else \
	    echo "error: missing Debian packages:$$missing (run as root, or: sudo apt-get install$$missing)"; exit 1; \
	  fi; \
	fi
endef

## build-deps: musl-tools, zip, unzip, binutils, file, and the rustup target for musl.
build-deps:
	$(call install_tools,$(BUILD_TOOLS))
	@if ! rustup target list --installed 2>/dev/null | grep -qx '$(MUSL_TARGET)'; then \
	  command -v rustup >/dev/null || { echo "error: rustup is needed to add the $(MUSL_TARGET) target"; exit 1; }; \
	  echo "rustup target add $(MUSL_TARGET)"; rustup target add $(MUSL_TARGET); \
	fi

## build: the static release binary FC runs; prints its size.
build: build-deps
	CC_x86_64_unknown_linux_musl=musl-gcc $(CARGO) build --release --locked --target $(MUSL_TARGET) -p apigw-vpc-probe
	@echo "$(RELEASE_BIN): $$(stat -c %s $(RELEASE_BIN) | awk '{printf "%d bytes (%.1f MiB)", $$1, $$1/1048576}'), $$(file -b $(RELEASE_BIN) | grep -o 'stat[a-z-]* linked')"

## package: dist/code (bootstrap + binary, what s.yaml deploys) and dist/apigw-vpc-probe.zip.
package: build
	rm -rf $(CODE_DIR) $(PACKAGE_ZIP)
	mkdir -p $(CODE_DIR)
	install -m 0755 bootstrap $(CODE_DIR)/bootstrap
	install -m 0755 $(RELEASE_BIN) $(CODE_DIR)/apigw-vpc-probe
	touch -d '$(PACKAGE_MTIME)' $(CODE_DIR)/bootstrap $(CODE_DIR)/apigw-vpc-probe
	cd $(CODE_DIR) && TZ=UTC zip -q -X -9 ../$(notdir $(PACKAGE_ZIP)) bootstrap apigw-vpc-probe
	@echo "$(PACKAGE_ZIP): $$(stat -c %s $(PACKAGE_ZIP)) bytes"; zipinfo $(PACKAGE_ZIP) | sed -n '3,4p'

## s-cli: Serverless Devs $(S_CLI_VERSION) under target/ (npm), for the tests and make deploy.
s-cli:
	$(call install_tools,$(NODE_TOOLS))
	@installed=$$(node -p "require('./$(S_CLI_DIR)/node_modules/@serverless-devs/s/package.json').version" 2>/dev/null); \
	if [ ! -x $(S_CLI) ] || [ "$$installed" != "$(S_CLI_VERSION)" ]; then \
	  echo "npm install @serverless-devs/s@$(S_CLI_VERSION) (into $(S_CLI_DIR))"; \
	  mkdir -p $(S_CLI_DIR) && npm install --silent --no-audit --no-fund --prefix $(S_CLI_DIR) @serverless-devs/s@$(S_CLI_VERSION); \
	fi

## py-sdk: the official Python SDKs in $(PY_SDK_DIR) (a venv), for the tests' reference checks.
py-sdk:
	@if ! $(PY_SDK) -c 'import alibabacloud_openapi_util, alibabacloud_tea_openapi, alibabacloud_cms20190101, alibabacloud_sls20201230' 2>/dev/null \
	   || [ "$$(cat $(PY_SDK_DIR)/.packages 2>/dev/null)" != "$(PY_SDK_PACKAGES)" ]; then \
	  echo "python3 -m venv $(PY_SDK_DIR) && pip install $(PY_SDK_PACKAGES)"; \
	  python3 -m venv $(PY_SDK_DIR) && $(PY_SDK) -m pip install --quiet --disable-pip-version-check $(PY_SDK_PACKAGES) \
	  && echo "$(PY_SDK_PACKAGES)" > $(PY_SDK_DIR)/.packages; \
	fi

## deploy: package, then `s deploy -y` for SCENARIO (same-region: s.yaml; cross-region:
## s.cross-region.yaml). Not part of the tests: it creates resources in your account.
deploy: package
	@[ -n "$(S_TEMPLATE)" ] || { echo "error: SCENARIO must be same-region or cross-region, not '$(SCENARIO)'"; exit 1; }
	@missing=""; \
	for v in $(DEPLOY_VARS) $(DEPLOY_VARS_$(SCENARIO)); do [ -n "$${!v}" ] || missing="$$missing $$v"; done; \
	if [ -n "$$missing" ]; then echo "error: set these variables first (README, \"Deploying\"):$$missing"; exit 1; fi; \
	case "$$VSWITCH_IDS" in \[*) ;; *) echo "error: VSWITCH_IDS must be a JSON array, e.g. VSWITCH_IDS='[\"vsw-aaa\"]'"; exit 1;; esac
	@if command -v s >/dev/null 2>&1; then s=s; else $(MAKE) --no-print-directory s-cli && s=$(S_CLI); fi; \
	echo "$$s deploy -y -t $(S_TEMPLATE)$(if $(ACCESS), -a $(ACCESS))"; \
	$$s deploy -y -t $(S_TEMPLATE)$(if $(ACCESS), -a $(ACCESS))

## demo: start the local stand-in (DNS, API Gateway, backend) and invoke the function the three
## ways FC does; prints every report. The stand-in is its own binary (crates/standin), which
## finds the function's binary next to it.
demo:
	$(CARGO) build --quiet
	$(CARGO) run --quiet -p apigw-standin -- demo

## test: every test (unit, integration against the real binary, network-namespace tests, the
## package and s*.yaml tests in tests/deploy.rs, which need `make package` and `s`, the
## network lab's failure matrix, and the benchmark runner's smoke run).
test: deps package s-cli py-sdk
	DEPLOY_TESTS=required S_CLI=$(abspath $(S_CLI)) PY_SDK=$(abspath $(PY_SDK)) \
	  PROMETHEUS_TESTS=$(if $(filter 0,$(shell id -u)),required,) $(CARGO) test --all-targets
	$(CARGO) test --doc
	@$(MAKE) --no-print-directory lab-test
	@$(MAKE) --no-print-directory bench-smoke

## lab: build both scenarios in network namespaces (needs root), invoke the function in each the
## way FC does, print the reports, tear everything down. See README, "Network lab".
lab: deps
	@CARGO="$(CARGO)" lab/lab.sh run

## lab-test: the network lab's failure matrix (needs root; skips, saying why, otherwise).
lab-test: deps
	@CARGO="$(CARGO)" lab/lab.sh test

# The shell scripts the lint checks, and the Debian package of its checker.
SHELL_SCRIPTS := bootstrap .ci/run lab/lab.sh
LINT_TOOLS := shellcheck:shellcheck

## lint: formatting, clippy (warnings are errors), the docs (rustdoc warnings are errors: the
## library's public items are documented), and shellcheck on the shell scripts.
lint:
	$(call install_tools,$(LINT_TOOLS))
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps --quiet
	shellcheck $(SHELL_SCRIPTS)

fmt:
	$(CARGO) fmt --all

deps:
	$(call install_tools,$(TEST_TOOLS),not root: network-namespace tests and the lab will skip)

## bench: the function against the Python+curl function it replaces and blackbox_exporter
## (cold start, invocation, throughput, memory, accuracy); writes every sample to BENCHMARKS.json
## and renders BENCHMARKS.md from it. A few minutes.
bench: bench-deps bench-$(BENCH_VIA)
	$(CARGO) build --release --locked -p apigw-standin
	python3 bench/run.py --bin $(BENCH_BIN) --bin-label "$(BENCH_LABEL)" --package "$(BENCH_PACKAGE)" \
	  --standin "$(BENCH_STANDIN)" --json BENCHMARKS.json --out BENCHMARKS.md

## bench-render: BENCHMARKS.md again from BENCHMARKS.json, without measuring (after a change to
## the report's layout).
bench-render:
	python3 bench/run.py render BENCHMARKS.json --out BENCHMARKS.md

## bench-smoke: bench/run.py end to end with the fewest repetitions (every step, the JSON and
## the Markdown rendered from it) against the debug binary, then bench/smoke.py checks the output's
## shape and counts, not its numbers. About 40 s (the cross-check's fault cases wait for their
## deadline); part of `make test`. Installs the peers' packages as root; skips, saying why, when
## one is missing otherwise.
bench-smoke:
	$(call install_tools,$(BENCH_TOOLS),not root: the bench smoke will skip)
	$(CARGO) build --quiet
	@if command -v python3 >/dev/null 2>&1; then \
	  python3 bench/smoke.py --bin $(BIN) --standin "$(SMOKE_STANDIN)"; \
	else echo "SKIPPED (bench smoke): needs python3 (make bench-smoke installs it when run as root)"; fi

bench-release:
	$(CARGO) build --release -p apigw-vpc-probe

bench-build: build package

bench-deps:
	$(call install_tools,$(BENCH_TOOLS))
