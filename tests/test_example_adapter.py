"""The NumPy example adapter (``conformance/example.py``) passes the conformance checks on fixed inputs.

The full suite (``pytest conformance/suite --impl conformance.example:adapter``) feeds the checks
hypothesis-generated inputs; here each clause's check runs on a few fixed ones, so a regression in the
example shows up in the ordinary unit tests. Plus its generation shapes and its independence from
``reference/``.
"""

import ast
import inspect

import numpy as np
import pytest

import conformance.example as example
from conformance import checks
from conformance.protocol import ChannelTrace, Network, edge_offsets, load_adapter

adapter = example.adapter
TRAINED = (16, 48, 1)


def _matrix(seed, rows, cols, scale=1.0):
    return np.random.default_rng(seed).standard_normal((rows, cols)) * scale


def _mlp_inputs(sizes, seed):
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal((b, a)) for a, b in zip(sizes[:-1], sizes[1:])]
    biases = [rng.standard_normal(b) for b in sizes[1:]]
    return weights, biases, rng.standard_normal((8, sizes[0]))


# One row per call: (check, arguments after the adapter). Every clause appears at least once.
CALLS = [
    (checks.check_decoder_shapes, ((3, 5, 2), 1e-3, 0)),
    (checks.check_decoder_shapes, ((1, 1), 1.0, 1)),
    (checks.check_decoder_shapes, ((4, 7, 7, 7, 1), 1e-12, 2)),
    (checks.check_encoder_shapes, (1e-6, 3)),
    (checks.check_encoder_rejects_other_sizes, ((3, 5, 2), 1e-3, 0)),
    (checks.check_encoder_rejects_other_sizes, ((16, 48, 2), 1e-3, 0)),
    (checks.check_finite, ((5, 9, 3), 1e-12, 4, True)),
    (checks.check_finite, (TRAINED, 1.0, 5, False)),
    (checks.check_deterministic, ((2, 6, 3), 1e-4, 6, True)),
    (checks.check_deterministic, (TRAINED, 1e-4, 6, False)),
    (checks.check_seeds_differ, ((2, 6, 3), 1e-4, 7, True)),
    (checks.check_seeds_differ, (TRAINED, 1e-4, 7, False)),
    *[(checks.check_generate_rejects_invalid_beta, (beta,)) for beta in checks.INVALID_BETAS],
    (checks.check_beta_conditions, (8, True)),
    (checks.check_beta_conditions, (8, False)),
    (checks.check_objective, (0.3, 1234.5, 1e-3)),
    (checks.check_objective, (1e-6, 0.0, 1e-12)),
    *[(checks.check_objective_rejects_invalid_beta, (beta,)) for beta in checks.INVALID_BETAS],
    (checks.check_kl_nonnegative, (1e-2, 9)),
    (checks.check_kl_accounting, (1e-2, 10)),
    (checks.check_kl_zero_when_q_equals_p, (1e-2, 11)),
    (checks.check_samples_from_q, (1e-2, 12)),
    (checks.check_learned_variables_reach_q, (1e-2, 31, 32)),
    (checks.check_trace_matches_generate, ((3, 4, 2), 1e-2, 33, True)),
    (checks.check_trace_matches_generate, (TRAINED, 1e-2, 33, False)),
    (checks.check_decoder_no_kl, ((3, 4, 2), 1e-2, 13)),
    (checks.check_decoder_samples_from_p, ((6, 10, 1), 1e-2, 14)),
    (checks.check_decoder_ignores_encoder, ((3, 4, 2), 1e-2, 15, 99)),
    (checks.check_decoder_ignores_encoder, (TRAINED, 1e-2, 15, 99)),
    (checks.check_noise_determines_network, ((3, 4, 2), 1e-2, 16)),
    (checks.check_hidden_exchangeability, ((3, 6, 5, 2), 1e-2, 17)),
    (checks.check_hidden_exchangeability, ((16, 48, 1), 1e-9, 18)),
    (checks.check_inputs_are_distinguished, ((3, 6, 5, 2), 1e-2, 34)),
    (checks.check_target, (_matrix(19, 32, 16),)),
    (checks.check_target, (_matrix(20, 32, 1, scale=50.0),)),
    (checks.check_mlp, _mlp_inputs((4, 6, 3, 2), 21)),
    (checks.check_mlp, _mlp_inputs((5, 1), 22)),
    (checks.check_order_parameters, (_matrix(23, 48, 16), _matrix(24, 48, 16))),
    (checks.check_order_parameters, (_matrix(25, 2, 1, scale=1e-3), _matrix(26, 2, 1, scale=1e3))),
    (checks.check_seed_dependence_properties, (_matrix(27, 48, 16), _matrix(28, 48, 16))),
    (checks.check_seed_dependence_properties, (_matrix(29, 1, 1), _matrix(30, 1, 1))),
]


def test_the_sample_covers_every_clause():
    assert {check.clause.id for check, _ in CALLS} == set(checks.CLAUSES)


@pytest.mark.parametrize(("check", "args"), CALLS, ids=[f"{c.clause.id}-{k}" for k, (c, _) in enumerate(CALLS)])
def test_example_passes_check(check, args):
    check(adapter, *args)


def test_loads_as_a_conformance_adapter():
    loaded = load_adapter("conformance.example:adapter")
    assert loaded is adapter
    assert adapter.capabilities == {"trace", "noise", "encoder", "objective", "task", "order_parameters"}
    assert adapter.trained_sizes == TRAINED


@pytest.mark.parametrize("sizes", [(1, 1), (3, 5, 2), (4, 7, 7, 1), (16, 48, 1)])
def test_generation_shapes(sizes):
    edges = edge_offsets(sizes)[-1]
    assert adapter.noise_shapes(sizes) == {"features": (4, edges, 5), "latent": (4, edges, 4)}
    net, traces = adapter.generate_traced(sizes, 1e-3, 0, decoder_only=True)
    assert isinstance(net, Network) and net.kl == 0.0
    assert [w.shape for w in net.weights] == [(b, a) for a, b in zip(sizes[:-1], sizes[1:])]
    assert [b.shape for b in net.biases] == [(b,) for b in sizes[1:]]
    assert all(a.dtype == np.float64 for a in net.weights + net.biases)
    assert len(traces) == example.HYPERDEPTH and all(isinstance(t, ChannelTrace) for t in traces)
    assert all(t.mu_q is None and t.z.shape == t.mu_p.shape == t.sigma_p.shape == (edges, 4) for t in traces)


def test_encoder_generation_shapes_and_trace():
    net, traces = adapter.generate_traced(TRAINED, 1e-3, 0)
    edges = edge_offsets(TRAINED)[-1]
    assert [w.shape for w in net.weights] == [(48, 16), (1, 48)] and [b.shape for b in net.biases] == [(48,), (1,)]
    assert all(t.mu_q.shape == t.sigma_q.shape == (edges, 4) for t in traces)
    assert net.kl > 0  # the learned variables drawn at construction make q differ from p
    assert adapter.generate(TRAINED, 1e-3, 0).kl == net.kl  # generate and generate_traced agree


def test_generate_is_generate_from_noise_with_the_seeds_noise():
    noise = checks.draw_noise(adapter, (3, 4, 2), 5)
    from_noise = adapter.generate_from_noise((3, 4, 2), 0.1, noise, decoder_only=True)
    generated = adapter.generate((3, 4, 2), 0.1, 5, decoder_only=True)
    for a, b in zip(from_noise.weights + from_noise.biases, generated.weights + generated.biases):
        np.testing.assert_array_equal(a, b)


def test_wrong_noise_shape_is_rejected():
    noise = checks.draw_noise(adapter, (3, 4, 2), 0)
    with pytest.raises(ValueError, match="noise"):
        adapter.generate_from_noise((3, 5, 2), 0.1, noise, decoder_only=True)


def test_example_does_not_import_the_reference():
    tree = ast.parse(inspect.getsource(example))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(name.split(".")[0] in ("reference", "torch") for name in imported), imported
