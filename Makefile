# vpnkeys: `make` lists the targets.
GO      ?= go
PKGS    ?= ./...
TIMEOUT ?= 40m

.PHONY: help deps build run test test-short vet lint staticcheck bench bench-easyrsa fmt deb lintian

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

deps: ## install what the tests need (OpenVPN, easy-rsa, PostgreSQL, Chromium) when missing
	@scripts/deps.sh

build: ## build ./vpnkeys
	$(GO) build -o vpnkeys ./cmd/vpnkeys

run: ## onboard a first user on the embedded SQLite default: make run USER_NAME=alice REMOTE=vpn.example.com:1194
	$(GO) run ./cmd/vpnkeys add $(or $(USER_NAME),alice) --remote $(or $(REMOTE),vpn.example.com:1194)

vet: ## go vet
	$(GO) vet $(PKGS)

lint: vet ## go vet and gofmt check
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }

staticcheck: ## staticcheck (fetched through the module proxy)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 $(PKGS)

test: deps lint ## install deps, vet, and run every test with -race (what CI runs)
	$(GO) test -race -timeout $(TIMEOUT) $(PKGS)

test-short: ## unit tests only, no real components
	$(GO) test -short $(PKGS)

bench: ## Go benchmarks
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

bench-easyrsa: build ## vpnkeys against easy-rsa, 100 users, same machine
	bench/vs-easyrsa.sh

fmt: ## gofmt the tree
	gofmt -w $$(git ls-files '*.go')

deb: ## build dist/vpnkeys_VERSION-1_{amd64,arm64}.deb (VERSION from packaging/VERSION)
	GO=$(GO) packaging/build-deb.sh amd64 arm64

lintian: deb ## run Debian's lintian on the packages
	lintian --info dist/vpnkeys_*.deb
