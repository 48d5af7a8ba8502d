"""The Adam baseline (Section 2.5): the same MLP trained directly, without a hypernetwork."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from .config import validate_sizes
from .task import mse_loss, sample_inputs


@dataclass(frozen=True)
class AdamConfig:
    """Settings of the baseline; the paper gives none, so each is chosen (see ``why``)."""

    sizes: tuple[int, ...] = field(default=(16, 48, 1), metadata={"why": "paper: the same 16-48-1 network"})
    steps: int = field(default=10_000, metadata={"why": "chosen: the loss has flattened by then (~0.006)"})
    learning_rate: float = field(default=1e-3, metadata={"why": "chosen: Adam's usual default"})
    batch_size: int = field(default=1024, metadata={"why": "chosen: as for the hypernetwork"})
    seed: int = field(default=0, metadata={"why": "initialisation (PyTorch's default Linear init) and data"})

    def __post_init__(self) -> None:
        object.__setattr__(self, "sizes", validate_sizes(self.sizes))
        for name in ("steps", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not (self.learning_rate > 0):
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate!r}")


@dataclass
class AdamResult:
    """The trained network (weights[l]: (n_{l+1}, n_l), biases[l]: (n_{l+1},)) and its training losses."""

    weights: list[Tensor]
    biases: list[Tensor]
    losses: list[float]


def train_adam(config: AdamConfig, progress: bool = False) -> AdamResult:
    """Train the MLP with Adam on fresh L1 batches; deterministic per ``config.seed``."""
    generator = torch.Generator().manual_seed(config.seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        layers = [nn.Linear(a, b) for a, b in zip(config.sizes[:-1], config.sizes[1:])]
    params = [p for layer in layers for p in layer.parameters()]
    optimizer = torch.optim.Adam(params, lr=config.learning_rate)
    losses = []
    for _ in tqdm(range(config.steps), unit="step", desc="adam", disable=not progress):
        x = sample_inputs(config.batch_size, config.sizes[0], generator)
        loss = mse_loss([l.weight for l in layers], [l.bias for l in layers], x)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return AdamResult([l.weight.detach().clone() for l in layers], [l.bias.detach().clone() for l in layers], losses)
