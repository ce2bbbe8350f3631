# vaultsync — the README's two commands are `make dev` and `make test`.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
# npm scripts and everything here run on the project's pinned Node (node_modules/.bin/node).
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
NODE_STAMP := node_modules/.package-lock.json

.PHONY: all deps testbed testbed-up testbed-down generate check-generated lint typecheck build \
	check-dist test test-unit test-integration e2e dev bench faults bench-certs kind-up clean

all: build

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $(NODE_STAMP)

deps: $(NODE_STAMP)
	@node hack/check-node.ts

## Test bed: build/install every pinned component into the cache (idempotent).
testbed:
	hack/testbed/build.sh

testbed-up: deps testbed
	node hack/testbed/up.ts

testbed-down: deps
	node hack/testbed/down.ts

## CRDs, generated from src/apis (the single source); the chart's config schema from src/config/schema.ts.
generate: deps
	node hack/generate-crds.ts
	node hack/generate-openapi.ts
	node hack/generate-chart-schema.ts
	$(MAKE) --no-print-directory chart-crds

typecheck: deps
	tsc --noEmit

lint: deps
	eslint .
	prettier --check .
	node hack/shape.ts --check --top 5

## dist/ anew (no output of a file since removed or excluded stays behind).
build: deps
	rm -rf dist
	tsc -p tsconfig.build.json

## The build ships no test support: tests, fakes, fixtures, devDependencies (hack/check-dist.ts).
check-dist: deps
	node hack/check-dist.ts

test-unit: deps
	mocha 'src/**/*.test.ts' 'hack/**/*.test.ts' 'bench/**/*.test.ts'

test-integration: deps testbed
	mocha --config .mocharc.integration.json 'test/**/*.test.ts'

## make test: everything CI runs — install, build the bed if missing, check, test.
## (The e2e suite runs here on the local bed, whatever KUBECONFIG says.)
test: deps testbed typecheck lint check-dist test-unit test-integration
	env -u KUBECONFIG $(MAKE) --no-print-directory e2e

## End-to-end suite against $$KUBECONFIG when set, else against the local bed.
e2e: deps testbed
	mocha --config .mocharc.integration.json 'e2e/**/*.test.ts'

dev: deps testbed
	node hack/dev.ts

## Issue 15's bench: every scenario sandwiched baseline → vaultsync → baseline on a bed of its own
## (knobs in bench/run.ts, e.g. BENCH_RESOURCES=1000 BENCH_SCENARIOS=cold,restart); writes bench/out/.
bench: deps testbed
	node bench/run.ts

## The fault suite at the durations docs/reliability.md reports (make test runs its quick part).
faults: deps testbed
	rm -f test/faults/out/results.jsonl
	FAULTS=full mocha --config .mocharc.integration.json --timeout 900000 'test/faults/**/*.test.ts'
	node hack/faults-table.ts

## The certificates scenario alone (make bench runs it too).
bench-certs: deps testbed
	BENCH_SCENARIOS=certificates node bench/run.ts

kind-up:
	@command -v kind >/dev/null && command -v docker >/dev/null || { echo "kind-up needs docker and kind"; exit 1; }
	kind create cluster --name vaultsync

clean:
	rm -rf dist .testbed

## Install: Helm chart, kustomize manifests and the container image (docs/install.md).
.PHONY: chart-crds helm-lint image
CHART := charts/vaultsync
IMAGE ?= vaultsync:$(shell sed -n 's/^appVersion: *//p' $(CHART)/Chart.yaml | tr -d "'\"")
CONTAINER_TOOL ?= docker
TESTBED_CACHE := $(or $(VAULTSYNC_TESTBED_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/vaultsync-testbed)
HELM ?= $(TESTBED_CACHE)/helm-$(shell sed -n 's/^HELM_VERSION=//p' hack/versions.env)/bin/helm

## Copies the generated CRDs (crds/, the single source) into the chart; config/crd reads them there.
chart-crds:
	cp crds/vaultsync.io_*.yaml $(CHART)/crds/

helm-lint: chart-crds
	@test -x $(HELM) || { echo "helm-lint: $(HELM) missing; run make testbed"; exit 1; }
	$(HELM) lint --strict $(CHART)
	$(HELM) template vaultsync $(CHART) --namespace vaultsync --include-crds >/dev/null

## The base image, pinned by digest (docs/install.md): node:24-bookworm-slim@sha256:<digest>.
NODE_IMAGE ?=
ALLOW_UNPINNED ?=

image:
	@case '$(NODE_IMAGE)' in \
		*@sha256:*) ;; \
		*) if [ '$(ALLOW_UNPINNED)' != 1 ]; then \
			echo "make image: NODE_IMAGE must pin the base image by digest, e.g."; \
			echo "  make image NODE_IMAGE=node:24-bookworm-slim@sha256:<digest>"; \
			echo "(docs/install.md, \"The image\", says how to look the digest up). A tag alone moves:"; \
			echo "ALLOW_UNPINNED=1 builds from '$(or $(NODE_IMAGE),node:24-bookworm-slim)' anyway, for a local try only."; \
			exit 1; \
		fi ;; \
	esac
	@if ! $(CONTAINER_TOOL) version --format '{{.Server.Version}}' >/dev/null 2>&1; then \
		echo "make image: no container engine answers ($(CONTAINER_TOOL) finds no daemon), so the image"; \
		echo "cannot be built on this machine. Build it where Docker or Podman runs:"; \
		echo "  make image IMAGE=<registry>/vaultsync:<tag> NODE_IMAGE=node:24-bookworm-slim@sha256:<digest> [CONTAINER_TOOL=podman]"; \
		echo "What can be checked here (production install and start-up in the image's layout) runs"; \
		echo "in test/install.test.ts."; \
		exit 1; \
	fi
	$(CONTAINER_TOOL) build --pull --build-arg NODE_IMAGE=$(or $(NODE_IMAGE),node:24-bookworm-slim) -t $(IMAGE) .
