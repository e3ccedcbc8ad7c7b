# Strata: every target is documented with '## ' and listed by 'make help'.
SHELL      := /bin/bash
GO         ?= go
BIN        := bin/strata
VERSION    ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT     ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS    := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
# BPF toolchain, pinned: objects are committed, so only 'make generate' needs it.
CLANG      ?= clang
BPF_CFLAGS := -O2 -g -Wall -Werror -nostdinc
TEST_FLAGS ?= -count=1 -timeout 30m

.DEFAULT_GOAL := help
.PHONY: help build run test test-unit vet generate generate-check bench bench-peers bench-report fuzz clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build bin/strata
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/strata

run: build ## build and run the whole stack on this host (strata up)
	./$(BIN) up

vet: ## go vet and gofmt check
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' | grep -v '_bpfel.go$$')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

test: build vet generate-check ## the whole test suite (root-only tests skip without root)
	STRATA_BIN=$(CURDIR)/$(BIN) $(GO) test $(TEST_FLAGS) ./...

test-unit: ## unit tests only (-short), no processes or namespaces
	$(GO) test -short $(TEST_FLAGS) ./...

generate: ## regenerate BPF objects and Go bindings (needs clang)
	$(GO) generate ./dataplane/lb/... ./bench/xdpmeasure

generate-check: ## fail if 'make generate' would change committed files
	@if ls dataplane/lb/*/gen.go >/dev/null 2>&1 && command -v $(CLANG) >/dev/null; then \
	  $(MAKE) --no-print-directory generate && \
	  git diff --exit-code --stat -- bpf dataplane/lb bench/xdpmeasure || { echo "generated BPF files are stale: run 'make generate' and commit"; exit 1; }; \
	else echo "generate-check: skipped (no BPF packages or no clang)"; fi

bench: build bench-peers ## the side-by-side benchmark suite; results under bench/results/
	./$(BIN) bench all --json-dir bench/results

# tool:Debian package of every bench peer and load generator.
BENCH_PEERS := redis-server:redis-server redis-benchmark:redis-tools varnishd:varnish nginx:nginx haproxy:haproxy wrk:wrk nft:nftables

bench-peers: ## install missing bench peers from Debian (apt-get; without root they are skipped and named)
	@missing=""; for p in $(BENCH_PEERS); do bin=$${p%%:*}; pkg=$${p#*:}; \
	  command -v $$bin >/dev/null || [ -x /usr/sbin/$$bin ] || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then echo "bench: installing$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null \
	      || echo "bench: could not install$$missing; those peers will be skipped"; \
	  else echo "bench: missing$$missing (not root: those peers will be skipped)"; fi; \
	fi

bench-report: build ## refresh the README benchmark table from bench/results/
	./$(BIN) bench report --json-dir bench/results --readme README.md

fuzz: ## run each fuzz target briefly (FUZZTIME=30s)
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list 'Fuzz.*' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $${FUZZTIME:-30s} $$pkg || exit 1; \
	  done; \
	done

clean: ## remove build output
	rm -rf bin
