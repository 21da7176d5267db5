# CohortSync developer entry points. `make test` and `make demo` install what they need (apt, pip),
# so they work on a fresh Debian/Ubuntu machine with Swift 6; apt needs root or sudo.

SHELL := /bin/bash
SWIFT ?= swift
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := librdkafka-dev libssl-dev libmicrohttpd-dev pkg-config kcat protobuf-compiler curl
# What the operations tests check the ops/ files and docker-compose.yml with (no Docker engine needed).
OPS_APT_PACKAGES := prometheus docker-compose
OPS_PIP_PACKAGES := kubernetes-validate==1.37.0
# Every warning in our code fails the build: there are no dependencies, so all code is ours.
BUILD_FLAGS := -Xswiftc -warnings-as-errors
# Suites whose deadlines a loaded test process can miss (an idle member takes a record within 200 ms; a slow
# handler is never evicted; an HTTP exchange ends at its deadline; a stage logs at start within 20 s): in one run
# with every other suite on a 2-core machine, the idle member's median went from 30 ms to 1.3 s and a 2 s
# deadline's task did not run for 20 s.
TIMING_SUITES := IdleFetchPauseTests|SlowHandlerTests|URLSessionTransportTests|StageCommandLineTests
EXECUTABLES := cohortsync cohortsync-ingest cohortsync-normalize cohortsync-batcher cohortsync-upload-x cohortsync-upload-tiktok cohortsync-sandbox

.PHONY: test demo chaos chaos-reduced deps ops-tools build bench-e2e bench-latency kafka-up kafka-down clean

## deps: install the Debian packages that are missing (the broker comes from PyPI via scripts/kafka-up)
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

## ops-tools: Prometheus and promtool, docker-compose (for `config`), kubectl (kustomize), kubernetes-validate
ops-tools:
	@missing=""; for p in $(OPS_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v kubectl >/dev/null 2>&1 || missing="$$missing kubernetes-client"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@command -v kubernetes-validate >/dev/null 2>&1 || python3 -m pip install -q $(OPS_PIP_PACKAGES)

## build: compile every target, tests included
build: deps
	$(SWIFT) build --build-tests $(BUILD_FLAGS)

## test: start the local broker (unless one already runs), run every test, stop the broker even when tests fail.
## The edge-load suite (a 100 ms bound on /healthz), the timing suites (TIMING_SUITES above), the fuzz suites (a million inputs per target,
## all CPU), the demo's scenario (six processes and Prometheus) and the reduced chaos run (its own broker,
## SIGKILLs) each run on their own after the rest, so no load stretches another suite's deadlines on a 2-core
## machine.
## The fuzz run turns off Swift Testing's backtrace of every thrown error, which would otherwise cost more
## than the code under test (most fuzzed inputs are refused by a throw).
test: build ops-tools
	@if kcat -b 127.0.0.1:9092 -L -m 2 >/dev/null 2>&1; then started=no; else started=yes; scripts/kafka-up || exit 1; fi; \
	.build/debug/cohortsync topics create --member-partitions 4 --batch-partitions 2 >/dev/null || exit 1; \
	$(SWIFT) test --skip-build --skip 'DemoScenarioTests|FuzzTests|EdgeLoadTests|$(TIMING_SUITES)|ChaosTests' 2>&1 | tee .build/test.log; status=$${PIPESTATUS[0]}; \
	$(SWIFT) test --skip-build --filter EdgeLoadTests 2>&1 | tee -a .build/test.log; [ $${PIPESTATUS[0]} = 0 ] || status=1; \
	$(SWIFT) test --skip-build --filter '$(TIMING_SUITES)' 2>&1 | tee -a .build/test.log; [ $${PIPESTATUS[0]} = 0 ] || status=1; \
	SWT_SWIFT_ERROR_BACKTRACING_ENABLED=0 $(SWIFT) test --skip-build --filter FuzzTests 2>&1 | tee -a .build/test.log; [ $${PIPESTATUS[0]} = 0 ] || status=1; \
	$(SWIFT) test --skip-build --filter DemoScenarioTests 2>&1 | tee -a .build/test.log; [ $${PIPESTATUS[0]} = 0 ] || status=1; \
	$(SWIFT) test --skip-build --filter ChaosTests 2>&1 | tee -a .build/test.log; [ $${PIPESTATUS[0]} = 0 ] || status=1; \
	if [ $$started = yes ]; then scripts/kafka-down; fi; \
	scripts/test-summary < .build/test.log; \
	exit $$status

## demo: build, start the broker and the ads sandbox, sync a synthetic cohort (MEMBERS=100000) end to end through every stage, check the sandbox hash for hash
demo: deps
	$(SWIFT) build $(BUILD_FLAGS)
	@for exe in $(EXECUTABLES); do .build/debug/$$exe --help >/dev/null || exit 1; done
	scripts/demo $(if $(MEMBERS),--members $(MEMBERS))

## chaos: release builds; MEMBERS=1000000 members with 10 % churn through every stage while stages are SIGKILLed, the broker restarts once and the sandbox injects faults; exact in the end (CHAOS_SECONDS=240)
chaos: deps
	$(SWIFT) build -c release $(BUILD_FLAGS)
	scripts/chaos --members $(or $(MEMBERS),1000000) --chaos-seconds $(or $(CHAOS_SECONDS),240)

## chaos-reduced: the chaos run as ChaosTests holds it in make test (50,000 members, debug builds, no broker restart), on its own broker
chaos-reduced: build
	$(SWIFT) test --skip-build --filter ChaosTests

## bench-e2e: a generated cohort's snapshot (MEMBERS=1000000) through every stage, release builds, against the kcat pipe
bench-e2e: deps
	MEMBERS=$(or $(MEMBERS),1000000) scripts/bench-e2e

## bench-latency: upstream record to sandbox audience at RATE=10000 records/s for SECONDS=60, maxDelaySeconds 1; p50 and p99
bench-latency: deps
	RATE=$(or $(RATE),10000) SECONDS_TO_RUN=$(or $(SECONDS),60) scripts/bench-latency

kafka-up:
	scripts/kafka-up

kafka-down:
	scripts/kafka-down

clean:
	rm -rf .build
