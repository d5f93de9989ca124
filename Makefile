# Two commands for a newcomer (see README.md): `make up` and `make test`. Every target runs with
# the project's Node 24 (scripts/setup.sh installs what is missing and prints where it is).
SHELL := /bin/bash
.PHONY: up test lint typecheck check bench

up:
	@nodebin=$$(scripts/setup.sh run) && PATH="$$nodebin:$$PATH" node src/cli/main.ts start --first-run

test:
	@nodebin=$$(scripts/setup.sh test) && PATH="$$nodebin:$$PATH" node scripts/run-tests.ts

typecheck:
	@nodebin=$$(scripts/setup.sh test) && PATH="$$nodebin:$$PATH" npm run --silent typecheck

lint:
	@nodebin=$$(scripts/setup.sh test) && PATH="$$nodebin:$$PATH" npx eslint --max-warnings=0 .

check:
	@nodebin=$$(scripts/setup.sh test) && PATH="$$nodebin:$$PATH" npm run --silent typecheck && PATH="$$nodebin:$$PATH" npx eslint --max-warnings=0 .

# Every benchmark in package.json (bench:*), one after the other, each printing its figures.
bench:
	@nodebin=$$(scripts/setup.sh test) && export PATH="$$nodebin:$$PATH" && \
	  for b in $$(node -p "Object.keys(require('./package.json').scripts).filter((k) => k.startsWith('bench:')).join(' ')"); do \
	    echo "== npm run $$b" && npm run --silent "$$b" || exit 1; \
	  done

# One benchmark: make bench-boot, bench-net, bench-order… (= npm run bench:NAME).
bench-%:
	@nodebin=$$(scripts/setup.sh test) && PATH="$$nodebin:$$PATH" npm run --silent "bench:$*"
