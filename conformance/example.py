"""A small, independent NumPy implementation of the KL attentional hypernetwork, with a conformance adapter.

This module is the worked example of ``conformance/protocol.py``: a readable float64 NumPy implementation
of the generative model of Appendix A.2 of Liao, Liu and Tegmark (forward pass only, no training), and
``adapter``, an object that exposes it to the conformance suite. It shares no code with ``reference/``.

Run the conformance suite against it with either of::

    pytest --pyargs conformance.suite --impl conformance.example:adapter
    pytest conformance/suite --impl conformance.example:adapter

and use it directly like this::

    from conformance.example import adapter
    net = adapter.generate((16, 48, 1), beta=1e-3, seed=0)        # net.weights, net.biases, net.kl
    other = adapter.generate((3, 7, 7, 2), 1e-3, 0, decoder_only=True)

The model, from beta to the weights and biases of an MLP of sizes (n_0, ..., n_N):

1. **Hyperhypernetwork** (A.2.2). ``rescaled log10(beta) -> 100 -> 10 (swish) -> (a, b)``; the flat
   hyperweight vector is ``a * sigmoid(b)``. Its parameters are drawn once from a fixed seed.
2. **Hyperactivations**: an array ``(side, E, hyperfeatures)``. ``side`` is the KL axis (A.2.1; index 0 the
   encoder, 1 the decoder; decoder-only generation has the decoder side alone) and ``E`` is the flat edge
   axis (layer-major, row-major over (j, i) within a layer: the protocol's order).
3. **Hyperlayers** (A.2), ``HYPERDEPTH`` of them. Each applies a linear map in the hyperfeature axis (the
   first has no input, so its bias alone) and splits the result into the inputs of its blocks; the
   blocks' outputs are concatenated:

   ===============  ==========  ===========================================================================
   block            in -> out   operation
   ===============  ==========  ===========================================================================
   activation       20 -> 20    swish, elementwise
   positional        0 -> 12    sinusoids of i (first layer only), j (last layer only), the layer index
   noise             0 -> 5     fresh N(0, 1) per edge, the same on both KL sides
   attention        30 -> 10    each edge sends (q, k, v) of 5 to its front neuron j and another (q, k, v)
                                to its behind neuron i; every neuron runs one softmax self-attention head
                                over the messages of its edges; each edge concatenates the two results
   learned           0 -> 5     per-edge learned variables on the encoder side, zeros on the decoder side
   KL channel        8 -> 4     mu and sigma (4 each) per side; KL(q_encoder || p_decoder) in closed form
                                goes to an accumulator; z = mu_q + sigma_q * eps is copied to both sides
                                (decoder-only: z = mu_p + sigma_p * eps and no KL)
   ===============  ==========  ===========================================================================

4. **Head**: a linear map of the decoder side's last hyperactivations to two features per edge: the weight
   W_ji, and a quantity averaged over the input axis i that becomes the bias b_j.

Choices the paper leaves open (plain stack, no residual stream or normalisation; the positional
frequencies; sigma = softplus + 1e-3; the initialisation) are named constants below. The model is
untrained, so its networks are random-looking; every clause of the suite is structural and holds anyway.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence

import numpy as np

from conformance.protocol import ChannelTrace, Network

# --- Architecture (A.2: the widths the paper gives; the rest chosen) ---
HYPERDEPTH = 4  # hyperlayers N' (paper)
ACTIVATION = 20  # swish block width (paper)
QKV = 5  # width of each query, key and value (paper)
NOISE = 5  # fresh N(0, 1) features per edge and hyperlayer (paper)
LEARNED = 5  # encoder-only learned variables per edge and hyperlayer (paper)
LATENT = 4  # KL channel: mu, sigma and sample widths (paper)
FREQUENCIES = (1.0, 0.1)  # chosen: sin and cos of index * f, so 4 features per encoded index
POSITION = 2 * len(FREQUENCIES)
SIGMA_FLOOR = 1e-3  # chosen: sigma = softplus(raw) + floor keeps log(sigma) and the KL finite
HYPERHYPER_HIDDEN = (100, 10)  # paper, A.2.2
LOG10_BETA_RANGE = (-12.0, 0.0)  # chosen: log10(beta) over the paper's sweep is rescaled to [-1, 1]
TRAINED_SIZES = (16, 48, 1)  # paper, Sec. 2: the network the encoder's learned variables belong to

BLOCK_IN = ACTIVATION + 6 * QKV + 2 * LATENT  # 58: what a hyperlayer's linear map feeds its blocks
BLOCK_OUT = ACTIVATION + 3 * POSITION + NOISE + 2 * QKV + LEARNED + LATENT  # 56: the blocks' outputs


# --- Elementwise functions (stable for any float64 input: no overflow warnings) ---

def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def swish(x: np.ndarray) -> np.ndarray:
    return x * sigmoid(x)


def softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def gaussian_kl(mu_q, sigma_q, mu_p, sigma_p) -> np.ndarray:
    """KL(N(mu_q, sigma_q^2) || N(mu_p, sigma_p^2)) elementwise, in nats."""
    return np.log(sigma_p / sigma_q) + (sigma_q**2 + (mu_q - mu_p) ** 2) / (2.0 * sigma_p**2) - 0.5


# --- Validation ---

def check_beta(beta: float) -> float:
    try:
        value = float(beta)
    except (TypeError, ValueError):
        raise ValueError(f"beta must be a finite number > 0, got {beta!r}") from None
    if isinstance(beta, bool) or not (math.isfinite(value) and value > 0):
        raise ValueError(f"beta must be a finite number > 0, got {beta!r}")
    return value


def check_sizes(sizes: Sequence[int]) -> tuple[int, ...]:
    sizes = tuple(sizes)
    integers = all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in sizes)
    if len(sizes) < 2 or not integers or min(sizes) < 1:
        raise ValueError(f"sizes must be at least two positive integers, got {sizes!r}")
    return tuple(int(n) for n in sizes)


# --- The computation graph: the flat edge axis and its per-layer blocks ---

def layer_pairs(sizes: Sequence[int]) -> list[tuple[int, int]]:
    """(n_l, n_{l+1}) per weight layer l."""
    return list(zip(sizes[:-1], sizes[1:]))


def num_edges(sizes: Sequence[int]) -> int:
    return sum(n_in * n_out for n_in, n_out in layer_pairs(sizes))


def split_layers(x: np.ndarray, sizes: Sequence[int]) -> list[np.ndarray]:
    """(..., E, F) -> per layer l a view (..., n_{l+1}, n_l, F) of the flat edge axis."""
    blocks, start = [], 0
    for n_in, n_out in layer_pairs(sizes):
        stop = start + n_in * n_out
        blocks.append(x[..., start:stop, :].reshape(*x.shape[:-2], n_out, n_in, x.shape[-1]))
        start = stop
    return blocks


def join_layers(blocks: list[np.ndarray]) -> np.ndarray:
    """The inverse of :func:`split_layers`: per-layer (..., n_{l+1}, n_l, F) -> (..., E, F)."""
    return np.concatenate([b.reshape(*b.shape[:-3], -1, b.shape[-1]) for b in blocks], axis=-2)


def sinusoids(index: np.ndarray) -> np.ndarray:
    """(...,) 1-based indices -> (..., POSITION) features [sin(index * f), cos(index * f)] for f in FREQUENCIES.

    1-based, so an index never encodes as all-zero sines (a single output neuron still gets a signal)."""
    angles = np.asarray(index, dtype=np.float64)[..., None] * np.asarray(FREQUENCIES)
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=-1)


def positional_encoding(sizes: Sequence[int]) -> np.ndarray:
    """(E, 3 * POSITION): encodings of i on the first layer, of j on the last layer (zeros elsewhere), and of the
    layer index on every layer. Hidden neurons are never encoded, so they stay exchangeable."""
    last = len(sizes) - 2
    blocks = []
    for l, (n_in, n_out) in enumerate(layer_pairs(sizes)):
        j, i = np.meshgrid(np.arange(1, n_out + 1), np.arange(1, n_in + 1), indexing="ij")  # (n_out, n_in)
        blocks.append(np.concatenate([sinusoids(i) * (l == 0), sinusoids(j) * (l == last),
                                      sinusoids(np.full_like(i, l + 1))], axis=-1))
    return join_layers(blocks)


# --- The attention block ---

def attention(messages: np.ndarray, sizes: Sequence[int]) -> np.ndarray:
    """(side, E, 6 * QKV) messages -> (side, E, 2 * QKV) results.

    An edge's first 3 * QKV features are the (q, k, v) it sends to its front neuron j, the last 3 * QKV those
    it sends to its behind neuron i. A neuron of neuron-layer m attends over the messages of its incoming
    edges (layer m - 1) and its outgoing edges (layer m); each message's result returns to its sender,
    which concatenates [from front, from behind]. All neurons of one layer are one batched computation.
    """
    layers = split_layers(messages, sizes)  # per layer (side, n_out, n_in, 6 * QKV)
    depth = len(sizes) - 1
    from_front, from_behind = [None] * depth, [None] * depth
    for m, n_m in enumerate(sizes):
        n_incoming = sizes[m - 1] if m > 0 else 0
        slots = []  # each (side, n_m, slots, 3 * QKV): the neuron's index comes first
        if m > 0:  # incoming edges (j = this neuron, i) send their to-front message
            slots.append(layers[m - 1][..., : 3 * QKV])
        if m < depth:  # outgoing edges (k, i = this neuron) send their to-behind message
            slots.append(layers[m][..., 3 * QKV:].swapaxes(1, 2))
        q, k, v = np.split(np.concatenate(slots, axis=2), 3, axis=-1)
        out = softmax(q @ k.swapaxes(-1, -2) / math.sqrt(QKV)) @ v  # (side, n_m, slots, QKV)
        if m > 0:
            from_front[m - 1] = out[:, :, :n_incoming]
        if m < depth:
            from_behind[m] = out[:, :, n_incoming:].swapaxes(1, 2)
    return join_layers([np.concatenate(pair, axis=-1) for pair in zip(from_front, from_behind)])


# --- The KL channel ---

def kl_channel(kl_in: np.ndarray, eps: np.ndarray, decoder_only: bool) -> tuple[np.ndarray, float, ChannelTrace]:
    """(side, E, 2 * LATENT) -> the sample z (E, LATENT) passed to both sides, this hyperlayer's KL, its trace."""
    mu, raw_sigma = np.split(kl_in, 2, axis=-1)
    sigma = softplus(raw_sigma) + SIGMA_FLOOR
    mu_p, sigma_p = mu[-1], sigma[-1]  # the decoder side is the last (the only one when decoder-only)
    if decoder_only:
        z = mu_p + sigma_p * eps
        return z, 0.0, ChannelTrace(None, None, mu_p, sigma_p, z)
    mu_q, sigma_q = mu[0], sigma[0]
    z = mu_q + sigma_q * eps
    kl = float(gaussian_kl(mu_q, sigma_q, mu_p, sigma_p).sum())
    return z, kl, ChannelTrace(mu_q, sigma_q, mu_p, sigma_p, z)


# --- Hyperweights and the hyperhypernetwork ---

def hyperweight_shapes() -> dict[str, tuple[int, ...]]:
    """Every hyperweight array, in the order of the flat hyperweight vector."""
    shapes: dict[str, tuple[int, ...]] = {}
    for t in range(HYPERDEPTH):
        if t > 0:  # the first hyperlayer has no input: its blocks start from the bias alone
            shapes[f"layer{t}.weight"] = (BLOCK_OUT, BLOCK_IN)
        shapes[f"layer{t}.bias"] = (BLOCK_IN,)
    shapes["head.weight"] = (BLOCK_OUT, 2)
    shapes["head.bias"] = (2,)
    return shapes


def hyperweight_init_std(name: str, shape: tuple[int, ...]) -> float:
    """Chosen: weights 1/sqrt(fan_in), which keeps the hyperactivations O(1) through the plain stack;
    the first hyperlayer's bias (its only input) unit scale; the other biases 0.1."""
    if name.endswith("weight"):
        return shape[0] ** -0.5
    return 1.0 if name == "layer0.bias" else 0.1


class HyperHypernetwork:
    """rescaled log10(beta) -> swish hidden layers (100, 10) -> (a, b); hyperweights = a * sigmoid(b).

    Initialised so that at any beta each hyperweight is near a standard draw for its array (b near 0, so
    a starts at twice the wanted value), with a beta-dependent part a tenth of that size."""

    def __init__(self, stds: np.ndarray, rng: np.random.Generator) -> None:
        widths = (1, *HYPERHYPER_HIDDEN)
        self.hidden = [(rng.standard_normal((a, b)) * a**-0.5, np.zeros(b)) for a, b in zip(widths[:-1], widths[1:])]
        count, last = stds.size, widths[-1]
        small = 0.1 * last**-0.5  # hidden features are O(1), so h @ weight is a tenth of the bias's scale
        self.a_weight = rng.standard_normal((last, count)) * small * 2 * stds
        self.a_bias = rng.standard_normal(count) * 2 * stds  # a * sigmoid(0) = a / 2
        self.b_weight = rng.standard_normal((last, count)) * small
        self.b_bias = np.zeros(count)

    def __call__(self, beta: float) -> np.ndarray:
        low, high = LOG10_BETA_RANGE
        h = np.array([2.0 * (math.log10(beta) - low) / (high - low) - 1.0])
        for weight, bias in self.hidden:
            h = swish(h @ weight + bias)
        return (h @ self.a_weight + self.a_bias) * sigmoid(h @ self.b_weight + self.b_bias)


# --- The whole model ---

class KLAttentionalHypernetwork:
    """beta -> hyperweights -> the weights and biases of an MLP of any sizes, and the accumulated KL.

    Its state: the hyperhypernetwork's parameters and the encoder's learned variables, an array
    (HYPERDEPTH, E, LEARNED) over the edges of ``TRAINED_SIZES``, both drawn from ``seed``.
    """

    def __init__(self, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.shapes = hyperweight_shapes()
        stds = np.concatenate([np.full(math.prod(s), hyperweight_init_std(n, s)) for n, s in self.shapes.items()])
        self.hyperhyper = HyperHypernetwork(stds, rng)
        self.learned = rng.standard_normal((HYPERDEPTH, num_edges(TRAINED_SIZES), LEARNED))

    def hyperweights(self, beta: float) -> dict[str, np.ndarray]:
        flat, named, start = self.hyperhyper(beta), {}, 0
        for name, shape in self.shapes.items():
            named[name] = flat[start: start + math.prod(shape)].reshape(shape)
            start += math.prod(shape)
        return named

    @staticmethod
    def noise_shapes(sizes: Sequence[int]) -> dict[str, tuple[int, ...]]:
        edges = num_edges(sizes)
        return {"features": (HYPERDEPTH, edges, NOISE), "latent": (HYPERDEPTH, edges, LATENT)}

    def forward(self, sizes: Sequence[int], beta: float, noise: dict[str, np.ndarray],
                decoder_only: bool = False) -> tuple[Network, list[ChannelTrace]]:
        """One network of ``sizes`` at ``beta`` from the given noise, and the trace of every KL channel."""
        sizes, beta = check_sizes(sizes), check_beta(beta)
        if not decoder_only and sizes != TRAINED_SIZES:
            raise ValueError(f"the encoder's learned variables exist for sizes {TRAINED_SIZES} only, got {sizes}; "
                             "use decoder_only=True at other sizes")
        for name, shape in self.noise_shapes(sizes).items():
            if np.shape(noise.get(name)) != shape:
                raise ValueError(f"noise[{name!r}] must have shape {shape}, got {np.shape(noise.get(name))}")
        sides, edges = (1 if decoder_only else 2), num_edges(sizes)
        w = self.hyperweights(beta)
        position = np.broadcast_to(positional_encoding(sizes), (sides, edges, 3 * POSITION))
        kl, traces, x = 0.0, [], None
        for t in range(HYPERDEPTH):
            if t == 0:
                block_in = np.broadcast_to(w["layer0.bias"], (sides, edges, BLOCK_IN))
            else:
                block_in = x @ w[f"layer{t}.weight"] + w[f"layer{t}.bias"]
            act_in, attn_in, kl_in = np.split(block_in, [ACTIVATION, ACTIVATION + 6 * QKV], axis=-1)
            z, layer_kl, trace = kl_channel(kl_in, noise["latent"][t], decoder_only)
            kl += layer_kl
            traces.append(trace)
            learned = np.zeros((sides, edges, LEARNED))
            if not decoder_only:
                learned[0] = self.learned[t]  # the encoder side; the decoder side keeps zeros
            x = np.concatenate([
                swish(act_in),
                position,
                np.broadcast_to(noise["features"][t], (sides, edges, NOISE)),
                attention(attn_in, sizes),
                learned,
                np.broadcast_to(z, (sides, edges, LATENT)),
            ], axis=-1)
        # The head reads the decoder side only, so the last hyperlayer's encoder side (computed anyway, to keep
        # every hyperlayer alike) and its learned variables reach nothing.
        head = x[-1] @ w["head.weight"] + w["head.bias"]  # (E, 2)
        blocks = split_layers(head, sizes)  # per layer (n_{l+1}, n_l, 2)
        network = Network(weights=[b[..., 0].copy() for b in blocks], biases=[b[..., 1].mean(axis=1) for b in blocks],
                          kl=kl)
        return network, traces


# --- The conformance adapter ---

class ExampleAdapter:
    """Exposes :class:`KLAttentionalHypernetwork` through the protocol of ``conformance/protocol.py``."""

    name = "numpy-example"
    capabilities = frozenset({"trace", "noise", "encoder", "objective", "task", "order_parameters"})
    trained_sizes = TRAINED_SIZES

    def __init__(self, model: KLAttentionalHypernetwork | None = None) -> None:
        self.model = model if model is not None else KLAttentionalHypernetwork(seed=0)

    def noise_shapes(self, sizes: Sequence[int]) -> dict[str, tuple[int, ...]]:
        return self.model.noise_shapes(check_sizes(sizes))

    def draw_noise(self, sizes: Sequence[int], seed: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(seed)
        return {name: rng.standard_normal(shape) for name, shape in self.noise_shapes(sizes).items()}

    def generate_traced(self, sizes: Sequence[int], beta: float, seed: int,
                        decoder_only: bool = False) -> tuple[Network, list[ChannelTrace]]:
        check_beta(beta)
        return self.model.forward(sizes, beta, self.draw_noise(sizes, seed), decoder_only)

    def generate(self, sizes: Sequence[int], beta: float, seed: int, decoder_only: bool = False) -> Network:
        return self.generate_traced(sizes, beta, seed, decoder_only)[0]

    def generate_from_noise(self, sizes: Sequence[int], beta: float, noise: dict[str, np.ndarray],
                            decoder_only: bool = False) -> Network:
        return self.model.forward(sizes, beta, noise, decoder_only)[0]

    def with_encoder(self, seed: int | None) -> ExampleAdapter:
        model = copy.copy(self.model)  # shares the (never mutated) hyperhypernetwork
        shape = model.learned.shape
        model.learned = np.zeros(shape) if seed is None else np.random.default_rng(seed).standard_normal(shape)
        return ExampleAdapter(model)

    def objective(self, loss: float, kl: float, beta: float) -> float:
        return math.log(loss + check_beta(beta) * kl)

    def l1_target(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        n = x.shape[-1]
        return (np.abs(x).sum(axis=-1) - n * math.sqrt(2 / math.pi)) / math.sqrt(n * (1 - 2 / math.pi))

    def mlp_forward(self, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], x: np.ndarray) -> np.ndarray:
        a = np.asarray(x, dtype=np.float64)
        for l, (w, b) in enumerate(zip(weights, biases)):
            a = a @ np.asarray(w, dtype=np.float64).T + np.asarray(b, dtype=np.float64)
            if l < len(weights) - 1:
                a = swish(a)
        return a

    def order_parameters(self, w0: np.ndarray, v0: np.ndarray) -> dict[str, float]:
        """Eqs. 5-7 with the paper's W = w0.T (rows i: inputs, columns j: hidden neurons)."""
        w, v = np.asarray(w0, dtype=np.float64).T, np.asarray(v0, dtype=np.float64).T
        alpha_1 = np.minimum(-w.min(axis=1), w.max(axis=1)).min() / np.median(np.abs(w))
        alpha_3 = np.square(w - v).sum() / (np.square(w).sum() + np.square(v).sum())
        return {"alpha_1": float(alpha_1), "alpha_2": float(np.abs(w).max()), "alpha_3": float(alpha_3)}


adapter = ExampleAdapter()
