import os

import pytest
import torch
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# a longer hunt for counter-examples before a release: HYPOTHESIS_PROFILE=thorough
settings.register_profile(
    "thorough", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
torch.set_default_dtype(torch.float64)


@pytest.fixture(autouse=True)
def _fresh_basis_cache():
    """Every test solves its own bases: a basis cached by an earlier test would hide the route under test."""
    from liekit.enforce import clear_cache

    clear_cache()
    yield


@pytest.fixture
def one_thread():
    """Run a test with one torch thread, restoring the previous count afterwards."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
