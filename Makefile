# The two set-up commands of the README:
#   make play    install everything needed and play the default model
#   make test    install what the tests need and run lint, type checks and the whole test suite
.PHONY: play test setup setup-dev lint typecheck pytest docs

ARGS ?=

play: setup
	scripts/play.sh $(ARGS)

test: setup-dev lint typecheck pytest

setup:
	scripts/bootstrap.sh

setup-dev:
	scripts/bootstrap.sh dev

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck:
	.venv/bin/mypy

pytest:
	.venv/bin/python -m pytest -ra $(ARGS)

docs:
	.venv/bin/python -m distill_live.docs
