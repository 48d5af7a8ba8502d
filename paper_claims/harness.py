"""Shared training for the claim checks: profiles, the on-disk cache, and the evaluation of trained models.

Every training-based claim reads one :class:`RunData` per profile: a sweep table (one row per seed,
checkpoint step and beta), a size-generalisation grid, and an example network. It is built once per
profile and implementation by :func:`run_data`, under a file lock, into a cache folder keyed by a hash of
everything that determines it (the profile, the implementation and the source code of the packages that
compute it); pytest-xdist workers that need it at the same time wait for the first.

Everything goes through the conformance adapter protocol (``generate`` and the ``train`` capability),
so ``pytest paper_claims --impl package.module:object`` checks another implementation's science too.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock

from conformance.checks import numpy_mlp
from conformance.protocol import load_adapter
from reference.adam import AdamConfig, train_adam
from reference.classify import classify, coordinates
from reference.order import seed_dependence
from paper_claims.structure import dedicated_inputs
from reference.sweep import COLUMNS, PAPER_BETAS, read_table, write_table

CACHE_ENV = "PAPER_CLAIMS_CACHE"
FORMAT = 1  # bump when the cached data's meaning changes


@dataclass(frozen=True)
class Profile:
    """How much training the claims get. Every field is part of the cache key."""

    name: str
    seeds: tuple[int, ...]
    steps: int
    checkpoint_every: int
    betas: tuple[float, ...] = PAPER_BETAS
    eval_samples: int = 4096
    size_inputs: tuple[int, ...] = (4, 8, 12, 16, 24, 32, 48, 64)
    size_hidden: tuple[int, ...] = (12, 24, 36, 48, 72, 96, 144, 192)
    size_beta: float = 1e-3
    size_generations: int = 4
    adam_steps: int = 10_000
    workers: int = 2
    reasons: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


PROFILES = {
    "quick": Profile(
        name="quick", seeds=(0, 1), steps=10_000, checkpoint_every=500, workers=2,
        reasons={
            "seeds": "2: one per core of a CI machine",
            "steps": "10,000: every seed measured left the convexity plateau for the pudding by step 10,000 "
                     "(seeds 0-2: steps ~6,000-10,000), ~4 min per seed on one core",
            "checkpoint_every": "500: 21 checkpoints resolve when the convexity phase starts and ends",
        },
    ),
    "full": Profile(
        name="full", seeds=tuple(range(33)), steps=12_000, checkpoint_every=1000, workers=max(os.cpu_count() or 1, 1),
        reasons={"seeds": "33, as in the paper", "steps": "12,000 (the paper does not say how long it trained): "
                 "every seed measured had left convexity by 10,000, and 33 seeds then fit in ~1.5 h on 2 cores",
                 "betas": "the paper's 30"},
    ),
}


@dataclass
class RunData:
    """What the training-based claims read."""

    profile: Profile
    folder: Path
    sweep: list[dict[str, Any]]
    sizes: list[dict[str, Any]]
    example: dict[str, Any]
    adam: dict[str, Any]
    structure: list[dict[str, Any]]

    def final_step(self) -> int:
        return max(r["step"] for r in self.sweep)


def cache_root() -> Path:
    return Path(os.environ.get(CACHE_ENV, Path(__file__).resolve().parent.parent / ".claims_cache"))


def cache_key(profile: Profile, impl_spec: str) -> str:
    fields = dataclasses.asdict(profile)
    fields.pop("reasons")
    fields.pop("workers")  # parallelism does not change the numbers
    text = json.dumps({"format": FORMAT, "impl": impl_spec, "profile": fields,
                       "source": source_fingerprint(impl_spec)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def source_fingerprint(impl_spec: str) -> str:
    """A hash of the Python sources that compute the cached data: the implementation's top-level package,
    the reference (the harness's Adam baseline and classifier), the conformance package (the adapter
    protocol), and this harness; not the claim tests, whose thresholds read the data. A code change that
    moves a float therefore builds afresh instead of serving the old code's numbers."""
    here = Path(__file__).resolve().parent
    files = [here / "harness.py", here / "structure.py"]
    for name in sorted({impl_spec.split(":", 1)[0].split(".", 1)[0], "reference", "conformance"}):
        spec = importlib.util.find_spec(name)
        if spec is None:
            continue
        for root in spec.submodule_search_locations or []:
            files += sorted(Path(root).rglob("*.py"))
        if not spec.submodule_search_locations and spec.origin:  # a single-module implementation
            files.append(Path(spec.origin))
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def run_data(profile: Profile, impl_spec: str, progress: Any = None) -> RunData:
    """Load the cached run data of ``profile``, building it first if no process has (safe under xdist)."""
    folder = cache_root() / f"{profile.name}-{cache_key(profile, impl_spec)}"
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder) + ".lock"):
        if not (folder / "done.json").is_file():
            _build(profile, impl_spec, folder)
    return RunData(
        profile=profile, folder=folder, sweep=read_table(folder / "sweep.csv"),
        sizes=json.loads((folder / "sizes.json").read_text()), example=json.loads((folder / "example.json").read_text()),
        adam=json.loads((folder / "adam.json").read_text()),
        structure=json.loads((folder / "structure.json").read_text()),
    )


def _build(profile: Profile, impl_spec: str, folder: Path) -> None:
    jobs = [(impl_spec, profile, seed, str(folder / f"seed_{seed:03d}")) for seed in profile.seeds]
    if profile.workers > 1:
        with ProcessPoolExecutor(max_workers=profile.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            per_seed = list(pool.map(_train_and_evaluate, jobs))
    else:
        per_seed = [_train_and_evaluate(job) for job in jobs]
    rows = [row for rows, _, _ in per_seed for row in rows]
    write_table(folder / "sweep.csv", [{k: row[k] for k in COLUMNS} for row in rows])
    (folder / "structure.json").write_text(json.dumps(
        [{k: row[k] for k in ("seed", "step", "beta", "strategy", "coverage", "sign_agreement")} for row in rows]))
    _, sizes, example = per_seed[0]
    (folder / "sizes.json").write_text(json.dumps(sizes))
    (folder / "example.json").write_text(json.dumps(example))
    adam = train_adam(AdamConfig(steps=profile.adam_steps, seed=0))
    (folder / "adam.json").write_text(json.dumps({
        "steps": profile.adam_steps, "final_training_loss": adam.losses[-1],
        "weights": [w.tolist() for w in adam.weights], "biases": [b.tolist() for b in adam.biases]}))
    (folder / "done.json").write_text(json.dumps({"impl": impl_spec, "profile": dataclasses.asdict(profile)}, indent=2))


def _train_and_evaluate(job: tuple[str, Profile, int, str]) -> tuple[list[dict], list[dict], dict]:
    impl_spec, profile, seed, out = job
    import torch

    torch.set_num_threads(1)
    impl = load_adapter(impl_spec)
    checkpoints = impl.train(profile.steps, seed, out, profile.checkpoint_every)
    rows = []
    for step, model in checkpoints:
        for row in evaluate(model, profile.betas, profile.eval_samples):
            rows.append({"seed": seed, "step": step, **row})
    final = checkpoints[-1][1]
    sizes = size_grid(final, profile) if seed == profile.seeds[0] else []
    net = final.generate(tuple(final.trained_sizes), 1e-6, 1)
    example = {"beta": 1e-6, "step": checkpoints[-1][0], "weights": [w.tolist() for w in net.weights],
               "biases": [b.tolist() for b in net.biases]}
    return rows, sizes, example


def l1_loss(weights: list[np.ndarray], biases: list[np.ndarray], samples: int, seed: int) -> float:
    """Mean squared error against the standardised L1 target on fresh N(0, I) inputs (NumPy, float64)."""
    n = weights[0].shape[1]
    x = np.random.default_rng(seed).standard_normal((samples, n))
    target = (np.abs(x).sum(1) - n * np.sqrt(2 / np.pi)) / np.sqrt(n * (1 - 2 / np.pi))
    return float(np.mean((numpy_mlp(weights, biases, x)[:, 0] - target) ** 2))


def evaluate(model: Any, betas: tuple[float, ...], eval_samples: int) -> list[dict[str, Any]]:
    """The sweep's columns for one trained model, plus the structure measures, through the adapter protocol."""
    sizes = tuple(model.trained_sizes)
    rows = []
    for beta in betas:
        net = model.generate(sizes, beta, 1)
        again = model.generate(sizes, beta, 2)
        decoder = model.generate(sizes, beta, 1, decoder_only=True)
        loss = l1_loss(net.weights, net.biases, eval_samples, 1)
        c = coordinates(net.weights[0])
        rows.append({
            "beta": beta, "loss": loss, "kl": net.kl,
            "decoder_loss": l1_loss(decoder.weights, decoder.biases, eval_samples, 1),
            "alpha_1": c.alpha_1, "alpha_2": c.alpha_2, "alpha_3": seed_dependence(net.weights[0], again.weights[0]),
            "rho": c.rho, "balance": c.balance, "strategy": classify(net.weights[0], loss=loss).value,
            **dict(zip(("coverage", "sign_agreement"), dedicated_inputs(net.weights[0]))),
        })
    return rows


def size_grid(model: Any, profile: Profile) -> list[dict[str, Any]]:
    """Decoder-only loss over (input_dim, hidden_dim), mean and std over ``size_generations`` seeds."""
    rows = []
    for n_in in profile.size_inputs:
        for n_hidden in profile.size_hidden:
            losses = [l1_loss(*_wb(model.generate((n_in, n_hidden, 1), profile.size_beta, g, decoder_only=True)),
                              profile.eval_samples, g) for g in range(profile.size_generations)]
            rows.append({"input_dim": n_in, "hidden_dim": n_hidden, "loss": float(np.mean(losses)),
                         "loss_std": float(np.std(losses)), "beta": profile.size_beta})
    return rows


def _wb(net: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
    return net.weights, net.biases
