"""Order parameters alpha_1, alpha_2, alpha_3 (reference/order.py, Eqs. 5-7 of the paper)."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from reference.canonical import double_sided
from reference.order import double_sidedness, order_parameters, seed_dependence, strongest_connection

torch.set_num_threads(1)

# Entries bounded away from underflow (|w| >= 1e-3 or exactly 0), so positive scaling by [1e-3, 1e3]
# is exact up to rounding; exact zeros and repeated values exercise ties and the median-0 branch.
ENTRY = st.one_of(st.just(0.0), st.floats(-1e3, -1e-3), st.floats(1e-3, 1e3), st.sampled_from([1.0, -1.0]))
SHAPE = st.tuples(st.integers(1, 9), st.integers(1, 7))  # (hidden n1, inputs n0), our orientation
MATRIX = SHAPE.flatmap(lambda shape: arrays(np.float64, shape, elements=ENTRY))


def loop_double_sidedness(w0):
    """Eq. 5 written out with plain loops over the paper's W[i][j] = w0[j][i]; independent of order.py."""
    n1, n0 = len(w0), len(w0[0])
    paper_w = [[float(w0[j][i]) for j in range(n1)] for i in range(n0)]
    numerator = None
    for i in range(n0):
        lowest, highest = paper_w[i][0], paper_w[i][0]
        for value in paper_w[i]:
            lowest = min(lowest, value)
            highest = max(highest, value)
        per_input = min(-lowest, highest)
        numerator = per_input if numerator is None else min(numerator, per_input)
    magnitudes = sorted(abs(v) for row in paper_w for v in row)
    m = len(magnitudes)
    median = magnitudes[m // 2] if m % 2 else (magnitudes[m // 2 - 1] + magnitudes[m // 2]) / 2
    if median == 0:
        return 0.0 if numerator == 0 else math.copysign(math.inf, numerator)
    return numerator / median


def same(a, b, rel=1e-12):
    """Equal as extended reals: identical infinities, or close finite values."""
    if math.isinf(a) or math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-300)


def test_double_sidedness_worked_example_and_orientation():
    """w0 is (hidden, inputs): inputs are columns. Column 0 = (1, -3, 0.5): min(3, 1) = 1; column 1 =
    (-2, 4, 0.5): min(2, 4) = 2; numerator min = 1; median of |.| over {0.5,0.5,1,2,3,4} = 1.5."""
    w0 = np.array([[1.0, -2.0], [-3.0, 4.0], [0.5, 0.5]])
    assert double_sidedness(w0) == pytest.approx(1 / 1.5)
    # Read the other way (rows as inputs) the row (0.5, 0.5) has no negative weight: -0.5 / 1.5.
    assert double_sidedness(w0.T) == pytest.approx(-0.5 / 1.5)


@given(MATRIX)
def test_double_sidedness_matches_a_plain_loop(w0):
    assert same(double_sidedness(w0), loop_double_sidedness(w0.tolist()))


@given(MATRIX, st.data())
def test_double_sidedness_is_invariant_to_permuting_inputs_and_hidden_neurons(w0, data):
    rows = data.draw(st.permutations(range(w0.shape[0])))
    cols = data.draw(st.permutations(range(w0.shape[1])))
    assert double_sidedness(w0[np.ix_(rows, cols)]) == double_sidedness(w0)


@given(MATRIX, st.floats(1e-3, 1e3))
def test_double_sidedness_is_invariant_to_positive_scaling(w0, factor):
    assert same(double_sidedness(factor * w0), double_sidedness(w0), rel=1e-12)


def test_double_sidedness_median_zero_branches():
    """With more than half the weights exactly zero the median is 0; the numerator's sign decides."""
    assert double_sidedness(np.zeros((5, 2))) == 0.0  # numerator 0
    w0 = np.zeros((5, 2))
    w0[:, 0] = [1.0, -1.0, 0.0, 0.0, 0.0]
    w0[:, 1] = [-1.0, 1.0, 0.0, 0.0, 0.0]
    assert double_sidedness(w0) == math.inf  # every input has +1 and -1: numerator 1
    w0 = np.zeros((3, 3))
    w0[:, 0] = [1.0, 2.0, 3.0]  # input 0 only excites: numerator min(-1, 3) = -1
    assert double_sidedness(w0) == -math.inf
    assert double_sidedness(np.array([[1.0], [2.0], [3.0]])) == -0.5  # same numerator, median 2


def test_double_sided_canonical_network_is_maximally_double_sided():
    weights, _ = double_sided(16)  # 32 hidden: each column has +1 and -1, the other 30 entries zero
    assert double_sidedness(weights[0]) == math.inf
    assert strongest_connection(weights[0]) == 1.0


@given(MATRIX)
def test_strongest_connection_is_the_largest_magnitude(w0):
    assert strongest_connection(w0) == max(abs(v) for v in w0.ravel())
    assert strongest_connection(w0) == strongest_connection(-w0.T)


@given(MATRIX, st.data())
def test_seed_dependence_properties(w, data):
    v = data.draw(arrays(np.float64, w.shape, elements=ENTRY))
    alpha = seed_dependence(w, v)
    assert 0.0 <= alpha <= 2.0
    assert alpha == seed_dependence(v, w)
    assert seed_dependence(w, w) == 0.0
    factor = data.draw(st.floats(1e-3, 1e3))
    assert seed_dependence(factor * w, factor * v) == pytest.approx(alpha, rel=1e-12, abs=1e-15)
    if np.any(w != 0):
        assert seed_dependence(w, -w) == 2.0


def test_seed_dependence_values():
    w = np.array([[1.0, 0.0]])
    assert seed_dependence(w, np.array([[0.0, 1.0]])) == 1.0  # orthogonal
    assert seed_dependence(np.zeros((3, 2)), np.zeros((3, 2))) == 0.0  # 0/0 defined as 0
    assert seed_dependence(w, np.zeros((1, 2))) == 1.0
    assert seed_dependence(np.full((2, 2), 1e200), np.full((2, 2), -1e200)) == 2.0  # no overflow
    assert seed_dependence(np.full((2, 2), 1e-200), np.full((2, 2), 3e-200)) == pytest.approx(0.4)  # no underflow


def test_independent_random_matrices_are_nearly_orthogonal():
    """For iid N(0,1) W, V of size 48 x 16 (768 entries), alpha_3 = 1 - 2<W,V>/(|W|^2+|V|^2) has std about
    sqrt(2/768) = 0.051; the band +/- 0.3 is 5.9 std: false-failure rate < 1e-8 (and the seed is fixed)."""
    g = torch.Generator().manual_seed(3)
    w, v = torch.randn(2, 48, 16, generator=g, dtype=torch.float64)
    assert abs(seed_dependence(w, v) - 1.0) < 0.3


def test_torch_and_numpy_inputs_agree():
    g = torch.Generator().manual_seed(0)
    w, v = torch.randn(2, 48, 16, generator=g)
    from_torch = order_parameters(w.requires_grad_(True), v)
    from_numpy = order_parameters(w.detach().numpy(), v.numpy())
    assert from_torch == from_numpy
    assert set(from_torch) == {"alpha_1", "alpha_2", "alpha_3"}
    assert all(isinstance(value, float) for value in from_torch.values())


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: double_sidedness(np.ones(3)), "w0"),
        (lambda: double_sidedness(np.ones((2, 2, 2))), "w0"),
        (lambda: double_sidedness(np.ones((0, 3))), "w0"),
        (lambda: double_sidedness(np.array([[1.0, np.nan]])), "w0"),
        (lambda: strongest_connection(torch.ones(4)), "w0"),
        (lambda: seed_dependence(np.ones((2, 3)), np.ones((3, 2))), "v"),
        (lambda: seed_dependence(np.ones(3), np.ones((3, 2))), "w"),
        (lambda: seed_dependence(np.ones((3, 2)), np.ones(3)), "v"),
        (lambda: order_parameters(np.ones((3, 2)), np.ones((2, 2))), "v"),
    ],
)
def test_bad_inputs_name_the_parameter(call, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        call()
