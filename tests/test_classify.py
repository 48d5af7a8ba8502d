"""The strategy classifier (reference/classify.py)."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from reference import canonical
from reference.classify import (
    Boundaries,
    Strategy,
    _gap_middle,
    calibrate,
    canonical_population,
    classify,
    coordinates,
    default_boundaries,
)
from reference.order import double_sidedness, strongest_connection


def test_calibration_is_reproducible_and_leaves_a_margin():
    """Boundaries come from the populations, identically every time, with every member of the calibration
    population a factor >= 1.3 away from the boundary it must not cross."""
    b = calibrate(0)
    assert b == calibrate(0) == default_boundaries()
    for label, w0 in canonical_population(0):
        c = coordinates(w0)
        if label is Strategy.CONVEXITY:
            assert c.rho * 1.3 < b.rho
        else:
            assert c.rho > 1.3 * b.rho
            if label is Strategy.PUDDING:
                assert c.balance * 1.3 < b.balance
            else:
                assert c.balance > 1.3 * b.balance


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_canonical_networks_are_classified_under_permutation_noise_and_padding(seed):
    """Fresh populations (other seeds than the calibration's: new convexity draws, noise, permutations)."""
    for label, w0 in canonical_population(seed):
        assert classify(w0) is label, (label, coordinates(w0))


def test_coordinates_agree_with_the_papers_order_parameters():
    w0, _ = canonical.convexity(16, hidden=48, seed=5)
    c = coordinates(w0[0])
    assert c.alpha_1 == pytest.approx(double_sidedness(w0[0]))
    assert c.alpha_2 == pytest.approx(strongest_connection(w0[0]))
    assert c.alpha_1 == pytest.approx(c.balance * c.rho)


@given(scale=st.floats(1e-3, 1e3), seed=st.integers(0, 20))
def test_classification_does_not_depend_on_the_weight_scale(scale, seed):
    for label, w0 in canonical_population(seed)[::7]:
        assert classify(w0 * scale) is classify(w0)


@pytest.mark.parametrize("n, hidden", [(4, 12), (8, 24), (16, 64), (32, 96)])
def test_other_sizes_of_exact_swish_networks(n, hidden):
    for sign in (1, -1):
        assert classify(canonical.pudding(n, sign, hidden=hidden, activation="swish")[0][0]) is Strategy.PUDDING
    assert classify(canonical.double_sided(n, hidden=hidden, activation="swish")[0][0]) is Strategy.DOUBLE_SIDED


def test_first_layer_statistics_cannot_tell_a_unit_scale_relu_pudding_from_double_sided():
    """The documented limit: with k = 1 every input of the ReLU pudding has one weight +1 and one -1, exactly
    like double-sided ReLU; only how hidden neurons are shared differs, which alpha_1 and alpha_2 do not see."""
    pud, ds = canonical.pudding(16, 1, hidden=48)[0][0], canonical.double_sided(16, hidden=48)[0][0]
    assert sorted(pud.T[0].tolist()) == sorted(ds.T[0].tolist())
    assert coordinates(pud) == coordinates(ds)


def test_none_for_networks_that_do_not_compute_the_norm():
    w0 = canonical.double_sided(16, hidden=48)[0][0]
    assert classify(w0, loss=0.05) is Strategy.DOUBLE_SIDED
    assert classify(w0, loss=0.95) is Strategy.NONE
    assert classify(w0, loss=math.nan) is Strategy.NONE
    one_sided = w0.clone()
    one_sided[:, 3] = one_sided[:, 3].abs()  # input 3 has positive weights only
    assert classify(one_sided) is Strategy.NONE


def test_custom_boundaries_are_used():
    w0, _ = canonical.convexity(16, hidden=48, seed=0)
    assert classify(w0[0]) is Strategy.CONVEXITY
    assert classify(w0[0], boundaries=Boundaries(rho=1.0, balance=1e-6)) is Strategy.DOUBLE_SIDED


def test_overlapping_populations_are_refused():
    assert _gap_middle([1.0, 2.0], [8.0], "x") == pytest.approx(4.0)
    with pytest.raises(ValueError, match="overlap in x"):
        _gap_middle([1.0, 9.0], [8.0], "x")


def test_coordinates_of_a_hand_made_matrix():
    """Paper orientation W = w0.T: input 0 has weights (3, -1), input 1 has (2, -2); median |W| = 2."""
    w0 = torch.tensor([[3.0, 2.0], [-1.0, -2.0]])
    c = coordinates(w0)
    assert (c.nu, c.alpha_2, c.rho, c.balance, c.alpha_1) == pytest.approx((1.0, 3.0, 1.5, 1 / 3, 0.5))
