"""PUDDING: the identities behind the pudding strategy, and what each strategy costs in hidden neurons.

Pure mathematics on the canonical networks; no training. Paper, Sec. 2.1, Eqs. 1-3 (Eq. 3 as corrected in
NOTES.md): ||x||_1 = 2 sum ReLU(-/+ x_i) +/- sum x_i, the linear term made by one neuron
ReLU(c -/+ sum x) - c, so pudding needs n + 1 hidden neurons where double-sided ReLU needs 2n.
"""

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reference import canonical
from reference.task import l1_target

PAPER = "Sec. 2.1, Eqs. 2-3: ||x||_1 = 2 sum_i ReLU(-/+x_i) +/- sum_i x_i; n + 1 neurons suffice, double-sided needs 2n"

relu = lambda z: np.maximum(z, 0.0)  # noqa: E731


@pytest.mark.claim("PUDDING-IDENTITY")
@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 64), seed=st.integers(0, 2**31), sign=st.sampled_from([1, -1]), scale=st.floats(1e-3, 1e3))
def test_pudding_identity_holds_exactly(n, seed, sign, scale, record):
    """Both signs, any dimension: the corrected Eq. 2 and the one-neuron linear term are identities
    (200 hypothesis examples of 64 inputs each, n from 1 to 64, scales 1e-3 to 1e3, relative error 1e-12)."""
    record(PAPER, "identities hold to 1e-12 for both signs, n in [1, 64], 200 examples x 64 inputs")
    x = np.random.default_rng(seed).standard_normal((64, n)) * scale
    total = x.sum(1)
    pudding = 2 * relu(-sign * x).sum(1) + sign * total
    np.testing.assert_allclose(pudding, np.abs(x).sum(1), rtol=1e-12, atol=1e-12 * scale * n)
    c = np.abs(total).max()
    np.testing.assert_allclose(relu(c + sign * total) - c, sign * total, rtol=1e-12, atol=1e-12 * scale * n)


@pytest.mark.claim("PUDDING-NETWORKS")
def test_pudding_networks_are_exact_with_n_plus_one_neurons(record):
    """The ReLU pudding network with n + 1 hidden neurons computes the standardised L1 norm exactly once
    c >= max |sum x| over the data, and not for a small c; its swish version's error shrinks as k and c grow;
    double-sided needs 2n neurons (with one fewer it is not exact)."""
    rows = {}
    x = torch.randn(20_000, 16, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    target = l1_target(x)
    c_needed = x.sum(1).abs().max().item()
    for sign in (1, -1):
        exact = canonical.pudding(16, sign, offset=c_needed)
        small_c = canonical.pudding(16, sign, offset=1.0)
        err = lambda net: (canonical.relu_forward(*net, x).squeeze(-1) - target).abs().max().item()  # noqa: E731
        rows[f"sign{sign:+d}"] = {"hidden": exact[0][0].shape[0], "max_error_c_needed": err(exact),
                                  "max_error_c_1": err(small_c)}
        assert exact[0][0].shape[0] == 17
        assert err(exact) < 1e-9 and err(small_c) > 1.0
    swish_errors = {}
    for k, c in [(3, 15), (10, 30), (30, 60), (100, 120)]:
        net = canonical.pudding(16, -1, activation="swish", scale=k, offset=c)
        swish_errors[f"k={k},c={c}"] = (canonical.forward(*net, x, activation="swish").squeeze(-1)
                                        - target).square().mean().item()
    errors = list(swish_errors.values())
    ds = canonical.double_sided(16)
    w, b = [t.clone() for t in ds[0]], [t.clone() for t in ds[1]]
    w[1][0, 16] = 0.0  # drop the neuron computing ReLU(-x_0): 2n - 1 neurons in use
    ds_missing = (canonical.relu_forward(w, b, x).squeeze(-1) - target).abs().max().item()
    ds_full = (canonical.relu_forward(*ds, x).squeeze(-1) - target).abs().max().item()
    record(PAPER, f"ReLU pudding exact with 17 neurons (err {max(r['max_error_c_needed'] for r in rows.values()):.1e}); "
           f"swish MSE {errors[0]:.2e} -> {errors[-1]:.2e}; double-sided with 2n-1 neurons err {ds_missing:.2f}",
           relu=rows, swish_mse=swish_errors, double_sided_full=ds_full, double_sided_2n_minus_1=ds_missing)
    assert all(a > b for a, b in zip(errors, errors[1:])), swish_errors
    assert ds_full < 1e-9 and ds_missing > 0.5
    with pytest.raises(ValueError, match="hidden"):
        canonical.double_sided(16, hidden=31)
