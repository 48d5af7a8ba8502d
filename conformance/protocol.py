"""The adapter protocol: how the conformance suite talks to an implementation, in NumPy arrays only.

An implementation under test is any object with the attributes and methods below (no base class to
inherit). Everything crossing the boundary is a Python number or a NumPy array, so an implementation in
JAX, NumPy, TensorFlow or another PyTorch design fits with a thin wrapper. ``conformance/example.py``
is a complete, runnable adapter around a small independent NumPy implementation.

Required
--------
``name: str``
    Shown in reports.
``capabilities: frozenset[str]``
    The optional capabilities (below) the adapter provides; tests of the others are skipped and counted.
``trained_sizes: tuple[int, ...]``
    The layer sizes the encoder's learned variables exist for (the paper's (16, 48, 1)).
``generate(sizes, beta, seed, decoder_only=False) -> Network``
    One network of layer ``sizes`` (a tuple of >= 2 positive ints) at KL weight ``beta`` (a float),
    with all generation randomness drawn from ``seed`` (an int). With ``decoder_only`` any sizes must
    work; without it, sizes other than ``trained_sizes`` must raise ``ValueError``. A ``beta`` that is not
    finite and > 0 must raise ``ValueError``.

Optional capabilities
---------------------
``"trace"``: ``generate_traced(sizes, beta, seed, decoder_only=False) -> tuple[Network, list[ChannelTrace]]``
    The same network as ``generate`` with the same arguments, plus one :class:`ChannelTrace` per
    hyperlayer (in order) describing its KL channel.
``"noise"``: ``noise_shapes(sizes) -> dict[str, tuple[int, ...]]`` and
    ``generate_from_noise(sizes, beta, noise, decoder_only=False) -> Network``
    Caller-supplied randomness: ``noise`` maps each name of ``noise_shapes`` to a float64 array of that
    shape, every entry iid N(0, 1) as the implementation would draw it. In every array the edge axis is
    the second-to-last, in the flat edge order below, so relabelling neurons permutes that axis.
``"encoder"``: ``with_encoder(seed) -> adapter``
    A copy of the implementation whose encoder-only learned variables are replaced: by zeros (the
    decoder side's value) when ``seed`` is None, else by fresh iid N(0, 1) draws from ``seed``. Nothing
    else changes.
``"objective"``: ``objective(loss, kl, beta) -> float``
    The training objective for one beta; ``ValueError`` for an invalid beta.
``"task"``: ``l1_target(x) -> ndarray`` (x: (samples, n), returns (samples,)) and
    ``mlp_forward(weights, biases, x) -> ndarray`` ((samples, n_N)).
``"order_parameters"``: ``order_parameters(w0, v0) -> dict`` with float values ``alpha_1``, ``alpha_2``,
    ``alpha_3``, where ``w0``, ``v0`` are first-layer matrices of shape (n_1, n_0).
``"train"``: ``train(steps, seed, out_dir, checkpoint_every) -> list[tuple[int, adapter]]``
    Train from scratch at ``trained_sizes`` for ``steps`` steps with all randomness from ``seed``
    (writing what it likes under ``out_dir``, and finishing or reusing what an earlier call left there),
    and return (step, adapter) for the untrained model (step 0), every ``checkpoint_every`` steps, and
    the last step. Used by ``paper_claims``, which checks the paper's results through it.

Conventions
-----------
* ``Network.weights[l]`` has shape (n_{l+1}, n_l) (the paper's W^(l): row = output neuron j, column =
  input neuron i); ``Network.biases[l]`` has shape (n_{l+1},); hidden layers use swish, the output is linear.
* The flat edge order: layer by layer, and within layer l row-major over (j, i): edge (l, j, i) sits at
  offset_l + j * n_l + i, offset_l = sum_{m < l} n_{m+1} n_m.
* ``Network.kl`` is the accumulated KL divergence in nats, 0.0 for decoder-only generation.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

CAPABILITIES = frozenset({"trace", "noise", "encoder", "objective", "task", "order_parameters", "train"})
ENVIRONMENT_VARIABLE = "HYPERNET_IMPL"
DEFAULT_IMPL = "conformance.reference_adapter:adapter"


@dataclass(frozen=True)
class Network:
    """A generated MLP: ``weights[l]`` (n_{l+1}, n_l), ``biases[l]`` (n_{l+1},), ``kl`` in nats."""

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    kl: float


@dataclass(frozen=True)
class ChannelTrace:
    """One hyperlayer's KL channel, arrays of shape (E, latent_features) in the flat edge order.

    ``mu_q``/``sigma_q``: the encoder side's distribution q (None in decoder-only generation);
    ``mu_p``/``sigma_p``: the decoder side's p; ``z``: the sample passed on (from q, or from p decoder-only).
    """

    mu_q: np.ndarray | None
    sigma_q: np.ndarray | None
    mu_p: np.ndarray
    sigma_p: np.ndarray
    z: np.ndarray


@runtime_checkable
class Adapter(Protocol):
    name: str
    capabilities: frozenset[str]
    trained_sizes: tuple[int, ...]

    def generate(self, sizes: Sequence[int], beta: float, seed: int, decoder_only: bool = False) -> Network: ...


def load_adapter(spec: str | None = None) -> Any:
    """The adapter named by ``spec`` ('package.module:object'), else $HYPERNET_IMPL, else the reference.

    If the object is callable and not itself an adapter (a class or factory), it is called with no
    arguments. The result is checked for the required attributes and declared capabilities.
    """
    spec = spec or os.environ.get(ENVIRONMENT_VARIABLE) or DEFAULT_IMPL
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"--impl must look like 'package.module:object', got {spec!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ValueError(f"--impl {spec!r}: cannot import {module_name!r}: {error}") from None
    try:
        obj = getattr(module, attribute)
    except AttributeError:
        raise ValueError(f"--impl {spec!r}: module {module_name!r} has no attribute {attribute!r}") from None
    if callable(obj) and not isinstance(obj, Adapter):
        obj = obj()
    check_adapter(obj, spec)
    return obj


def check_adapter(adapter: Any, spec: str = "adapter") -> None:
    """Raise ValueError unless ``adapter`` has the required members and only known capabilities."""
    missing = [name for name in ("name", "capabilities", "trained_sizes", "generate") if not hasattr(adapter, name)]
    if missing:
        raise ValueError(f"{spec} is not a conformance adapter: it lacks {', '.join(missing)}")
    unknown = set(adapter.capabilities) - CAPABILITIES
    if unknown:
        raise ValueError(f"{spec} declares unknown capabilities {sorted(unknown)}; known: {sorted(CAPABILITIES)}")


def paper_kl(mu_q: np.ndarray, sigma_q: np.ndarray, mu_p: np.ndarray, sigma_p: np.ndarray) -> np.ndarray:
    """Closed-form KL(N(mu_q, sigma_q^2) || N(mu_p, sigma_p^2)), elementwise, in float64."""
    mu_q, sigma_q, mu_p, sigma_p = (np.asarray(a, dtype=np.float64) for a in (mu_q, sigma_q, mu_p, sigma_p))
    return np.log(sigma_p / sigma_q) + (sigma_q**2 + (mu_q - mu_p) ** 2) / (2.0 * sigma_p**2) - 0.5


def edge_offsets(sizes: Sequence[int]) -> list[int]:
    """Start of each layer on the flat edge axis, and the total number of edges at the end."""
    offsets = [0]
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        offsets.append(offsets[-1] + n_in * n_out)
    return offsets

