"""The attentional KL hypernetwork and the Pareto hyperhypernetwork (reference/hypernet.py, pareto.py)."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from reference.config import Config
from reference.graph import ComputationGraph
from reference.hypernet import gaussian_kl, permute
from reference.train import build_model, pareto_objective
from reference.task import mse_loss, sample_inputs

SMALL = Config(sizes=(3, 5, 1), hyperdepth=2, residual_width=16, seed=3)
PLAIN = SMALL.replace(residual_width=0)


@pytest.fixture(scope="module", params=[SMALL, PLAIN], ids=["residual", "plain"])
def model(request):
    return build_model(request.param)


def gen(seed):
    return torch.Generator().manual_seed(seed)


@given(sizes=st.lists(st.integers(1, 12), min_size=2, max_size=5), batch=st.integers(1, 3), seed=st.integers(0, 9))
def test_decoder_only_generates_any_sizes(sizes, batch, seed):
    model = build_model(SMALL)
    with torch.no_grad():
        out = model(torch.full((batch,), 1e-3), sizes=tuple(sizes), decoder_only=True, generator=gen(seed))
    assert [tuple(w.shape) for w in out.weights] == [(batch, b, a) for a, b in zip(sizes[:-1], sizes[1:])]
    assert [tuple(b.shape) for b in out.biases] == [(batch, b) for b in sizes[1:]]
    assert all(torch.isfinite(t).all() for t in out.weights + out.biases)
    assert torch.equal(out.kl, torch.zeros(batch))


def test_paper_size_generation_with_encoder():
    model = build_model(Config())
    with torch.no_grad():
        out = model(torch.tensor([1e-12, 1e-3, 1.0]), generator=gen(0))
    assert [tuple(w.shape) for w in out.weights] == [(3, 48, 16), (3, 1, 48)]
    assert [tuple(b.shape) for b in out.biases] == [(3, 48), (3, 1)]
    assert torch.isfinite(out.kl).all() and (out.kl > 0).all()


def test_encoder_generation_at_other_sizes_is_a_clear_error(model):
    with pytest.raises(ValueError, match="decoder_only"):
        model(torch.tensor([1e-3]), sizes=(4, 5, 1), generator=gen(0))


def test_kl_equals_closed_form_sum_over_every_channel(model):
    """The accumulator equals sum over hyperlayers, edges and latent features of KL(q || p),
    recomputed with torch.distributions from the trace; and the samples are z = mu_q + sigma_q * eps."""
    noise = model.hypernet.sample_noise(model.config.sizes, 2, gen(1))
    out = model(torch.tensor([1e-6, 0.1]), noise=noise, trace=True)
    assert len(out.trace) == model.config.hyperdepth
    total = torch.zeros(2, dtype=torch.float64)
    for t, layer in enumerate(out.trace):
        q = torch.distributions.Normal(layer.mu_q.double(), layer.sigma_q.double())
        p = torch.distributions.Normal(layer.mu_p.double(), layer.sigma_p.double())
        total += torch.distributions.kl_divergence(q, p).sum(dim=(-1, -2))
        torch.testing.assert_close(layer.z, layer.mu_q + layer.sigma_q * noise.latent[t])
    torch.testing.assert_close(out.kl.double(), total, rtol=1e-4, atol=1e-4)
    assert (out.kl > 0).all()


@given(mu_q=st.floats(-5, 5), mu_p=st.floats(-5, 5), s_q=st.floats(0.01, 10), s_p=st.floats(0.01, 10))
def test_gaussian_kl_is_nonnegative_and_zero_only_at_equality(mu_q, mu_p, s_q, s_p):
    t = lambda v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    kl = gaussian_kl(t(mu_q), t(s_q), t(mu_p), t(s_p)).item()
    expected = math.log(s_p / s_q) + (s_q**2 + (mu_q - mu_p) ** 2) / (2 * s_p**2) - 0.5
    assert kl == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert kl >= 0
    assert gaussian_kl(t(mu_q), t(s_q), t(mu_q), t(s_q)).item() == 0.0


def test_kl_is_zero_when_encoder_and_decoder_sides_agree(model):
    """With the learned variables zeroed, both sides compute the same q = p, so the KL is zero;
    with them present it is not (the check can fail)."""
    twin = build_model(model.config)
    twin.load_state_dict(model.state_dict())
    with torch.no_grad():
        twin.hypernet.learned.zero_()
        noise = twin.hypernet.sample_noise(twin.config.sizes, 3, gen(2))
        betas = torch.tensor([1e-9, 1e-3, 1.0])
        assert torch.allclose(twin(betas, noise=noise).kl, torch.zeros(3), atol=1e-5)
        assert (model(betas, noise=noise).kl > 1e-3).all()


def test_decoder_only_ignores_the_encoder(model):
    """Changing the encoder's learned variables changes nothing decoder-only, and changes encoder generation."""
    other = build_model(model.config)
    other.load_state_dict(model.state_dict())
    with torch.no_grad():
        other.hypernet.learned.normal_(generator=gen(5))
        betas = torch.tensor([1e-9, 1e-2])
        noise = model.hypernet.sample_noise(model.config.sizes, 2, gen(4))
        a = model(betas, noise=noise, decoder_only=True, trace=True)
        b = other(betas, noise=noise, decoder_only=True)
        for wa, wb in zip(a.weights + a.biases, b.weights + b.biases):
            assert torch.equal(wa, wb)
        enc_a, enc_b = model(betas, noise=noise), other(betas, noise=noise)
        assert not torch.allclose(enc_a.weights[0], enc_b.weights[0])
    assert torch.equal(a.kl, torch.zeros(2))
    for t, layer in enumerate(a.trace):  # latents drawn from the decoder side p
        assert layer.mu_q is None and layer.sigma_q is None
        torch.testing.assert_close(layer.z, layer.mu_p + layer.sigma_p * noise.latent[t])


@given(seed=st.integers(0, 50), data=st.data())
def test_hidden_neurons_are_exchangeable_decoder_only(seed, data):
    """With the noise permuted along, permuting hidden neurons permutes the generated weights.
    Without permuting the noise the networks differ (the noise matters: the check can fail)."""
    sizes = (3, 6, 4, 1)
    model = build_model(SMALL)
    graph = ComputationGraph(sizes)
    perms = [None] + [torch.tensor(data.draw(st.permutations(range(n)))) for n in sizes[1:-1]] + [None]
    noise = model.hypernet.sample_noise(sizes, 1, gen(seed))
    permuted_noise = noise.permute_edges(graph.edge_permutation(perms))
    with torch.no_grad():
        base = model(torch.tensor([1e-4]), sizes=sizes, noise=noise, decoder_only=True)
        moved = model(torch.tensor([1e-4]), sizes=sizes, noise=permuted_noise, decoder_only=True)
    full = [torch.arange(n) if p is None else p for n, p in zip(sizes, perms)]
    for l, (w, w_moved) in enumerate(zip(base.weights, moved.weights)):
        torch.testing.assert_close(w_moved[0], w[0][full[l + 1]][:, full[l]], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(moved.biases[l][0], base.biases[l][0][full[l + 1]], rtol=1e-5, atol=1e-6)
    other_noise = model.hypernet.sample_noise(sizes, 1, gen(seed + 1000))
    with torch.no_grad():
        other = model(torch.tensor([1e-4]), sizes=sizes, noise=other_noise, decoder_only=True)
    assert not torch.allclose(other.weights[0], base.weights[0], atol=1e-6)


def test_generation_is_deterministic_per_seed(model):
    a = model.generate(1e-3, seed=7, count=2)
    b = model.generate(1e-3, seed=7, count=2)
    c = model.generate(1e-3, seed=8, count=2)
    for x, y, z in zip(a.weights, b.weights, c.weights):
        assert torch.equal(x, y)
        assert not torch.equal(x, z)
    assert not torch.equal(a.weights[0][0], a.weights[0][1])  # networks of one call get their own noise


@pytest.mark.parametrize("decoder_only", [False, True])
def test_generation_without_gradients_computes_the_same_numbers(model, decoder_only):
    """Without autograd the residual stream is updated in place to save memory; the numbers are bit-identical."""
    betas = torch.tensor([1e-9, 1e-3, 1.0])
    noise = model.hypernet.sample_noise(model.config.sizes, 3, gen(4))
    recorded = model(betas, noise=noise, decoder_only=decoder_only, trace=True)
    with torch.no_grad():
        plain = model(betas, noise=noise, decoder_only=decoder_only, trace=True)
    for a, b in zip(recorded.weights + recorded.biases + [recorded.kl], plain.weights + plain.biases + [plain.kl]):
        assert torch.equal(a.detach(), b)
    assert len(plain.trace) == model.config.hyperdepth
    assert model(betas, noise=noise).trace is None


def test_same_seed_gives_the_same_model():
    a, b, c = build_model(SMALL), build_model(SMALL), build_model(SMALL.replace(seed=4))
    for (name, p), q, r in zip(a.named_parameters(), b.parameters(), c.parameters()):
        assert torch.equal(p, q), name
        if name != "hyperhyper.out_b.bias":  # zero by design: b starts where sigmoid is steepest
            assert not torch.equal(p, r), name


def test_beta_conditions_the_hyperweights(model):
    h = model.hyperhyper(torch.tensor([1e-12, 1e-6, 1.0]))
    assert not torch.allclose(h[0], h[1]) and not torch.allclose(h[1], h[2])


def test_every_parameter_receives_gradient(model):
    """Every entry of every parameter gets a nonzero gradient from the objective, with one structural
    exception in the plain stack: the last hyperlayer reads the previous layer's encoder-only learned
    block into its activation and attention inputs, whose encoder side reaches nothing."""
    c = model.config
    betas = torch.tensor([1e-10, 1e-4, 0.5])
    out = model(betas, generator=gen(0))
    loss = mse_loss(out.weights, out.biases, sample_inputs(64, c.sizes[0], gen(1)))
    pareto_objective(loss, out.kl, betas).mean().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        dead = int((p.grad == 0).sum())
        if c.residual_width == 0 and name.startswith("hyperhyper.out_"):  # one row (or entry) per hyperweight
            hyperweights_dead = c.learned_features * (model.hypernet.in_width - 2 * c.latent_features)
            assert dead == hyperweights_dead * (p.shape[1] if p.dim() == 2 else 1), name
        else:
            assert dead == 0, f"{name}: {dead} entries got no gradient"
    model.zero_grad(set_to_none=True)


def _attention_by_loops(attn_in, sizes, d):
    """The attention of one (batch, side) row written out neuron by neuron: (E, 6d) -> (E, 2d)."""
    edges = [(l, j, i) for l in range(len(sizes) - 1) for j in range(sizes[l + 1]) for i in range(sizes[l])]
    front_msg, behind_msg = attn_in[:, : 3 * d], attn_in[:, 3 * d :]
    expected = torch.zeros(len(edges), 2 * d, dtype=attn_in.dtype)
    for m, n_m in enumerate(sizes):
        for k in range(n_m):
            incident = [(e, "front") for e, (l, j, _) in enumerate(edges) if l == m - 1 and j == k]
            incident += [(e, "behind") for e, (l, _, i) in enumerate(edges) if l == m and i == k]
            msgs = torch.stack([front_msg[e] if side == "front" else behind_msg[e] for e, side in incident])
            q, kk, v = msgs[:, :d], msgs[:, d : 2 * d], msgs[:, 2 * d :]
            result = torch.softmax(q @ kk.T / math.sqrt(d), dim=-1) @ v
            for (e, side), r in zip(incident, result):
                expected[e, :d] = r if side == "front" else expected[e, :d]
                expected[e, d:] = r if side == "behind" else expected[e, d:]
    return expected


@pytest.mark.parametrize("batch, sides, decoder_slice", [(1, 1, False), (2, 2, False), (3, 2, True)])
def test_attention_matches_a_loop_over_neurons(batch, sides, decoder_slice):
    """Each neuron runs one softmax head over the messages of its incident edges; an edge gets back the
    result at its front neuron and at its behind neuron. Every (batch, side) row on its own, also for the
    strided decoder-side slice the last hyperlayer passes."""
    torch.manual_seed(0)
    model = build_model(SMALL)
    sizes, d = (2, 3, 2), SMALL.attention_features
    graph, _ = model.hypernet.graph(sizes)
    attn_in = torch.randn(batch, sides, graph.num_edges, 6 * d, dtype=torch.float64)
    if decoder_slice:
        attn_in = attn_in[:, 1:]
    out = model.hypernet._attention(attn_in, graph)
    assert out.shape == (*attn_in.shape[:3], 2 * d)
    for b in range(attn_in.shape[0]):
        for side in range(attn_in.shape[1]):
            torch.testing.assert_close(out[b, side], _attention_by_loops(attn_in[b, side], sizes, d))


@pytest.mark.parametrize("beta", [float("nan"), float("inf"), 0.0, -1e-3])
def test_invalid_beta_is_rejected(model, beta):
    with pytest.raises(ValueError, match="beta"):
        model(torch.tensor([1e-3, beta]), generator=gen(0))
    with pytest.raises(ValueError, match="beta"):
        model.generate(beta)


def test_noise_of_the_wrong_shape_is_rejected(model):
    noise = model.hypernet.sample_noise((4, 5, 1), 1, gen(0))
    with pytest.raises(ValueError, match="noise"):
        model(torch.tensor([1e-3]), noise=noise)


@given(n=st.integers(1, 12), dim=st.integers(0, 2), seed=st.integers(0, 99))
def test_permute_is_index_select_with_the_inverse_gather_as_gradient(n, dim, seed):
    g = gen(seed)
    shape = [3, 4, 5]
    shape[dim] = n
    x = torch.randn(*shape, dtype=torch.float64, generator=g, requires_grad=True)
    index = torch.randperm(n, generator=g)
    inverse = torch.argsort(index)
    assert torch.equal(permute(x, dim, index, inverse), x.index_select(dim, index))
    assert torch.autograd.gradcheck(permute, (x, dim, index, inverse))
    batched = torch.vmap(lambda row: permute(row, dim, index, inverse))(x.detach().unsqueeze(0).expand(2, *shape))
    assert torch.equal(batched[1], x.detach().index_select(dim, index))
