# warden's front door. Every target installs what is missing first.
#   make run    build, then run the main job on the embedded default: the
#               offline reports of the sample, then warden run with it fed in
#               (dashboard :3000/incidents, metrics :8000; Ctrl-C stops it)
#   make test   build and run every test, plain and under ASan+UBSan, plus a short fuzz run
#   make build  the optimised binary at build/warden
#   make bench  the benchmarks (figures go in docs/PERFORMANCE.md)
#   make deps   install the Debian packages in deps/debian-packages.txt that are missing

MAKEFLAGS += --no-print-directory
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 60
SAMPLE ?= examples/session.jsonl

.PHONY: all deps build dev asan fuzz run test test-plain test-asan test-fuzz bench clean

all: build

deps:
	@./scripts/install-deps.sh

build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

dev: deps
	@cmake --preset dev >/dev/null
	@cmake --build --preset dev -j $(JOBS)

asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)

run: build
	@echo "== warden positions --events $(SAMPLE)"
	@build/warden positions --events $(SAMPLE)
	@echo
	@echo "== warden pnl --events $(SAMPLE)"
	@build/warden pnl --events $(SAMPLE)
	@echo
	@echo "== warden drawdown --events $(SAMPLE)"
	@build/warden drawdown --events $(SAMPLE)
	@echo
	@echo
	@# The main job: the daemon on the embedded defaults, the sample fed in,
	@# a scratch store and a fresh demo token (admin) in build/.
	@rm -f build/run.db build/run.db-wal build/run.db-shm
	@umask 077 && od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >build/demo-token
	@printf 'tokens:\n  - {name: demo, role: admin, token_file: demo-token}\n' >build/demo.yaml
	@echo "== warden run: $(SAMPLE) fed in; Ctrl-C stops it"
	@echo "   dashboard  http://127.0.0.1:3000/incidents   token: $$(cat build/demo-token)"
	@echo "   metrics    http://127.0.0.1:8000/metrics"
	@echo "   API        http://127.0.0.1:3000/api/v1/status  (Authorization: Bearer TOKEN)"
	@build/warden run --config build/demo.yaml --db build/run.db --input $(SAMPLE)

test-plain: build
	@ctest --preset release -j $(JOBS)

test-asan: asan
	@ctest --preset asan -j $(JOBS)

test-fuzz: deps
	@FUZZ_SECONDS=$(FUZZ_SECONDS) ./scripts/fuzz-short.sh

test: test-plain test-asan test-fuzz
	@echo "make test: all suites passed (plain, ASan+UBSan, fuzz $(FUZZ_SECONDS)s)"

bench: build
	@build/bench/bench_decode
	@build/bench/bench_gate --signed-intents 0

clean:
	rm -rf build build-dev build-asan build-fuzz
