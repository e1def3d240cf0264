# `make run` and `make test` create .venv and install the project on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install distributed run test test-isa lint typecheck clean-venv

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip "setuptools>=77"  # .ci/wheel_test builds with it
	# CPU build of torch first: an unpinned torch pulls a multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# Optional: Ray for `train_agent.py search` (distributed trials); Optuna is a core dependency.
distributed: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,distributed]"

run: $(STAMP)
	$(BIN)/python train_agent.py $(or $(ARGS),train)

test: $(STAMP)
	$(BIN)/python -m pytest -q $(ARGS)

# The suite again under narrower CPU kernels: torch and MKL at AVX2, then at their
# baseline (SSE4.2) with numba compiling for a generic x86-64. Retraining runs in float32,
# whose results differ between kernels in the last bits; a test that encodes one
# processor's trajectory fails here, on the developer's machine, not on a user's.
ISA_AVX2 := ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2
ISA_BASE := ATEN_CPU_CAPABILITY=default MKL_ENABLE_INSTRUCTIONS=SSE4_2 \
	ONEDNN_MAX_CPU_ISA=SSE41 NUMBA_CPU_NAME=generic
test-isa: $(STAMP)
	$(ISA_AVX2) $(BIN)/python -m pytest -q -p no:cacheprovider $(ARGS)
	$(ISA_BASE) $(BIN)/python -m pytest -q -p no:cacheprovider $(ARGS)

# ruff, then the type check.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(MAKE) typecheck

# mypy on hwmodel, tnf_env, agents and train_agent.py (settings: [tool.mypy] in pyproject.toml).
typecheck: $(STAMP)
	$(BIN)/python -m mypy

clean-venv:
	rm -rf $(VENV)
