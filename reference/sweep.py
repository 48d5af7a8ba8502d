"""The sweep behind the paper's figures: train seeds, evaluate every checkpoint along a beta grid.

For each seed a run is trained (or resumed) in ``OUT/seed_XXX/``; then every checkpoint is evaluated at
every beta of the grid: the encoder generation's loss on fresh data and its KL, the order parameters and
classifier coordinates of its first layer (alpha_3 against a second generation with another seed), its
strategy, and the loss of a decoder-only generation. One tidy table results, one row per
(seed, step, beta), with the columns of :data:`COLUMNS`, in ``OUT/sweep.csv``; ``OUT/sweep.json`` holds
the training and sweep configs.

Seeds run in parallel processes (``workers``), one torch thread each.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from .checkpoint import list_checkpoints, load_checkpoint, write_text_atomic
from .classify import classify, coordinates
from .config import Config, validate_beta
from .order import seed_dependence
from .pareto import ParetoHypernetwork
from .task import mse_loss, sample_inputs
from .train import build_model, train_or_resume

COLUMNS = ("seed", "step", "beta", "loss", "kl", "decoder_loss", "alpha_1", "alpha_2", "alpha_3", "rho", "balance",
           "strategy")

PAPER_BETAS = tuple(10.0 ** (-12 + 12 * k / 29) for k in range(30))
"""The paper's grid: 30 values log-spaced from 1e-12 to 1 (Fig. 2 caption)."""


@dataclass(frozen=True)
class SweepConfig:
    """What to sweep, besides the training config."""

    seeds: tuple[int, ...] = field(default=tuple(range(33)), metadata={"why": "paper: 33 replicates"})
    betas: tuple[float, ...] = field(default=PAPER_BETAS, metadata={"why": "paper: 30 log-spaced betas, 1e-12 to 1"})
    eval_samples: int = field(
        default=4096, metadata={"why": "chosen: fresh L1 samples per evaluation; the loss's std error is ~2-3%"}
    )
    generation_seeds: tuple[int, int] = field(
        default=(1, 2), metadata={"why": "chosen: noise seeds of the two generations alpha_3 compares"}
    )
    workers: int = field(default=1, metadata={"why": "processes training seeds at once (one torch thread each)"})
    compile: bool = field(
        default=False, metadata={"why": "torch.compile the training objective: faster at few betas per step, equal to "
                                        "eager up to float rounding (reference.compiled)"}
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "seeds", tuple(self.seeds))
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))
        object.__setattr__(self, "generation_seeds", tuple(self.generation_seeds))
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds must be distinct and at least one, got {self.seeds!r}")
        if not self.betas:
            raise ValueError("betas must hold at least one value")
        for beta in self.betas:
            validate_beta(beta, "betas")
        if len(self.generation_seeds) != 2 or self.generation_seeds[0] == self.generation_seeds[1]:
            raise ValueError(f"generation_seeds must be two different seeds, got {self.generation_seeds!r}")
        for name in ("eval_samples", "workers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")


@torch.no_grad()
def evaluate_model(model: ParetoHypernetwork, betas: Sequence[float], eval_samples: int,
                   generation_seeds: tuple[int, int] = (1, 2)) -> list[dict[str, Any]]:
    """One row per beta: loss, KL, decoder-only loss, order parameters and strategy (no seed/step columns)."""
    beta = torch.tensor(list(betas), dtype=torch.get_default_dtype())
    first, second = (torch.Generator().manual_seed(s) for s in generation_seeds)
    encoder = model(beta, generator=first)
    again = model(beta, generator=second)
    decoder = model(beta, decoder_only=True, generator=torch.Generator().manual_seed(generation_seeds[0]))
    x = sample_inputs(eval_samples, model.config.sizes[0], torch.Generator().manual_seed(generation_seeds[0]))
    loss = mse_loss(encoder.weights, encoder.biases, x)
    decoder_loss = mse_loss(decoder.weights, decoder.biases, x)
    rows = []
    for k, b in enumerate(betas):
        w0 = encoder.weights[0][k]
        c = coordinates(w0)
        rows.append({
            "beta": float(b),
            "loss": loss[k].item(),
            "kl": encoder.kl[k].item(),
            "decoder_loss": decoder_loss[k].item(),
            "alpha_1": c.alpha_1,
            "alpha_2": c.alpha_2,
            "alpha_3": seed_dependence(w0, again.weights[0][k]),
            "rho": c.rho,
            "balance": c.balance,
            "strategy": classify(w0, loss=loss[k].item()).value,
        })
    return rows


def evaluate_run(run_dir: Path, sweep: SweepConfig, seed: int) -> list[dict[str, Any]]:
    """Rows for every checkpoint of the run in ``run_dir``."""
    rows = []
    for step, path in list_checkpoints(Path(run_dir) / "checkpoints"):
        checkpoint = load_checkpoint(path)
        model = build_model(checkpoint.config)
        model.load_state_dict(checkpoint.model_state)
        for row in evaluate_model(model, sweep.betas, sweep.eval_samples, sweep.generation_seeds):
            rows.append({"seed": seed, "step": step, **row})
    return rows


def train_and_evaluate(config: Config, sweep: SweepConfig, seed: int, out: Path, progress: bool = False) -> Path:
    """Train (or finish) seed ``seed`` in ``out/seed_XXX`` and write its ``evaluation.csv``; returns that path."""
    run_dir = Path(out) / f"seed_{seed:03d}"
    train_or_resume(config.replace(seed=seed), run_dir, progress=progress, compile=sweep.compile)
    table = run_dir / "evaluation.csv"
    write_table(table, evaluate_run(run_dir, sweep, seed))
    return table


def _worker(args: tuple[str, dict[str, Any], int, str]) -> str:
    config_json, sweep_fields, seed, out = args
    torch.set_num_threads(1)
    sweep = SweepConfig(**sweep_fields)
    return str(train_and_evaluate(Config.from_json(config_json), sweep, seed, Path(out)))


def run_sweep(config: Config, sweep: SweepConfig, out: Path, progress: bool = True) -> Path:
    """Train and evaluate every seed (``sweep.workers`` at a time); write and return ``out/sweep.csv``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "sweep.json", json.dumps(
        {"config": json.loads(config.to_json()), "sweep": dataclasses.asdict(sweep)}, indent=2) + "\n")
    jobs = [(config.to_json(), dataclasses.asdict(sweep), seed, str(out)) for seed in sweep.seeds]
    bar = tqdm(total=len(jobs), unit="seed", desc="sweep", disable=not progress)
    if sweep.workers == 1:
        for job in jobs:
            train_and_evaluate(Config.from_json(job[0]), sweep, job[2], out, progress=progress)
            bar.update(1)
    else:
        context = multiprocessing.get_context("spawn")  # no forked torch thread pools
        with ProcessPoolExecutor(max_workers=sweep.workers, mp_context=context) as pool:
            for _ in pool.map(_worker, jobs):
                bar.update(1)
    bar.close()
    rows = []
    for seed in sweep.seeds:
        rows.extend(read_table(out / f"seed_{seed:03d}" / "evaluation.csv"))
    table = out / "sweep.csv"
    write_table(table, rows)
    return table


def write_table(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write rows with the sweep's columns as CSV, atomically."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(Path(path), buffer.getvalue())


def read_table(path: Path) -> list[dict[str, Any]]:
    """Read a table written by :func:`write_table`, with numbers parsed (inf included)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"sweep table {str(path)!r} does not exist; run the sweep first")
    ints, texts = {"seed", "step"}, {"strategy"}
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        missing = set(COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"sweep table {str(path)!r} lacks columns: {', '.join(sorted(missing))}")
        return [
            {k: int(v) if k in ints else v if k in texts else float(v) for k, v in row.items() if k in COLUMNS}
            for row in reader
        ]

