"""Size generalisation (Sec. 2.4, Fig. 5): decoder-only generation over a grid of layer sizes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from .config import validate_beta
from .pareto import ParetoHypernetwork
from .task import mse_loss, sample_inputs


@torch.no_grad()
def size_generalisation(
    model: ParetoHypernetwork,
    beta: float,
    input_dims: Sequence[int],
    hidden_dims: Sequence[int],
    generations: int = 4,
    eval_samples: int = 4096,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Loss of decoder-only networks (input_dim, hidden_dim, 1) at every grid point.

    Each point generates ``generations`` networks (noise seeded by ``seed``) and evaluates them on
    ``eval_samples`` fresh inputs of their own dimension; rows hold the mean loss and its std over the
    generations.
    """
    validate_beta(beta)
    for name, dims in (("input_dims", input_dims), ("hidden_dims", hidden_dims)):
        if not dims or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in dims):
            raise ValueError(f"{name} must be a non-empty list of positive integers, got {list(dims)!r}")
    if generations < 1 or eval_samples < 1:
        raise ValueError(f"generations and eval_samples must be positive, got {generations}, {eval_samples}")
    rows = []
    for n_in in input_dims:
        x = sample_inputs(eval_samples, n_in, torch.Generator().manual_seed(seed))
        for n_hidden in hidden_dims:
            generator = torch.Generator().manual_seed(seed)
            nets = model(torch.full((generations,), float(beta)), sizes=(n_in, n_hidden, 1), decoder_only=True,
                         generator=generator)
            loss = mse_loss(nets.weights, nets.biases, x)
            rows.append({"input_dim": n_in, "hidden_dim": n_hidden, "loss": loss.mean().item(),
                         "loss_std": loss.std().item() if generations > 1 else 0.0})
    return rows
