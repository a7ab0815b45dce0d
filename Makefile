# Every target creates .venv when it is missing; stamps make the second run fast.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_REQUEST ?= what is using the most memory on this machine right now?

# llama-cpp-python compiles llama.cpp for this CPU (-march=native) but without AMX: some virtual machines list
# AMX in cpuid yet fault on its instructions (SIGILL in libggml-cpu at the first matrix multiply). Set CMAKE_ARGS
# yourself for another build (e.g. -DGGML_CUDA=on). pip caches the built wheel, so this costs nothing later.
ifeq ($(shell uname -m),x86_64)
NO_AMX := -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
export CMAKE_ARGS ?= -DCMAKE_C_FLAGS="$(NO_AMX)" -DCMAKE_CXX_FLAGS="$(NO_AMX)"
endif

.PHONY: demo lint test test-unit targets screens bench eval clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed-bundled: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[bundled]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[bundled,dev]'
	touch $@ $(VENV)/.installed-bundled

demo: $(VENV)/.installed-bundled
	$(VENV)/bin/llmos-ask "$(DEMO_REQUEST)"

# mypy and import-linter need the folder mapping of setup.py as one `llmos` package on disk: a link farm in
# build/lint holds llmos/'s entries with shell/, tools/, policies/, models/ and evals/ linked in beside them.
LINT_FARM := build/lint
MAPPED_FOLDERS := shell tools policies models evals

lint: $(VENV)/.installed-dev
	$(PY) -m ruff check .
	rm -rf $(LINT_FARM)/llmos && mkdir -p $(LINT_FARM)/llmos
	for entry in llmos/* $(MAPPED_FOLDERS); do \
		ln -s "$(CURDIR)/$$entry" "$(LINT_FARM)/llmos/$$(basename $$entry)"; \
	done
	cd $(LINT_FARM) && $(abspath $(PY)) -m mypy --config-file $(CURDIR)/pyproject.toml -p llmos
	cd $(LINT_FARM) && $(abspath $(VENV))/bin/lint-imports --config $(CURDIR)/pyproject.toml

test: lint
	$(PY) -m pytest -m "not open_target"

# The README's screens, rendered from the real TUI and overlay (scripted model) at 80x24, 100x16 and 160x45.
screens: $(VENV)/.installed-dev
	LLMOS_WRITE_SCREENS=$(CURDIR)/docs/screens $(PY) -m pytest -q -p no:cacheprovider tests/tui/test_tui_screens.py

# Open issues' acceptance examples that the default model does not meet yet: each names the wrong answer it gets.
# None at present (pytest's exit 5, "no tests collected", is then no failure).
targets: $(VENV)/.installed-dev
	$(PY) -m pytest -m open_target || [ $$? -eq 5 ]

test-unit: $(VENV)/.installed-dev
	$(PY) -m pytest -m "not model"

bench: $(VENV)/.installed-bundled
	$(VENV)/bin/llmos models bench --runs 3

# The evaluation suite (evals/) against llmos and the llama-cpp-python baseline: a benchmark, not a test (on 2 cores
# with the 1.5B model: half an hour for llmos, 2.5 hours for the slow baseline). EVAL_ARGS passes options, e.g.
# EVAL_ARGS="--baseline-per-category 2" or EVAL_ARGS="--category files --no-baseline".
EVAL_ARGS ?=
eval: $(VENV)/.installed-bundled
	$(VENV)/bin/llmos eval --output eval-report.json $(EVAL_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
