"""The import contract of docs/architecture.md: the stages follow the data flow
and every import points down it. Read from the code's own imports (lazy ones
inside functions and TYPE_CHECKING ones included), so a new import that runs
back up fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.paths import ROOT

# Bottom to top. A module may import its own layer and those below it.
LAYERS = (
    "silkqa.index.language",  # the language rules every stage shares
    "silkqa.index.ingest",  # file -> text -> cleaned text -> heading tree -> chunks
    "silkqa.index.store",  # embeddings, BM25, builds on disk
    "silkqa.service.retrieval",  # hybrid search over one snapshot
    "silkqa.service.answering",  # the question path: rewrite, extractive and generative answers
    "silkqa.service.conversations",  # conversations and feedback, stored per API key (beside the library)
    "silkqa.service.settings",  # the one configuration; builds every stage's options
    "silkqa.service.library",  # the live library and its updates
    "silkqa.service.runtime",  # what every entry point serves from
    "silkqa.service.api",  # HTTP
    "silkqa.eval",  # offline evaluation (through the runtime, never the API)
    "silkqa.service.cli",  # the command line, over all of the above
)
# Within a layer: these never import those.
NEVER = (
    ("silkqa.service.answering.extractive", "silkqa.service.answering.generative"),
    ("silkqa.service.answering.followup", "silkqa.service.answering.generative"),
    ("silkqa.service.answering.generative", "silkqa.service.answering.pipeline"),
    ("silkqa.service.answering.types", "silkqa.service.answering.pipeline"),
    ("silkqa.service.api.middleware", "silkqa.service.api.routes"),
    # Beside each other: the library never reads conversations, conversations never read answering.
    ("silkqa.service.library", "silkqa.service.conversations"),
    ("silkqa.service.conversations", "silkqa.service.answering"),
)
PACKAGES = {"index": "silkqa.index", "service": "silkqa.service", "eval": "silkqa.eval"}


def modules() -> dict[str, Path]:
    found = {}
    for folder, package in PACKAGES.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            name = ".".join((package, *parts)).removesuffix(".__init__")
            found[name] = path
    return found


def imports(path: Path, name: str) -> set[str]:
    """Every module ``path`` imports, absolute."""
    out = set()
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], base]).strip(".")
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names)
    return out


def layer(module: str) -> int | None:
    matches = [i for i, prefix in enumerate(LAYERS) if module == prefix or module.startswith(prefix + ".")]
    return max(matches) if matches else None


MODULES = modules()


def test_every_module_belongs_to_a_layer():
    orphans = [m for m in MODULES if layer(m) is None and m not in ("silkqa.index", "silkqa.service")]
    assert orphans == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_point_down_the_data_flow(name):
    own = layer(name)
    for imported in imports(MODULES[name], name):
        top = imported.split(".")[0]
        assert top not in PACKAGES, f"{name} imports the bare package {imported!r}: use silkqa.{imported}"
        target = layer(imported)
        if target is not None and own is not None:
            assert target <= own, f"{name} ({LAYERS[own]}) imports {imported} ({LAYERS[target]}), which is above it"
        for importer, forbidden in NEVER:
            if name.startswith(importer):
                assert not imported.startswith(forbidden), f"{name} imports {imported}"


def test_the_contract_can_fail():
    """A check that never fails checks nothing: an import from a lower stage
    to a higher one is reported."""
    assert layer("silkqa.service.api.app") > layer("silkqa.service.answering.extractive")
    assert layer("silkqa.service.answering.pipeline") == LAYERS.index("silkqa.service.answering")
