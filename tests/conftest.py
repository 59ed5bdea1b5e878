from __future__ import annotations

import numpy as np
import pytest

import fastctc

SEED = 20061


def pytest_report_header() -> str:
    # The suite must test the installed package, not a source tree.
    return f"fastctc {fastctc.__version__} from {fastctc.__file__}"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(SEED)
