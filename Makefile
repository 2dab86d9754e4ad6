# The commands a developer and CI use. `make install` is all a fresh machine needs.
.PHONY: install build test check clean

install:
	npm ci
	$(MAKE) build

build:
	npx tsc -p tsconfig.build.json
	chmod +x dist/scripts/*.js

# Tests run the built executables, so they build first.
test: build
	node --import tsx --test --test-concurrency=2 test/*.test.ts

check:
	npx tsc -p tsconfig.json --noEmit
	npx eslint .

clean:
	rm -rf dist
