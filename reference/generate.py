"""Using generated networks: their loss on fresh L1 data, and writing them to disk."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file
from torch import Tensor

from .hypernet import Generated
from .task import mse_loss, sample_inputs


@torch.no_grad()
def network_loss(weights: Sequence[Tensor], biases: Sequence[Tensor], samples: int = 8192, seed: int = 0) -> Tensor:
    """Mean squared error on ``samples`` fresh inputs (seeded) of one network or a batch (leading axes).

    The L1 task has one output, so the networks must have one output neuron.
    """
    outputs = weights[-1].shape[-2]
    if outputs != 1:
        raise ValueError(f"the L1 task needs networks with 1 output, these have {outputs}")
    x = sample_inputs(samples, weights[0].shape[-1], torch.Generator().manual_seed(seed))
    return mse_loss([w.to(x.dtype) for w in weights], [b.to(x.dtype) for b in biases], x)


def evaluate_loss(generated: Generated, samples: int = 8192, seed: int = 0) -> Tensor:
    """:func:`network_loss` of each generated network, shape (batch,)."""
    return network_loss(generated.weights, generated.biases, samples, seed)


def network_tensors(generated: Generated) -> dict[str, Tensor]:
    """{'W0': (count, n_1, n_0), 'b0': (count, n_1), 'W1': ...}: the paper's W^(l) in R^{n_{l+1} x n_l}."""
    tensors = {}
    for layer, (w, b) in enumerate(zip(generated.weights, generated.biases)):
        tensors[f"W{layer}"] = w.detach().contiguous()
        tensors[f"b{layer}"] = b.detach().contiguous()
    tensors["kl"] = generated.kl.detach().contiguous()
    return tensors


def save_networks(path: Path, generated: Generated, metadata: dict[str, Any]) -> None:
    """Write generated networks as safetensors, with ``metadata`` stored as JSON strings."""
    save_file(network_tensors(generated), str(path), metadata={k: json.dumps(v) for k, v in metadata.items()})
