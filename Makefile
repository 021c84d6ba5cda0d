# The two commands of the README, for a fresh Debian 12 machine. Everything else is CMake (CMakeLists.txt).
#   make run   install what is missing, build (release), start one node: data in ./data, REST 8082, WS 8092
#   make test  install what is missing, then the stages below in order; it stops at the first that fails,
#              names it, and exits non-zero:
#     test-layers no source file includes a layer above its own (tests/layers.sh, with its self-test)
#     test-gcc    gcc, ASan+UBSan (build/test): every test through ctest
#     test-clang  clang, ASan+UBSan (build/clang): every test through ctest
#     test-tsan   clang, ThreadSanitizer (build/tsan): the integration tests (server and test threads)
#     test-fuzz   clang, libFuzzer+ASan+UBSan (build/fuzz): each harness of tests/fuzz for FUZZ_SECONDS
SHELL := /bin/bash
RUN_PKGS  := build-essential cmake pkg-config libmicrohttpd-dev libjansson-dev libisal-dev libwebsockets-dev libuv1-dev
# From <codename>-backports (.ci/apt-backports derives the suite from the machine's own Debian sources):
# libraft 0.22.1, the maintained cowsql/raft, for the metadata quorum (README "Cluster").
BACKPORT_PKGS := libraft-dev=0.22
# clang + libclang-rt-14-dev: the clang stages (libclang-rt-14-dev ships libFuzzer and the sanitizer runtimes).
TEST_PKGS := $(RUN_PKGS) check libsubunit-dev libcurl4-openssl-dev curl chromium prometheus clang libclang-rt-14-dev \
             $(if $(shell command -v node),,nodejs npm)
JOBS      ?= $(shell nproc)
FUZZ_SECONDS ?= 8
STAGES    := test-layers test-gcc test-clang test-tsan test-fuzz
CMAKE_DBG := -DCMAKE_BUILD_TYPE=Debug -DSLUICE_WERROR=ON
# TSan: stop at the first report; tests/tsan.supp lists the races that are not ours (each with its reason).
TSAN_ENV  := TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp"

.PHONY: run cluster test $(STAGES) build-release build-test build-clang build-tsan build-fuzz deps-run deps-test clean

run: deps-run build-release
	./build/release/sluice

# A local three-node cluster (README "Cluster"): data in ./data/n1..n3, ports printed; Ctrl-C stops it.
cluster: deps-run build-release
	tests/cluster/local.sh build/release/sluice

# Runs the stages one by one (a sub-make each) and times them; the first failure ends the run.
test: deps-test
	@t_all=$$(date +%s); times=""; \
	for s in $(STAGES); do \
	  echo "==== make test: $$s ===="; t0=$$(date +%s); \
	  if ! $(MAKE) --no-print-directory $$s; then \
	    echo "==== make test: FAILED in stage $$s (after $$(( $$(date +%s) - t0 )) s) ===="; exit 1; fi; \
	  times="$$times $$s=$$(( $$(date +%s) - t0 ))s"; \
	done; \
	echo "==== make test: all stages passed in $$(( $$(date +%s) - t_all )) s:$$times ===="

# $(call ctest_in,build dir,ctest arguments,environment): ctest, then the Check summaries, keeping ctest's status.
define ctest_in
@cd $(1) && { $(3) ctest --output-on-failure -j$(JOBS) $(2); rc=$$?; \
  echo "---- Check summaries ($(1)) ----"; \
  grep -ahE '^[0-9]+%: Checks: ' Testing/Temporary/LastTest.log || true; exit $$rc; }
endef

test-layers:
	tests/layers.sh --self-test
	tests/layers.sh

test-gcc: build-test
	$(call ctest_in,build/test)

test-clang: build-clang
	$(call ctest_in,build/clang)

# setarch -R: clang 14's TSan cannot map its shadow under high-entropy ASLR (vm.mmap_rnd_bits > 28, the
# default of recent kernels); without randomization it always can. Children (the sluice servers) inherit it.
test-tsan: build-tsan
	$(call ctest_in,build/tsan,-L integration,$(TSAN_ENV) setarch $$(uname -m) -R)

# A fresh work corpus each time (what tests/fuzz/run.sh found in build/fuzz/work stays).
test-fuzz: build-fuzz
	@rm -rf build/fuzz/ci-work
	FUZZ_WORK=build/fuzz/ci-work tests/fuzz/run.sh $(FUZZ_SECONDS) 1 build/fuzz

build-release:
	cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF
	cmake --build build/release -j$(JOBS)

build-test:
	cmake -S . -B build/test $(CMAKE_DBG) -DSLUICE_SANITIZE=address
	cmake --build build/test -j$(JOBS)

build-clang:
	cmake -S . -B build/clang $(CMAKE_DBG) -DCMAKE_C_COMPILER=clang -DSLUICE_SANITIZE=address
	cmake --build build/clang -j$(JOBS)

# Only what test-tsan runs: the server and the integration tests (target integration_tests).
build-tsan:
	cmake -S . -B build/tsan $(CMAKE_DBG) -DCMAKE_C_COMPILER=clang -DSLUICE_SANITIZE=thread -DSLUICE_BENCH=OFF
	cmake --build build/tsan -j$(JOBS) --target integration_tests

# Only the library layers and the harnesses (no tests, no benchmarks: BUILD_TESTING=OFF, SLUICE_BENCH=OFF).
build-fuzz:
	cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=Debug -DSLUICE_WERROR=ON -DCMAKE_C_COMPILER=clang \
	  -DSLUICE_FUZZ=ON -DBUILD_TESTING=OFF -DSLUICE_BENCH=OFF
	cmake --build build/fuzz -j$(JOBS)

# Installs only the Debian packages that are missing; as root directly, otherwise through sudo.
deps-run:
	@.ci/apt-install $(RUN_PKGS)
	@.ci/apt-backports $(BACKPORT_PKGS)
deps-test:
	@.ci/apt-install $(TEST_PKGS)
	@.ci/apt-backports $(BACKPORT_PKGS)
	@[ -d tests/browser/node_modules/playwright-core ] && [ -d tests/browser/node_modules/undici ] || \
	  (cd tests/browser && npm ci --no-audit --no-fund)
	@[ -d tests/docs/node_modules/@redocly/cli ] || (cd tests/docs && npm ci --no-audit --no-fund)

clean:
	rm -rf build
