# session-gateway: `make run` starts the gateway in front of the bundled echo backend; `make test` runs every test.
SWIFT        ?= swift
CONFIG       ?= gateway.yaml
BIN_RELEASE   = .build/release/session-gateway
# Build and test needs: headers and libraries, plus the real clients and servers the integration tests drive
# (nodejs runs the README tutorial's backend, deploy/examples/node/app.js, in TutorialTests).
APT_PACKAGES  = pkg-config libssl-dev libnghttp2-dev libhiredis-dev libjemalloc-dev openssl curl nghttp2-client redis-server nodejs \
                systemd procps python3-venv
# systemd-analyze verify needs the unit's commands to exist: systemd for the tool, procps for ExecReload's /bin/kill.
# The deploy/ tests validate the Kubernetes manifests with kubernetes-validate (PyPI, offline schemas), kept in a
# venv inside the build directory: no root needed, nothing added to the system Python (Debian's is externally managed).
TOOLS_VENV    = .build/tools
KUBERNETES_VALIDATE = kubernetes-validate==1.37.0
# make install: PREFIX for the binary; the unit and the example config go to the system's /etc under DESTDIR.
PREFIX       ?= /usr/local
DESTDIR      ?=
UNITDIR      ?= /etc/systemd/system
CONFDIR      ?= /etc/session-gateway
BENCH_PACKAGES = nginx-light haproxy wrk nghttp2-client nghttp2-proxy python3 redis-server openssl

.PHONY: deps bench-deps build release test image-test run install bench bench-h2 bench-stores clean

# A package counts only when installed: `dpkg -s` also succeeds for a removed one that left its config files behind.
INSTALLED     = installed() { dpkg-query -W -f='$${Status}' "$$1" 2>/dev/null | grep -q '^install ok installed$$'; }; installed
# Installs what is missing (only when run as root; otherwise says what to install).
deps:
	@missing=""; for p in $(APT_PACKAGES); do $(INSTALLED) $$p || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then echo "installing:$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing packages:$$missing (run: sudo apt-get install$$missing)"; exit 1; fi; fi
	@if [ "$$($(TOOLS_VENV)/bin/kubernetes-validate --version 2>/dev/null)" != "$(lastword $(subst ==, ,$(KUBERNETES_VALIDATE)))" ]; then \
	  echo "installing $(KUBERNETES_VALIDATE) into $(TOOLS_VENV)"; \
	  /usr/bin/python3 -m venv $(TOOLS_VENV) && $(TOOLS_VENV)/bin/pip install -q --disable-pip-version-check "$(KUBERNETES_VALIDATE)" \
	    || { echo "could not install $(KUBERNETES_VALIDATE) (run: /usr/bin/python3 -m venv $(TOOLS_VENV) && $(TOOLS_VENV)/bin/pip install '$(KUBERNETES_VALIDATE)')"; exit 1; }; fi

bench-deps:
	@missing=""; for p in $(BENCH_PACKAGES); do $(INSTALLED) $$p || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing packages:$$missing"; exit 1; fi; fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# The container image (deploy/Dockerfile) built from a static binary on a debootstrapped base and run for real
# with podman: see deploy/image-test.sh. Root only; no registry needed.
image-test: deps
	SWIFT="$(SWIFT)" ./deploy/image-test.sh

# libFuzzer targets (issue 19, Tests/Fuzz/README.md): each `fuzz-<name>` of Sources/FuzzTargets/<name> is built alone with
# libFuzzer and ASan into .build-fuzz, then run for FUZZ_SECONDS on a working copy of its seed corpus (Tests/Fuzz is
# never written). A crash or a violated invariant stops it, leaves the input in .build-fuzz/artifacts/<name>/ and fails
# the target. `make fuzz` runs them all, one after another; `make fuzz-<name>` one.
FUZZ_SECONDS ?= 60
FUZZ_RSS_MB  ?= 2048
FUZZ_DIR      = .build-fuzz
FUZZ_TARGETS  = $(addprefix fuzz-,$(notdir $(patsubst %/,%,$(wildcard Sources/FuzzTargets/*/))))
# swiftc keeps only the last -sanitize= it is given: SwiftPM's `--sanitize=fuzzer --sanitize=address` compiles Swift code
# with ASan but without libFuzzer's coverage (no __sancov sections; the fuzzer runs blind). One combined flag after
# them restores both; clang (the C targets) already takes both.
FUZZ_SWIFTFLAGS = -Xswiftc -sanitize=fuzzer,address

.PHONY: fuzz $(FUZZ_TARGETS)
fuzz: $(FUZZ_TARGETS)

# SWIFT_BACKTRACE=enable=no: with Swift's crash handler on, ASan reports a false use-after-free inside it.
$(FUZZ_TARGETS): fuzz-%: deps
	$(SWIFT) build -c release --product fuzz-$* --sanitize=fuzzer --sanitize=address $(FUZZ_SWIFTFLAGS) --scratch-path $(FUZZ_DIR)
	@rm -rf $(FUZZ_DIR)/corpus/$* && mkdir -p $(FUZZ_DIR)/corpus/$* $(FUZZ_DIR)/artifacts/$*
	@cp -R Tests/Fuzz/$*/corpus/. $(FUZZ_DIR)/corpus/$*/
	SWIFT_BACKTRACE=enable=no $(FUZZ_DIR)/release/fuzz-$* $(FUZZ_DIR)/corpus/$* -dict=Tests/Fuzz/$*/$*.dict \
	  -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=$(FUZZ_RSS_MB) -artifact_prefix=$(FUZZ_DIR)/artifacts/$*/ -print_final_stats=1

# Installs the release binary, the systemd unit (ExecStart pointing at $(PREFIX)/bin) and, unless one is already there,
# the example config. BINARY=PATH installs a binary built elsewhere (a static build, or the debug one the tests use)
# without building.
install: $(if $(BINARY),,release)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(UNITDIR) $(DESTDIR)$(CONFDIR)
	install -m 0755 $(or $(BINARY),$(BIN_RELEASE)) $(DESTDIR)$(PREFIX)/bin/session-gateway
	sed 's|/usr/local/bin/session-gateway|$(PREFIX)/bin/session-gateway|g' deploy/systemd/session-gateway.service > $(DESTDIR)$(UNITDIR)/session-gateway.service.tmp
	chmod 0644 $(DESTDIR)$(UNITDIR)/session-gateway.service.tmp
	mv $(DESTDIR)$(UNITDIR)/session-gateway.service.tmp $(DESTDIR)$(UNITDIR)/session-gateway.service
	@if [ -e $(DESTDIR)$(CONFDIR)/gateway.yaml ]; then echo "kept the existing $(DESTDIR)$(CONFDIR)/gateway.yaml"; \
	else install -m 0644 deploy/systemd/gateway.yaml $(DESTDIR)$(CONFDIR)/gateway.yaml; fi
	@echo "next: put the app secret in $(CONFDIR)/shopify-api-secret (mode 0600), edit $(CONFDIR)/gateway.yaml,"
	@echo "      then: systemctl daemon-reload && systemctl enable --now session-gateway"

run: release
	@./deploy/run-local.sh $(BIN_RELEASE) $(CONFIG)

# The whole suite under AddressSanitizer and ThreadSanitizer (issue 19): each a full build in its own scratch
# directory, so the normal .build is left alone; the integration tests start the session-gateway of the same build.
# Every process's reports (the test runner's and each session-gateway child's) are written under
# <scratch>/reports/: the target prints them and fails when there is any, even if every test passed.
# SWIFT_BACKTRACE=enable=no: Swift's crash handler makes ASan report a false use-after-free inside it.
ASAN_DIR      = .build-asan
TSAN_DIR      = .build-tsan
# detect_leaks=0: LeakSanitizer cannot read the pointers Swift keeps to weak-reference side tables, so every
# process reported "leaks" at exit (Tests/Sanitizers/README.md). The rest are ASan's defaults, spelled out.
ASAN_TEST_OPTIONS = detect_leaks=0:halt_on_error=1:detect_stack_use_after_return=0:log_path=$(CURDIR)/$(ASAN_DIR)/reports/asan
# halt_on_error=0 keeps going to report every race of the run; second_deadlock_stack=1 shows both sides of a lock
# inversion. Each suppression in tsan.supp says why it is there.
TSAN_TEST_OPTIONS = halt_on_error=0:second_deadlock_stack=1:suppressions=$(CURDIR)/Tests/Sanitizers/tsan.supp:log_path=$(CURDIR)/$(TSAN_DIR)/reports/tsan
# Arguments for `swift test` (a --filter while iterating on one suite); empty runs the whole suite.
SANITIZER_TEST_ARGS ?=

.PHONY: test-asan test-tsan
test-asan: deps
	$(SWIFT) build --build-tests --sanitize=address --scratch-path $(ASAN_DIR)
	@rm -rf $(ASAN_DIR)/reports && mkdir -p $(ASAN_DIR)/reports
	@SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=$(ASAN_TEST_OPTIONS) \
	  $(SWIFT) test --skip-build --sanitize=address --scratch-path $(ASAN_DIR) $(SANITIZER_TEST_ARGS); status=$$?; \
	  Tests/Sanitizers/reports.sh $(ASAN_DIR)/reports "$$status"

test-tsan: deps
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path $(TSAN_DIR)
	@rm -rf $(TSAN_DIR)/reports && mkdir -p $(TSAN_DIR)/reports
	@SWIFT_BACKTRACE=enable=no TSAN_OPTIONS=$(TSAN_TEST_OPTIONS) \
	  $(SWIFT) test --skip-build --sanitize=thread --scratch-path $(TSAN_DIR) $(SANITIZER_TEST_ARGS); status=$$?; \
	  Tests/Sanitizers/reports.sh $(TSAN_DIR)/reports "$$status"

bench: release bench-deps
	./Benchmarks/run.sh

bench-h2: release bench-deps
	./Benchmarks/run-h2.sh

bench-stores: release bench-deps
	./Benchmarks/run-stores.sh

clean:
	rm -rf .build $(FUZZ_DIR)
