# wasmgears — see README.md. The two set-up commands are `make run` and `make test`.
GO      ?= go
BIN     := bin
DATA    ?= ./data
PORT    ?= 6379
GOFLAGS ?=

.PHONY: run build test test-deps unit race fuzz vet bench toolchain docs clean

build:
	$(GO) build $(GOFLAGS) -o $(BIN)/wasmgears ./cmd/wasmgears
	$(GO) build $(GOFLAGS) -o $(BIN)/gears-cli ./cmd/gears-cli

# Starts the server on 127.0.0.1:$(PORT) with an embedded Pebble data dir.
run: build
	$(BIN)/wasmgears --bind 127.0.0.1 --port $(PORT) --dir $(DATA)

# Installs what the tests need (Debian packages), then runs every test.
test: test-deps vet unit race fuzz

test-deps:
	scripts/test-deps.sh

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

unit: build
	$(GO) test -count=1 -timeout 20m ./...

race:
	$(GO) test -count=1 -race -timeout 20m ./storage/ ./server/

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzRESP -fuzztime 15s ./server/
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime 10s ./abi/

bench: build
	scripts/bench.sh
	$(GO) run ./scripts/benchgears

# Rebuilds the guest interpreter (python.wasm + stdlib zip) from Debian
# source packages into guest/runtime/.
toolchain:
	toolchain/build.sh --clean --snapshot

# Regenerates docs/commands.md from the command table.
docs:
	$(GO) run ./cmd/wasmgears --commands-md > docs/commands.md

clean:
	rm -rf $(BIN)
