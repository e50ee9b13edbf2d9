# session-gateway: `make run` starts the gateway in front of the bundled echo backend; `make test` runs every test.
SWIFT        ?= swift
CONFIG       ?= gateway.yaml
BIN_RELEASE   = .build/release/session-gateway
# Build and test needs: headers and libraries, plus the real clients and servers the integration tests drive.
APT_PACKAGES  = pkg-config libssl-dev libnghttp2-dev libhiredis-dev libjemalloc-dev openssl curl nghttp2-client redis-server
BENCH_PACKAGES = nginx-light haproxy wrk nghttp2-client nghttp2-proxy python3 redis-server openssl

.PHONY: deps bench-deps build release test run bench bench-h2 bench-stores clean

# Installs what is missing (only when run as root; otherwise says what to install).
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then echo "installing:$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing packages:$$missing (run: sudo apt-get install$$missing)"; exit 1; fi; fi

bench-deps:
	@missing=""; for p in $(BENCH_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
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

run: release
	@./deploy/run-local.sh $(BIN_RELEASE) $(CONFIG)

bench: release bench-deps
	./Benchmarks/run.sh

bench-h2: release bench-deps
	./Benchmarks/run-h2.sh

bench-stores: release bench-deps
	./Benchmarks/run-stores.sh

clean:
	rm -rf .build
