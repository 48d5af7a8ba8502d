"""One configuration for the whole system: every number the paper fixes or leaves open.

Each field carries two pieces of metadata, shown by ``--help`` and by :func:`describe`:

* ``source``: ``"paper"`` when the paper fixes the value (with the section), or ``"chosen"``
  when the paper is silent and this implementation had to pick;
* ``why``: one line saying what the field means and, for chosen values, why this value.

A :class:`Config` is frozen and validated on construction, so a bad value is reported with
the field's name before any work (or any file) is done.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any


def _field(default: Any, source: str, why: str) -> Any:
    return field(default=default, metadata={"source": source, "why": why})


@dataclass(frozen=True)
class Config:
    # --- the target network and its task (Section 2) ---
    sizes: tuple[int, ...] = _field(
        (16, 48, 1), "paper, Sec. 2", "layer sizes (n_0, ..., n_N) of the MLP the hypernetwork is trained to generate"
    )

    # --- the attentional hypernetwork (Appendix A.2) ---
    hyperdepth: int = _field(4, "paper, A.2", "number of hyperlayers N'")
    activation_features: int = _field(20, "paper, A.2", "width of the elementwise-activation block")
    attention_features: int = _field(5, "paper, A.2", "size of each key, query and value an edge sends to a neuron")
    noise_features: int = _field(5, "paper, A.2", "fresh N(0,1) hyperfeatures per edge per hyperlayer")
    learned_features: int = _field(5, "paper, A.2.1", "encoder-only learned variables per edge per hyperlayer")
    latent_features: int = _field(4, "paper, A.2.1", "width of the KL channel's mu, sigma and sample blocks")
    position_features: int = _field(
        4,
        "chosen",
        "sinusoidal features per encoded index (i, j, layer): 2 frequencies tell 16 inputs apart and extend to any index",
    )
    position_base: float = _field(
        100.0,
        "chosen",
        "frequencies are base**(-k/(K-1)) rad per index (k < K pairs): 1 and 1/100, unique over thousands of indices",
    )
    residual_width: int = _field(
        64,
        "chosen",
        "width of a residual stream between hyperlayers (pre-LayerNorm); 0 gives the paper's plain stack, "
        "which stays on the convexity plateau (DESIGN.md)",
    )
    sigma_floor: float = _field(
        1e-3, "chosen", "KL-channel sigma = softplus(raw) + floor, so log-sigma and the KL stay finite"
    )
    learned_init_std: float = _field(1.0, "chosen", "initial std of the encoder's learned variables (unit scale, like the noise)")
    head_init_scale: float = _field(
        0.1,
        "chosen",
        "the output head starts at this fraction of a standard init, so first networks are near zero "
        "(small, not zero, so every hyperhyperparameter gets gradient)",
    )

    # --- the Pareto hyperhypernetwork (Appendix A.2.2) ---
    hyperhyper_hidden: tuple[int, ...] = _field((100, 10), "paper, A.2.2", "hidden widths of the hyperhypernetwork (swish)")
    log10_beta_range: tuple[float, float] = _field(
        (-12.0, 0.0),
        "chosen",
        "log10(beta) is rescaled to [-1, 1] over this range, the paper's sweep from 1e-12 to 1",
    )
    hyperhyper_output_init_std: float = _field(
        0.01,
        "chosen",
        "std of the hyperhypernetwork's last layer: hyperweights start nearly independent of beta",
    )

    # --- training (Appendix A.2.2: objective log(L + beta*KL)) ---
    steps: int = _field(8000, "chosen", "optimiser steps; DESIGN.md saw the plateau left after ~3,000 at beta 1e-9")
    batch_size: int = _field(1024, "chosen", "fresh L1 samples per step, shared by the betas of that step")
    betas_per_step: int = _field(
        1,
        "paper, A.2.2",
        "betas drawn per step and trained as one batch; 1 as in the paper (measured: 4 or 8 per step cost "
        "proportionally more per step and left the convexity plateau no sooner in wall time)",
    )
    beta_min: float = _field(1e-12, "paper, Fig. 2", "betas are drawn log-uniformly on [beta_min, beta_max]")
    beta_max: float = _field(1.0, "paper, Fig. 2", "upper end of the beta range")
    learning_rate: float = _field(1e-3, "chosen", "Adam's peak learning rate (the usual default)")
    warmup_steps: int = _field(200, "chosen", "linear warm-up avoids early blow-ups of the KL term from random hyperweights")
    final_lr_fraction: float = _field(
        0.1, "chosen", "cosine decay from the peak to this fraction at the last step, to settle late strategies"
    )
    adam_betas: tuple[float, float] = _field((0.9, 0.999), "chosen", "Adam's moment decay rates (defaults)")
    grad_clip: float = _field(1.0, "chosen", "global gradient-norm clip; log-objective gradients spike when L + beta*KL is tiny")
    seed: int = _field(0, "chosen", "seeds initialisation and every random draw of training")

    # --- bookkeeping ---
    checkpoint_every: int = _field(500, "chosen", "steps between checkpoints; the strategy-over-training figures read them")
    log_every: int = _field(50, "chosen", "steps between rows of metrics.jsonl")
    eval_batch_size: int = _field(8192, "chosen", "fresh samples for a generated network's reported loss (std err ~1.6%)")

    def __post_init__(self) -> None:
        object.__setattr__(self, "sizes", tuple(self.sizes))
        object.__setattr__(self, "hyperhyper_hidden", tuple(self.hyperhyper_hidden))
        object.__setattr__(self, "log10_beta_range", tuple(self.log10_beta_range))
        object.__setattr__(self, "adam_betas", tuple(self.adam_betas))
        validate_sizes(self.sizes, "sizes")
        for name in (
            "hyperdepth", "activation_features", "attention_features", "latent_features", "steps", "batch_size",
            "betas_per_step", "checkpoint_every", "log_every", "eval_batch_size",
        ):
            _require_int(getattr(self, name), name, minimum=1)
        for name in ("noise_features", "learned_features", "position_features", "residual_width", "warmup_steps"):
            _require_int(getattr(self, name), name, minimum=0)
        if self.position_features % 2:
            raise ValueError(f"position_features must be even (sin/cos pairs), got {self.position_features}")
        for name in ("learning_rate", "sigma_floor", "position_base", "grad_clip"):
            _require_positive(getattr(self, name), name)
        for name in ("learned_init_std", "head_init_scale", "hyperhyper_output_init_std"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if not 0 <= self.final_lr_fraction <= 1:
            raise ValueError(f"final_lr_fraction must lie in [0, 1], got {self.final_lr_fraction!r}")
        validate_beta(self.beta_min, "beta_min")
        validate_beta(self.beta_max, "beta_max")
        if self.beta_min > self.beta_max:
            raise ValueError(f"beta_min ({self.beta_min}) must not exceed beta_max ({self.beta_max})")
        low, high = self.log10_beta_range
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(f"log10_beta_range must be two finite numbers, low < high, got {self.log10_beta_range!r}")
        if not self.hyperhyper_hidden:
            raise ValueError("hyperhyper_hidden must name at least one hidden width")
        for width in self.hyperhyper_hidden:
            _require_int(width, "hyperhyper_hidden", minimum=1)
        if len(self.adam_betas) != 2 or not all(0 <= b < 1 for b in self.adam_betas):
            raise ValueError(f"adam_betas must be two numbers in [0, 1), got {self.adam_betas!r}")

    # --- serialisation ---
    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Config:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown config field(s): {', '.join(unknown)}")
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> Config:
        return cls.from_dict(json.loads(text))

    def replace(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **changes)

    def architecture_differences(self, other: Config) -> list[str]:
        """Names of fields that change the shapes or meaning of the learned parameters."""
        return [name for name in ARCHITECTURE_FIELDS if getattr(self, name) != getattr(other, name)]


#: Fields that fix the parameter shapes and what they mean; a checkpoint only loads into a model
#: whose config agrees on all of them.
ARCHITECTURE_FIELDS = (
    "sizes", "hyperdepth", "activation_features", "attention_features", "noise_features", "learned_features",
    "latent_features", "position_features", "position_base", "residual_width", "sigma_floor", "hyperhyper_hidden",
    "log10_beta_range",
)


def describe() -> str:
    """A table of every field: name, default, source and reason (for the README and ``--help``)."""
    rows = []
    for f in dataclasses.fields(Config):
        rows.append(f"| `{f.name}` | `{f.default!r}` | {f.metadata['source']} | {f.metadata['why']} |")
    return "| field | default | source | why |\n|---|---|---|---|\n" + "\n".join(rows)


def validate_sizes(sizes: Any, name: str = "sizes") -> tuple[int, ...]:
    """Layer sizes must be at least two positive integers; returns them as a tuple."""
    try:
        values = tuple(sizes)
    except TypeError:
        raise ValueError(f"{name} must be a sequence of positive integers, got {sizes!r}") from None
    if len(values) < 2:
        raise ValueError(f"{name} must have at least two layer sizes (inputs and outputs), got {values!r}")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be positive integers, got {values!r}")
    return values


def validate_beta(beta: Any, name: str = "beta") -> float:
    """beta must be a finite number > 0; returns it as a float."""
    try:
        value = float(beta)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite number > 0, got {beta!r}") from None
    if isinstance(beta, bool) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {beta!r}")
    return value


def _require_int(value: Any, name: str, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _require_positive(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
