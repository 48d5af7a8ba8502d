"""The sweep, size generalisation and the Adam baseline (reference/sweep.py, sizes.py, adam.py)."""

import math

import pytest
import torch

from reference.adam import AdamConfig, train_adam
from reference.classify import Strategy
from reference.sizes import size_generalisation
from reference.sweep import COLUMNS, PAPER_BETAS, SweepConfig, evaluate_model, read_table, run_sweep, write_table
from reference.train import build_model


def test_paper_grid():
    assert len(PAPER_BETAS) == 30
    assert PAPER_BETAS[0] == pytest.approx(1e-12) and PAPER_BETAS[-1] == pytest.approx(1.0)
    ratios = [b / a for a, b in zip(PAPER_BETAS, PAPER_BETAS[1:])]
    assert max(ratios) == pytest.approx(min(ratios))


def test_evaluation_rows(tiny):
    model = build_model(tiny)
    rows = evaluate_model(model, [1e-9, 1e-3, 1.0], eval_samples=256)
    assert [r["beta"] for r in rows] == [1e-9, 1e-3, 1.0]
    for r in rows:
        assert set(r) == set(COLUMNS) - {"seed", "step"}
        assert 0 <= r["alpha_3"] <= 2 and r["kl"] > 0 and r["loss"] > 0 and r["decoder_loss"] > 0
        assert Strategy(r["strategy"])


def test_sweep_table_covers_every_seed_step_and_beta_and_is_reused(tiny, tmp_path):
    sweep = SweepConfig(seeds=(3, 4), betas=(1e-6, 1.0), eval_samples=128)
    table = run_sweep(tiny.replace(steps=4), sweep, tmp_path, progress=False)
    rows = read_table(table)
    keys = {(r["seed"], r["step"], r["beta"]) for r in rows}
    assert keys == {(s, t, b) for s in (3, 4) for t in (0, 2, 4) for b in (1e-6, 1.0)} and len(rows) == 12
    checkpoint = tmp_path / "seed_003" / "checkpoints" / "step_00000004.safetensors"
    stamp = checkpoint.stat().st_mtime_ns
    assert read_table(run_sweep(tiny.replace(steps=4), sweep, tmp_path, progress=False)) == rows
    assert checkpoint.stat().st_mtime_ns == stamp  # trained once, reused


def test_parallel_workers_give_the_same_table(tiny, tmp_path):
    config = tiny.replace(steps=2)
    serial = read_table(run_sweep(config, SweepConfig(seeds=(0, 1), betas=(1e-3,), eval_samples=64), tmp_path / "a",
                                  progress=False))
    parallel = read_table(run_sweep(config, SweepConfig(seeds=(0, 1), betas=(1e-3,), eval_samples=64, workers=2),
                                    tmp_path / "b", progress=False))
    assert serial == parallel


@pytest.mark.parametrize("fields, message", [
    ({"seeds": ()}, "seeds"), ({"seeds": (1, 1)}, "seeds"), ({"betas": ()}, "betas"),
    ({"betas": (1e-3, float("nan"))}, "betas"), ({"betas": (0.0,)}, "betas"), ({"workers": 0}, "workers"),
    ({"eval_samples": 0}, "eval_samples"), ({"generation_seeds": (1, 1)}, "generation_seeds"),
])
def test_bad_sweep_configs(fields, message):
    with pytest.raises(ValueError, match=message):
        SweepConfig(**fields)


def test_table_round_trip_keeps_infinities(tmp_path):
    row = {"seed": 0, "step": 5, "beta": 1e-12, "loss": 0.1, "kl": 2.0, "decoder_loss": 0.2, "alpha_1": math.inf,
           "alpha_2": 3.0, "alpha_3": 1.0, "rho": math.inf, "balance": 0.9, "strategy": "double-sided"}
    write_table(tmp_path / "t.csv", [row])
    assert read_table(tmp_path / "t.csv") == [row]


def test_missing_or_malformed_tables_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="run the sweep"):
        read_table(tmp_path / "nope.csv")
    (tmp_path / "bad.csv").write_text("seed,step\n1,2\n")
    with pytest.raises(ValueError, match="lacks columns"):
        read_table(tmp_path / "bad.csv")


def test_size_generalisation_grid(tiny):
    model = build_model(tiny)
    rows = size_generalisation(model, 1e-3, [2, 5], [3, 7], generations=2, eval_samples=64)
    assert [(r["input_dim"], r["hidden_dim"]) for r in rows] == [(2, 3), (2, 7), (5, 3), (5, 7)]
    assert all(math.isfinite(r["loss"]) and r["loss_std"] >= 0 for r in rows)
    with pytest.raises(ValueError, match="input_dims"):
        size_generalisation(model, 1e-3, [0], [3])
    with pytest.raises(ValueError, match="beta"):
        size_generalisation(model, -1.0, [2], [3])


def test_adam_baseline_learns_and_is_deterministic():
    config = AdamConfig(sizes=(4, 12, 1), steps=300, seed=2)
    result = train_adam(config)
    assert [tuple(w.shape) for w in result.weights] == [(12, 4), (1, 12)]
    assert sum(result.losses[-30:]) / 30 < 0.5 * sum(result.losses[:30]) / 30
    again = train_adam(config)
    assert all(torch.equal(a, b) for a, b in zip(result.weights, again.weights))
    with pytest.raises(ValueError, match="steps"):
        AdamConfig(steps=0)
