# Two commands for a newcomer (see README.md): `make up` and `make test`.
SHELL := /bin/bash
.PHONY: up test lint typecheck check bench-boot bench-net

up:
	@nodebin=$$(scripts/setup.sh run) && PATH="$$nodebin:$$PATH" node src/cli/main.ts start --first-run

test:
	@nodebin=$$(scripts/setup.sh test) && PATH="$$nodebin:$$PATH" node scripts/run-tests.ts

check:
	@nodebin=$$(scripts/setup.sh test) && PATH="$$nodebin:$$PATH" npx tsc --noEmit -p tsconfig.json && PATH="$$nodebin:$$PATH" npx eslint .
