"""The L1 task and the target MLP (reference/task.py)."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from reference.task import l1_target, mlp_forward, mse_loss, sample_inputs, swish

# z for a two-sided false-failure rate of 1e-6 per assertion
Z_1E6 = 4.892


@pytest.mark.parametrize("dim", [1, 3, 16, 100])
def test_target_is_standardised(dim):
    """Mean 0 and variance 1 for N(0, I_dim) inputs.

    N = 200,000 samples. Mean: std error 1/sqrt(N). Variance: std error sqrt((kurtosis - 1)/N) with the
    target's kurtosis at most 3.87 (that of |x| for dim 1; it falls towards 3 as dim grows), so
    sqrt(2.87/N). Each bound is Z_1E6 standard errors: false-failure rate 1e-6 per assertion.
    """
    n = 200_000
    y = l1_target(sample_inputs(n, dim, torch.Generator().manual_seed(dim)).double())
    assert abs(y.mean().item()) < Z_1E6 / math.sqrt(n)
    assert abs(y.var().item() - 1.0) < Z_1E6 * math.sqrt(2.87 / n)


def test_target_is_an_affine_map_of_the_l1_norm():
    x = torch.tensor([[1.0, -2.0, 0.5], [0.0, 0.0, 0.0]], dtype=torch.float64)
    expected = (x.abs().sum(-1) - 3 * math.sqrt(2 / math.pi)) / math.sqrt(3 * (1 - 2 / math.pi))
    torch.testing.assert_close(l1_target(x), expected)


@given(sizes=st.lists(st.integers(1, 7), min_size=2, max_size=5), batch=st.integers(1, 3), seed=st.integers(0, 99))
def test_mlp_forward_matches_a_plain_loop(sizes, batch, seed):
    """Swish on every hidden layer, linear output, W^(l) of shape (n_{l+1}, n_l)."""
    g = torch.Generator().manual_seed(seed)
    weights = [torch.randn(batch, b, a, generator=g, dtype=torch.float64) for a, b in zip(sizes[:-1], sizes[1:])]
    biases = [torch.randn(batch, b, generator=g, dtype=torch.float64) for b in sizes[1:]]
    x = torch.randn(5, sizes[0], generator=g, dtype=torch.float64)
    out = mlp_forward(weights, biases, x)
    assert out.shape == (batch, 5, sizes[-1])
    for k in range(batch):
        for s in range(5):
            a = x[s]
            for layer in range(len(weights)):
                z = [sum(weights[layer][k, j, i] * a[i] for i in range(sizes[layer])) + biases[layer][k, j]
                     for j in range(sizes[layer + 1])]
                z = torch.stack(z)
                a = z * torch.sigmoid(z) if layer < len(weights) - 1 else z
            torch.testing.assert_close(out[k, s], a)


def test_output_layer_is_linear_and_hidden_is_swish():
    """A (1, 1, 1) network: out = w1 * swish(w0 x + b0) + b1, checked at points where swish differs from ReLU/identity."""
    w0, b0, w1, b1 = (torch.tensor([[2.0]]), torch.tensor([-1.0]), torch.tensor([[3.0]]), torch.tensor([0.5]))
    x = torch.tensor([[-1.0], [0.3], [2.0]])
    expected = 3.0 * swish(2.0 * x - 1.0) + 0.5
    torch.testing.assert_close(mlp_forward([w0, w1], [b0, b1], x), expected)


def test_constant_predictor_scores_about_one():
    """A network that outputs 0 has loss = E[y^2] = 1 (N = 100,000; std error sqrt(2.1/N) = 0.0046; bound 0.03 is 6.5 std errors)."""
    x = sample_inputs(100_000, 16, torch.Generator().manual_seed(1))
    weights, biases = [torch.zeros(48, 16), torch.zeros(1, 48)], [torch.zeros(48), torch.zeros(1)]
    assert abs(mse_loss(weights, biases, x).item() - 1.0) < 0.03


def test_mismatched_weights_and_biases_are_rejected():
    with pytest.raises(ValueError, match="one bias per weight"):
        mlp_forward([torch.zeros(2, 3)], [], torch.zeros(1, 3))
