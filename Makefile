# The two commands a newcomer needs: `make run` and `make test`. Everything else is optional.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup run test lint format bench model clean-venv

setup: $(STAMP)

# Re-installs only when the declared dependencies or the pins change, so `make` is fast once set up.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[train,dev]'
	@touch $@

run: setup
	$(BIN)/digitpad app

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check digitpad tests benchmarks
	$(BIN)/ruff format --check digitpad tests benchmarks

format: setup
	$(BIN)/ruff format digitpad tests benchmarks
	$(BIN)/ruff check --fix digitpad tests benchmarks

# Long work lives behind its own targets: never part of `make test`.
bench: setup
	$(BIN)/python -m benchmarks.run_all

# rebuild the shipped model from scratch into build/model/ and check it, weight for weight,
# against models/ (which it leaves as it is: on another CPU the same recipe rounds otherwise).
# torch and oneDNN are held to the AVX2 kernels the shipped build ran on (its checkpoint
# records them): kernels of another width may round otherwise. So held, on an AVX-512 machine
# of the same kind the classifier came out bit for bit (2026-12-06; the context stage did not,
# see README). No effect where AVX2 is the most the CPU has.
model: setup
	ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 \
	$(BIN)/python -m digitpad.training.build_shipped --out build/model --compare models/digitpad-v1.pt

clean-venv:
	rm -rf $(VENV)
