# hypspec: every target bootstraps .venv itself, so a fresh clone needs only python3.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# Debian packages the conformance harness runs on (assembler, linker, QEMU), the browser the
# reader's site is tested in (tests/site), and Graphviz, which draws the site's diagrams.
DOCS_TOOLS := dot
DOCS_PACKAGES := graphviz
TOOLS := qemu-system-arm arm-none-eabi-as arm-none-eabi-ld chromium $(DOCS_TOOLS)
TOOL_PACKAGES := qemu-system-arm binutils-arm-none-eabi chromium $(DOCS_PACKAGES)

.PHONY: demo test tools docs-tools bench mutate lint docs clean

$(STAMP): pyproject.toml
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv && \
	    $(PYTHON) -m venv $(VENV); \
	  else echo "python3 cannot create a virtual environment: install python3-venv (apt-get install python3-venv)"; exit 1; fi; }
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	@rm -f $(VENV)/.installed-* && touch $@

demo: $(STAMP)
	$(BIN)/hypspec check
	$(BIN)/hypspec prove --mutants

# The conformance tests need QEMU and the ARM binutils, the site's browser test chromium:
# install them when we can (as root with apt-get), and otherwise say exactly what is missing.
# `make docs` needs only Graphviz of these.
define install_missing
	@missing=""; for t in $(1); do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing$$missing (apt-get install $(2))"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null; \
	  else \
	    echo "missing:$$missing. Install them with: sudo apt-get install $(2)"; exit 1; \
	  fi; \
	fi
endef

tools:
	$(call install_missing,$(TOOLS),$(TOOL_PACKAGES))

docs-tools:
	$(call install_missing,$(DOCS_TOOLS),$(DOCS_PACKAGES))

lint: $(STAMP)
	$(BIN)/ruff check hypspec tests benchmarks

test: $(STAMP) tools lint
	$(BIN)/hypspec check
	$(BIN)/pytest -n auto --durations=25

bench: $(STAMP) tools
	$(BIN)/python -m benchmarks.run

# The suite's mutation score on held-out bugs (docs/proofs.md); minutes per bug.
mutate: $(STAMP) tools
	$(BIN)/python -m tests.mutation.score

# The reader's site: build/site/index.html (docs/site.md); strict, so a warning fails it.
docs: $(STAMP) docs-tools
	$(BIN)/hypspec docs

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
