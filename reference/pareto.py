"""The Pareto hyperhypernetwork (Appendix A.2.2) and the full beta-conditioned model.

The hyperhypernetwork takes log(beta), rescaled and shifted, through two swish hidden layers (100
and 10) to two vectors a and b; the hypernetwork's hyperweights are a * sigmoid(b).

:class:`ParetoHypernetwork` joins it to the :class:`~reference.hypernet.Hypernetwork`: given betas
it generates MLPs. Its trainable parameters are the hyperhypernetwork's and the encoder's learned
variables; the hyperweights themselves are recomputed from beta at every call.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .config import Config, validate_beta
from .hypernet import Generated, HyperNoise, Hypernetwork
from .task import swish


class HyperHypernetwork(nn.Module):
    """rescaled log10(beta) -> hidden (swish) -> (a, b); returns hyperweights a * sigmoid(b).

    Initialisation: the last layer's weights are small (``hyperhyper_output_init_std``) and its biases
    set so that at any beta the hyperweights start near a standard initialisation of each array
    (``init_std`` per array, times N(0, 1)), with b = 0 where sigmoid is most sensitive.
    """

    def __init__(self, config: Config, init_stds: Tensor) -> None:
        super().__init__()
        self.config = config
        widths = (1, *config.hyperhyper_hidden)
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        count = init_stds.numel()
        self.out_a = nn.Linear(widths[-1], count)
        self.out_b = nn.Linear(widths[-1], count)
        with torch.no_grad():
            for layer in (self.out_a, self.out_b):
                layer.weight.normal_(0.0, config.hyperhyper_output_init_std)
            # a * sigmoid(0) = a / 2, so a starts at twice the wanted hyperweight
            self.out_a.bias.copy_(2.0 * init_stds * torch.randn(count))
            self.out_b.bias.zero_()

    def rescale(self, beta: Tensor) -> Tensor:
        """log10(beta) mapped linearly so that ``log10_beta_range`` becomes [-1, 1]."""
        low, high = self.config.log10_beta_range
        return (2.0 * (torch.log10(beta) - low) / (high - low) - 1.0).unsqueeze(-1)

    def forward(self, beta: Tensor) -> Tensor:
        """(batch,) betas -> (batch, num_hyperweights) hyperweights."""
        h = self.rescale(beta)
        for layer in self.hidden:
            h = swish(layer(h))
        return self.out_a(h) * torch.sigmoid(self.out_b(h))


class ParetoHypernetwork(nn.Module):
    """The whole generative model: beta -> hyperweights -> MLP weights and biases (and KL)."""

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.config = config
        self.hypernet = Hypernetwork(config)
        init_stds = torch.cat(
            [torch.full((s.numel,), s.init_std) for s in self.hypernet.hyperweight_specs()]
        )
        self.hyperhyper = HyperHypernetwork(config, init_stds)

    def forward(
        self,
        beta: Tensor,
        sizes: tuple[int, ...] | None = None,
        noise: HyperNoise | None = None,
        decoder_only: bool = False,
        generator: torch.Generator | None = None,
        trace: bool = False,
    ) -> Generated:
        """Generate one MLP per beta (a 1-D tensor of finite, positive values).

        ``sizes`` defaults to the training sizes; noise is drawn from ``generator`` unless given.
        With ``decoder_only`` any sizes work; otherwise they must be the training sizes.
        """
        beta = check_betas(beta)
        sizes = tuple(self.config.sizes if sizes is None else sizes)
        if noise is None:
            noise = self.hypernet.sample_noise(sizes, beta.shape[0], generator)
        hyperweights = self.hyperhyper(beta)
        return self.hypernet(hyperweights, sizes, noise, decoder_only=decoder_only, trace=trace)

    @torch.no_grad()
    def generate(
        self,
        beta: float,
        sizes: tuple[int, ...] | None = None,
        decoder_only: bool = False,
        seed: int = 0,
        count: int = 1,
    ) -> Generated:
        """``count`` networks at one beta, reproducibly from ``seed`` (no gradients)."""
        validate_beta(beta)
        generator = torch.Generator().manual_seed(seed)
        betas = torch.full((count,), float(beta))
        return self(betas, sizes=sizes, decoder_only=decoder_only, generator=generator)


def check_betas(beta: Tensor) -> Tensor:
    """A 1-D float tensor of finite, positive betas, or a ValueError naming ``beta``."""
    beta = torch.as_tensor(beta, dtype=torch.get_default_dtype())
    if beta.dim() != 1 or beta.numel() == 0:
        raise ValueError(f"beta must be a non-empty 1-D tensor, got shape {tuple(beta.shape)}")
    if torch.compiler.is_compiling():
        return beta  # a data-dependent branch would split a compiled step; compiled callers pass sampled betas
    bad = ~(torch.isfinite(beta) & (beta > 0))
    if bool(bad.any()):
        raise ValueError(f"beta must be finite and > 0, got {beta[bad][:5].tolist()}")
    return beta

