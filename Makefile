# The two commands of the README, for a fresh Debian 12 machine. Everything else is CMake (CMakeLists.txt).
#   make run   install what is missing, build (release), start one node: data in ./data, REST 8082, WS 8092
#   make test  install what is missing, build with ASan+UBSan, run every test through ctest
SHELL := /bin/bash
RUN_PKGS  := build-essential cmake pkg-config libmicrohttpd-dev libjansson-dev libisal-dev libwebsockets-dev
TEST_PKGS := $(RUN_PKGS) check libsubunit-dev libcurl4-openssl-dev curl chromium prometheus $(if $(shell command -v node),,nodejs npm)
JOBS      ?= $(shell nproc)

.PHONY: run test build-release build-test deps-run deps-test clean

run: deps-run build-release
	./build/release/sluice

test: deps-test build-test
	@cd build/test && { ctest --output-on-failure -j$(JOBS); rc=$$?; \
	  echo "---- Check summaries ----"; \
	  grep -ahE '^[0-9]+%: Checks: ' Testing/Temporary/LastTest.log || true; exit $$rc; }

build-release:
	cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF
	cmake --build build/release -j$(JOBS)

build-test:
	cmake -S . -B build/test -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=ON -DSLUICE_WERROR=ON
	cmake --build build/test -j$(JOBS)

# Installs only the Debian packages that are missing; as root directly, otherwise through sudo.
deps-run:
	@.ci/apt-install $(RUN_PKGS)
deps-test:
	@.ci/apt-install $(TEST_PKGS)
	@[ -d tests/browser/node_modules/playwright-core ] && [ -d tests/browser/node_modules/undici ] || \
	  (cd tests/browser && npm ci --no-audit --no-fund)
	@[ -d tests/docs/node_modules/@redocly/cli ] || (cd tests/docs && npm ci --no-audit --no-fund)

clean:
	rm -rf build
