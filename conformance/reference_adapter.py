"""The conformance adapter for this repository's reference implementation (the suite's default target).

``adapter`` wraps a freshly initialised reference model (``Config()``, seed 0): every clause of the
suite is structural, so no training is needed. ``ReferenceAdapter.from_checkpoint(path)`` wraps a
trained one instead.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from conformance.protocol import ChannelTrace, Network
from reference.checkpoint import list_checkpoints, load_checkpoint
from reference.config import Config, validate_beta
from reference.hypernet import Generated, HyperNoise
from reference.order import order_parameters
from reference.pareto import ParetoHypernetwork
from reference.task import l1_target, mlp_forward
from reference.train import build_model, pareto_objective, train_or_resume


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().to(torch.float64).numpy().copy()


def _network(generated: Generated, index: int = 0) -> Network:
    return Network(
        weights=[_numpy(w[index]) for w in generated.weights],
        biases=[_numpy(b[index]) for b in generated.biases],
        kl=float(generated.kl[index]),
    )


class ReferenceAdapter:
    """Adapter for :class:`reference.pareto.ParetoHypernetwork` (all capabilities)."""

    name = "reference"
    capabilities = frozenset({"trace", "noise", "encoder", "objective", "task", "order_parameters", "train"})

    def __init__(self, model: ParetoHypernetwork | None = None) -> None:
        self._model = model

    @classmethod
    def from_checkpoint(cls, path: str | Path) -> ReferenceAdapter:
        checkpoint = load_checkpoint(Path(path))
        model = build_model(checkpoint.config)
        model.load_state_dict(checkpoint.model_state)
        return cls(model)

    @property
    def model(self) -> ParetoHypernetwork:
        if self._model is None:  # built on first use, so importing the adapter stays cheap
            self._model = build_model(Config())
        return self._model

    @property
    def trained_sizes(self) -> tuple[int, ...]:
        return tuple(self.model.config.sizes)

    @torch.no_grad()
    def generate(self, sizes: Sequence[int], beta: float, seed: int, decoder_only: bool = False) -> Network:
        generated = self.model.generate(beta, sizes=tuple(sizes), decoder_only=decoder_only, seed=seed)
        return _network(generated)

    @torch.no_grad()
    def generate_traced(self, sizes: Sequence[int], beta: float, seed: int,
                        decoder_only: bool = False) -> tuple[Network, list[ChannelTrace]]:
        validate_beta(beta)
        generated = self.model(torch.tensor([float(beta)]), sizes=tuple(sizes), decoder_only=decoder_only,
                               generator=torch.Generator().manual_seed(seed), trace=True)
        traces = [
            ChannelTrace(
                mu_q=None if t.mu_q is None else _numpy(t.mu_q[0]),
                sigma_q=None if t.sigma_q is None else _numpy(t.sigma_q[0]),
                mu_p=_numpy(t.mu_p[0]), sigma_p=_numpy(t.sigma_p[0]), z=_numpy(t.z[0]),
            )
            for t in generated.trace
        ]
        return _network(generated), traces

    def noise_shapes(self, sizes: Sequence[int]) -> dict[str, tuple[int, ...]]:
        noise = self.model.hypernet.sample_noise(tuple(sizes), 1)
        return {"features": tuple(noise.features[:, 0].shape), "latent": tuple(noise.latent[:, 0].shape)}

    @torch.no_grad()
    def generate_from_noise(self, sizes: Sequence[int], beta: float, noise: dict[str, np.ndarray],
                            decoder_only: bool = False) -> Network:
        validate_beta(beta)
        dtype = torch.get_default_dtype()
        hyper_noise = HyperNoise(
            features=torch.as_tensor(noise["features"], dtype=dtype).unsqueeze(1),
            latent=torch.as_tensor(noise["latent"], dtype=dtype).unsqueeze(1),
        )
        generated = self.model(torch.tensor([float(beta)]), sizes=tuple(sizes), noise=hyper_noise,
                               decoder_only=decoder_only)
        return _network(generated)

    def with_encoder(self, seed: int | None) -> ReferenceAdapter:
        model = copy.deepcopy(self.model)
        with torch.no_grad():
            if seed is None:
                model.hypernet.learned.zero_()
            else:
                model.hypernet.learned.normal_(generator=torch.Generator().manual_seed(seed))
        return ReferenceAdapter(model)

    def objective(self, loss: float, kl: float, beta: float) -> float:
        beta = validate_beta(beta)
        value = pareto_objective(torch.tensor(loss, dtype=torch.float64), torch.tensor(kl, dtype=torch.float64),
                                 torch.tensor(beta, dtype=torch.float64))
        return float(value)

    def l1_target(self, x: np.ndarray) -> np.ndarray:
        return _numpy(l1_target(torch.as_tensor(x, dtype=torch.float64)))

    def mlp_forward(self, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], x: np.ndarray) -> np.ndarray:
        as_tensor = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.float64)  # noqa: E731
        return _numpy(mlp_forward([as_tensor(w) for w in weights], [as_tensor(b) for b in biases], as_tensor(x)))

    def order_parameters(self, w0: np.ndarray, v0: np.ndarray) -> dict[str, float]:
        return order_parameters(w0, v0)

    def train(self, steps: int, seed: int, out_dir: str | Path,
              checkpoint_every: int) -> list[tuple[int, ReferenceAdapter]]:
        out_dir = Path(out_dir)
        train_or_resume(Config(steps=steps, seed=seed, checkpoint_every=checkpoint_every), out_dir)
        return [(step, ReferenceAdapter.from_checkpoint(path)) for step, path in list_checkpoints(out_dir / "checkpoints")
                if step <= steps]


adapter = ReferenceAdapter()
