"""The L1-norm task and the target MLP (Section 2 and Appendix A.2 of the paper).

Inputs are iid N(0, 1). For x in R^n, ||x||_1 has mean n*sqrt(2/pi) and variance n*(1 - 2/pi)
exactly, so the standardised target below has mean 0 and variance 1 exactly (not estimated).

The MLP uses the paper's convention W^(l) in R^{n_{l+1} x n_l}: weights are indexed
(output neuron, input neuron), and a layer computes a_{l+1} = act(a_l @ W^T + b). Hidden layers use
swish (x * sigmoid(x)); the output layer is linear.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor

ABS_MEAN = math.sqrt(2.0 / math.pi)
"""E|x| for x ~ N(0, 1)."""
ABS_VARIANCE = 1.0 - 2.0 / math.pi
"""Var|x| for x ~ N(0, 1)."""


def sample_inputs(batch: int, dim: int, generator: torch.Generator | None = None) -> Tensor:
    """``batch`` iid N(0, I_dim) inputs, shape (batch, dim)."""
    return torch.randn(batch, dim, generator=generator)


def l1_target(x: Tensor) -> Tensor:
    """(||x||_1 - n*sqrt(2/pi)) / sqrt(n*(1 - 2/pi)) over the last axis: mean 0, variance 1 for N(0, I_n)."""
    n = x.shape[-1]
    return (x.abs().sum(-1) - n * ABS_MEAN) / math.sqrt(n * ABS_VARIANCE)


def swish(x: Tensor) -> Tensor:
    """The hidden activation of the target MLP: x * sigmoid(x)."""
    return torch.nn.functional.silu(x)


def mlp_forward(
    weights: Sequence[Tensor], biases: Sequence[Tensor], x: Tensor, activation: Callable[[Tensor], Tensor] = swish
) -> Tensor:
    """Run the target MLP.

    ``weights[l]`` has shape (..., n_{l+1}, n_l) and ``biases[l]`` shape (..., n_{l+1}); leading axes
    are a batch of networks. ``x`` has shape (samples, n_0) (shared by every network) or
    (..., samples, n_0). Returns (..., samples, n_N). ``activation`` (swish, the paper's) on hidden
    layers, the last layer linear.
    """
    if len(weights) != len(biases) or not weights:
        raise ValueError(f"need one bias per weight matrix, got {len(weights)} weights and {len(biases)} biases")
    a = x
    for layer, (w, b) in enumerate(zip(weights, biases)):
        a = torch.matmul(a, w.transpose(-1, -2)) + b.unsqueeze(-2)
        if layer < len(weights) - 1:
            a = activation(a)
    return a


def mse_loss(weights: Sequence[Tensor], biases: Sequence[Tensor], x: Tensor) -> Tensor:
    """Mean squared error of the MLP's single output against the standardised L1 target, per network.

    A constant predictor scores 1.0 (the target's variance). Returns shape (...,) for a batch of networks.
    """
    prediction = mlp_forward(weights, biases, x).squeeze(-1)
    return (prediction - l1_target(x)).square().mean(-1)
