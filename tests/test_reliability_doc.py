"""Every test that RELIABILITY.md cites as proof of a promise exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "RELIABILITY.md"


def _cited() -> list[tuple[str, str | None]]:
    """(file, test or None) for each cited file, `tests/x.py::name`, and `::name` (in the
    test module cited last)."""
    citations: list[tuple[str, str | None]] = []
    module = ""
    for cell in re.findall(r"`([^`]+)`", DOC.read_text()):
        if match := re.fullmatch(r"(tests/\w+\.py)(?:::(\w+))?", cell):
            module = match[1]
            citations.append((module, match[2]))
        elif re.fullmatch(r"fuzz/\w+\.cpp|\.ci/[\w.-]+", cell):
            citations.append((cell, None))
        elif cell.startswith("::"):
            citations.append((module, cell[2:]))
    return citations


@pytest.mark.skipif(not DOC.exists(), reason="RELIABILITY.md is not beside tests/ (wheel test)")
def test_every_cited_test_exists() -> None:
    citations = _cited()
    assert len(citations) > 30
    for path, name in citations:
        assert (ROOT / path).is_file(), f"RELIABILITY.md cites {path}, which does not exist"
        if name is not None:
            tree = ast.parse((ROOT / path).read_text())
            functions = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
            assert name in functions, f"RELIABILITY.md cites {path}::{name}, which does not exist"
