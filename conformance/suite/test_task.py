"""TASK and ORDER clauses: the L1 task, the target MLP and the order parameters."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance import checks
from conformance.strategies import layer_sizes, matrices, seeds


@pytest.mark.clause("TASK-1")
@given(n=st.integers(1, 64), seed=seeds(), scale=st.floats(1e-2, 1e2))
def test_target(impl, n, seed, scale):
    x = np.random.default_rng(seed).standard_normal((32, n)) * scale
    checks.check_target(impl, x)


@pytest.mark.clause("TASK-2")
@given(sizes=layer_sizes(max_depth=3, max_width=16), seed=seeds())
def test_mlp(impl, sizes, seed):
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal((b, a)) for a, b in zip(sizes[:-1], sizes[1:])]
    biases = [rng.standard_normal(b) for b in sizes[1:]]
    checks.check_mlp(impl, weights, biases, rng.standard_normal((8, sizes[0])))


@pytest.mark.clause("ORDER-1")
@given(data=st.data(), rows=st.integers(2, 48), cols=st.integers(1, 16))
def test_order_parameters(impl, data, rows, cols):
    checks.check_order_parameters(impl, data.draw(matrices(rows, cols)), data.draw(matrices(rows, cols)))


@pytest.mark.clause("ORDER-2")
@given(data=st.data(), rows=st.integers(1, 48), cols=st.integers(1, 16))
def test_seed_dependence_properties(impl, data, rows, cols):
    checks.check_seed_dependence_properties(impl, data.draw(matrices(rows, cols)), data.draw(matrices(rows, cols)))
