# The commands a developer and CI use. `make install` is all a fresh machine needs.
.PHONY: install build test check clean

install:
	npm ci
	$(MAKE) build

# One ESM bundle per command (shared code split into chunks): start-up reads a few files instead of
# resolving dozens of modules. yaml, undici, jq-wasm and execa stay external and are imported lazily.
build:
	rm -rf dist
	npx esbuild scripts/*.ts --bundle --platform=node --format=esm --target=node20 \
	  --outdir=dist/scripts --splitting --chunk-names=chunks/[name]-[hash] --log-level=warning \
	  --external:yaml --external:undici --external:jq-wasm --external:execa
	chmod +x dist/scripts/*.js

# Tests run the built executables, so they build first.
test: build
	node --import tsx --test --test-concurrency=2 test/*.test.ts

check:
	npx tsc -p tsconfig.json --noEmit
	npx eslint .

clean:
	rm -rf dist
