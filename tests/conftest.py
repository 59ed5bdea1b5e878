from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import settings
from problems import CASE_IDS, TINY_CASES, TinyCase, tiny_case

import fastctc

# Property tests (tests/test_properties.py): derandomised in CI, so a run is reproducible;
# random locally, remembering failures in .hypothesis/. --hypothesis-profile=thorough for
# a long search.
settings.register_profile("ci", derandomize=True, database=None, deadline=None, max_examples=60)
settings.register_profile("dev", deadline=None, max_examples=60)
settings.register_profile("thorough", deadline=None, max_examples=5000)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

SEED = 20061


def pytest_report_header() -> str:
    # The suite must test the installed package, not a source tree.
    return f"fastctc {fastctc.__version__} from {fastctc.__file__}"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(SEED)


@pytest.fixture(
    params=[(case, log_probs) for case in TINY_CASES for log_probs in (False, True)],
    ids=[f"{name}-{form}" for name in CASE_IDS for form in ("logits", "log_probs")],
)
def tiny(request: pytest.FixtureRequest, rng: np.random.Generator) -> TinyCase:
    """Each of TINY_CASES, with random inputs given as logits and as log-probabilities."""
    return tiny_case(rng, *request.param)
