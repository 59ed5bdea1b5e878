"""Importing fastctc (and its oracle) imports no framework: only an adapter does."""

from __future__ import annotations

import subprocess
import sys

FRAMEWORKS = ("torch", "jax", "optax", "tensorflow", "keras")


def test_importing_fastctc_imports_no_framework() -> None:
    # A fresh interpreter: this test process may have imported the frameworks already.
    code = (
        "import sys, fastctc, fastctc.testing, fastctc.reference\n"
        f"print(sorted(set({FRAMEWORKS!r}) & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]"
