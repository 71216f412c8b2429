# Two commands: `make demo` and `make test`. Each builds .venv from requirements.txt
# when it is missing or older than requirements.txt / pyproject.toml.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := runs/demo
export TF_CPP_MIN_LOG_LEVEL := 3

.PHONY: setup demo test bench readme figures pretrained gallery clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing requirements into $(VENV) (first time: about a minute)"
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt 2>&1 | grep -v "is ignored" || true
	@$(BIN)/python -c "import keras, jax, pydot, yaml, matplotlib" 2>/dev/null && touch $(STAMP)

demo: $(STAMP)
	@rm -rf $(DEMO)
	$(BIN)/recipe run memory_task --brief --out $(DEMO)/memory_task
	$(BIN)/recipe plot memory_task --format svg --out $(DEMO)/memory_task_graph.svg
	$(BIN)/recipe weights $(DEMO)/memory_task
	@echo ""
	@echo "run directory: $(DEMO)/memory_task   (metrics.json, history.csv, loss.png, model.keras, demo figures)"
	@echo "graph plot:    $(DEMO)/memory_task_graph.svg"
	@echo "weights:       $(DEMO)/memory_task/weights/"

test: $(STAMP)
	$(BIN)/ruff check --quiet . && $(BIN)/ruff format --check --quiet .
	$(BIN)/python -m pytest -q -rs --durations=15 -n 2 --dist worksteal

bench: $(STAMP)
	$(BIN)/python bench/brief_runs.py
	$(BIN)/python bench/sampling.py
	$(BIN)/python bench/speech_synthesis.py
	$(BIN)/python bench/inspect_figures.py
	$(BIN)/python bench/throughput.py
	$(BIN)/python bench/ctc_decode.py
	$(BIN)/python bench/backends.py

readme: $(STAMP)
	$(BIN)/python -m tools.readme --write

figures: $(STAMP)
	$(BIN)/python -m tools.figures --write

# Every recipe's checkpoint, trained with its full default config (about an hour on 2 cores; not part of `make test`).
pretrained: $(STAMP)
	$(BIN)/recipe train-pretrained
	$(BIN)/python -m tools.readme --write

gallery: $(STAMP)
	$(BIN)/recipe gallery

clean:
	rm -rf $(VENV) runs .pytest_cache
