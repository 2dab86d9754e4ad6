# The commands a developer and CI use. `make install` is all a fresh machine needs.
.PHONY: install build test check fuzz bench bench-compare sdk-map published snapshot clean

install:
	npm ci
	$(MAKE) build

# One self-contained CommonJS bundle per command: start-up reads one file and skips Node's ESM loader
# (about 10 ms of a 25 ms budget here). dist/scripts/package.json marks the .js files as CommonJS.
# yaml and jq-wasm stay external, imported lazily where needed (undici: tests only).
# The code of batches, of the time-range walk, of bapi-guard's one read (with its HTTP client), of
# its approve/deny/approvals/policy commands and of key custody (a client's and the broker's) is bundled apart (LAZY) and loaded only by the runs
# that use them: inlined, its parsing cost every bapi-curl start ~1.4 ms. Each lazy bundle sits where
# its import path points from dist/scripts/, and carries its own copy of what it uses (errors
# compare by brand, not by class identity: see lib/core/errors.ts).
ESBUILD = npx esbuild --bundle --platform=node --format=cjs --target=node20 --log-level=warning \
	  --external:yaml --external:undici --external:jq-wasm \
	  '--banner:js="use strict"; const __importMetaUrl = require("node:url").pathToFileURL(__filename).href;' \
	  --define:import.meta.url=__importMetaUrl
LAZY = --external:../lib/http/batch.js --external:../lib/guard/batch.js --external:./split-walk.js --external:./endpoint-limits.js \
	--external:../lib/http/read-current.js --external:../lib/guard/person.js \
	--external:../lib/custody/forward.js --external:../lib/custody/broker.js --external:../lib/custody/client.js

# The commands whose start-up is a target run through a loader with V8's code cache (tools/code-cache.ts):
# their bundle is NAME.main.js, with import() turned into require() (a vm.Script cannot import() on Node 20).
CACHED = api-specs-context extract-tags extract-tag-endpoints extract-endpoint-detail bapi-curl bapi-webhooks bapi-mcp

build:
	rm -rf dist
	$(ESBUILD) $(filter-out $(CACHED:%=scripts/%.ts),$(wildcard scripts/*.ts)) --outdir=dist/scripts $(LAZY)
	$(ESBUILD) $(CACHED:%=scripts/%.ts) --outdir=dist/scripts --entry-names=[name].main --supported:dynamic-import=false $(LAZY)
	node --import tsx tools/code-cache.ts $(CACHED)
	$(ESBUILD) lib/http/batch.ts --outfile=dist/lib/http/batch.js
	$(ESBUILD) lib/guard/batch.ts --outfile=dist/lib/guard/batch.js
	$(ESBUILD) lib/http/split-walk.ts --outfile=dist/scripts/split-walk.js
	$(ESBUILD) lib/http/endpoint-limits.ts --outfile=dist/scripts/endpoint-limits.js
	$(ESBUILD) lib/http/read-current.ts --outfile=dist/lib/http/read-current.js
	$(ESBUILD) lib/guard/person.ts --outfile=dist/lib/guard/person.js
	$(ESBUILD) lib/custody/forward.ts --outfile=dist/lib/custody/forward.js
	$(ESBUILD) lib/custody/broker.ts --outfile=dist/lib/custody/broker.js
	$(ESBUILD) lib/custody/client.ts --outfile=dist/lib/custody/client.js
	echo '{ "type": "commonjs" }' > dist/scripts/package.json
	echo '{ "type": "commonjs" }' > dist/lib/package.json
	chmod +x dist/scripts/*.js
	node --import tsx tools/snapshot-index.ts

# Tests run the built executables, so they build first.
test: build
	node --import tsx --test --test-concurrency=3 test/*.test.ts

# The guard's fuzz on a new seed each run, for longer than make test gives it (replay a failure with FUZZ_SEED=N).
fuzz: build
	FUZZ_SEED=$${FUZZ_SEED:-$$(od -An -N3 -tu4 /dev/urandom | tr -d ' ')} FUZZ_CASES=$${FUZZ_CASES:-20000} FUZZ_SECONDS=$${FUZZ_SECONDS:-300} \
	  node --import tsx --test test/guard-fuzz.test.ts

check:
	npx tsc -p tsconfig.json --noEmit
	npx eslint -c .eslint.config.js .

# Side-by-side timings (medians, ratios to node's floor, curl and jq) in one run: see README, Performance.
bench: build
	node --import tsx test/bench/bench.ts $(BENCH_ARGS)

# The same, with REV's warm commands measured beside this build's: make bench-compare REV=main~3
bench-compare: build
	node --import tsx test/bench/bench.ts --baseline $(REV) $(BENCH_ARGS)

# specs/sdk.json from the installed @clerk/backend (a devDependency): which SDK method sends which request,
# recorded by calling each method against a recording fetch.
sdk-map:
	node --import tsx tools/sdk-map.ts

# specs/snapshot/ from CLERK_SPECS_SOURCE: the latest published BAPI and webhooks specs, compressed, with their shas
# and Clerk's LICENSE; the toolkit answers from it when nothing is cached and GitHub is out of reach.
snapshot:
	node --import tsx tools/snapshot.ts

# specs/published.json gains the sha of every spec file in CLERK_SPECS_SOURCE (it only adds): what the guard counts as published.
published:
	node --import tsx tools/published.ts

clean:
	rm -rf dist
