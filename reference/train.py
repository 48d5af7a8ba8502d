"""Training the Pareto hypernetwork with the objective log(L + beta * KL) (Appendix A.2.2).

Each step draws ``betas_per_step`` betas log-uniformly on [beta_min, beta_max], one batch of fresh
L1 samples shared by those betas, and fresh hypernetwork noise; generates one MLP per beta with the
encoder; and takes one Adam step on the mean over betas of log(L_beta + beta * KL_beta).

All randomness of training after initialisation comes from one ``torch.Generator`` whose state is
saved in every checkpoint, so a resumed run continues exactly as an uninterrupted one (on the same
machine and thread count).

A run folder holds ``config.json``, ``metrics.jsonl`` (one row every ``log_every`` steps) and
``checkpoints/step_XXXXXXXX.safetensors`` (step 0, every ``checkpoint_every`` steps, and the last).
"""

from __future__ import annotations

import json
import math
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from tqdm.auto import tqdm

from .checkpoint import (
    Checkpoint,
    checkpoint_name,
    list_checkpoints,
    load_checkpoint,
    save_checkpoint,
    write_text_atomic,
)
from .compiled import CompiledOrEager
from .config import Config
from .hypernet import HyperNoise
from .pareto import ParetoHypernetwork
from .task import mse_loss, sample_inputs

#: Fields that may differ between a run's config and the config it is resumed with.
RESUMABLE_CHANGES = ("steps", "checkpoint_every", "log_every", "eval_batch_size")
_TRAIN_STREAM = 1_000_003  # offset between the initialisation seed and the training stream's seed


def pareto_objective(loss: Tensor, kl: Tensor, beta: Tensor) -> Tensor:
    """log(L + beta * KL), elementwise over a batch of betas."""
    return torch.log(loss + beta * kl)


def sample_betas(count: int, config: Config, generator: torch.Generator | None = None) -> Tensor:
    """``count`` betas, log-uniform on [beta_min, beta_max]."""
    low, high = math.log(config.beta_min), math.log(config.beta_max)
    return torch.exp(low + (high - low) * torch.rand(count, generator=generator, dtype=torch.float64)).to(
        torch.get_default_dtype()
    )


def learning_rate_at(step: int, config: Config) -> float:
    """Linear warm-up to ``learning_rate``, then cosine decay to ``final_lr_fraction`` of it at ``steps``."""
    peak = config.learning_rate
    if step < config.warmup_steps:
        return peak * (step + 1) / config.warmup_steps
    span = max(config.steps - config.warmup_steps, 1)
    progress = min((step - config.warmup_steps) / span, 1.0)
    floor = config.final_lr_fraction
    return peak * (floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress)))


def step_objective(model: ParetoHypernetwork, betas: Tensor, x: Tensor, noise: HyperNoise) -> tuple[Tensor, Tensor, Tensor]:
    """A training step's objective (mean over betas of log(L + beta * KL)), with each beta's L and KL."""
    generated = model(betas, noise=noise)
    loss = mse_loss(generated.weights, generated.biases, x)
    return pareto_objective(loss, generated.kl, betas).mean(), loss, generated.kl


def build_model(config: Config) -> ParetoHypernetwork:
    """A freshly initialised model; the same ``config.seed`` gives the same parameters."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        return ParetoHypernetwork(config)


@dataclass
class StepResult:
    """One training step's numbers (per beta where a list)."""

    step: int
    objective: float
    lr: float
    beta: list[float]
    loss: list[float]
    kl: list[float]

    def row(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "objective": self.objective,
            "loss_mean": sum(self.loss) / len(self.loss),
            "kl_mean": sum(self.kl) / len(self.kl),
            "lr": self.lr,
            "beta": self.beta,
            "loss": self.loss,
            "kl": self.kl,
        }


class Trainer:
    """Owns a model, its optimiser and its random stream; trains, checkpoints and resumes."""

    def __init__(self, config: Config, run_dir: Path | None = None, compile: bool = False) -> None:
        """``compile`` runs the objective through torch.compile (see :mod:`reference.compiled`): faster
        at few betas per step, equal up to float rounding, with an eager fallback if compiling fails."""
        self.config = config
        self.run_dir = None if run_dir is None else Path(run_dir)
        self.model = build_model(config)
        self.optimizer = torch.optim.Adam(
            self.model.parameters(), lr=config.learning_rate, betas=config.adam_betas
        )
        self.generator = torch.Generator().manual_seed(config.seed + _TRAIN_STREAM)
        self.step_count = 0
        self.objective = CompiledOrEager(step_objective) if compile else step_objective

    # --- construction from disk ---
    @classmethod
    def from_checkpoint(cls, checkpoint: Checkpoint, config: Config | None = None, run_dir: Path | None = None,
                        compile: bool = False) -> Trainer:
        """Continue from ``checkpoint``; ``config`` may change only the fields in RESUMABLE_CHANGES."""
        config = checkpoint.config if config is None else config
        changed = [
            name for name in Config.__dataclass_fields__
            if getattr(config, name) != getattr(checkpoint.config, name) and name not in RESUMABLE_CHANGES
        ]
        if changed:
            raise ValueError(
                f"config does not match the checkpoint's in: {', '.join(changed)} "
                f"(only {', '.join(RESUMABLE_CHANGES)} may change on resume)"
            )
        trainer = cls(config, run_dir, compile)
        try:
            trainer.model.load_state_dict(checkpoint.model_state)
            trainer.optimizer.load_state_dict(checkpoint.optimizer_state)
        except (RuntimeError, KeyError, ValueError) as error:
            raise ValueError(f"checkpoint does not fit the model of its own config: {error}") from None
        trainer.generator.set_state(checkpoint.rng_state)
        trainer.step_count = checkpoint.step
        if checkpoint.compiled != compile:
            warnings.warn(f"resuming a run trained {'with torch.compile' if checkpoint.compiled else 'eagerly'} "
                          f"{'with' if compile else 'without'} --compile: kernels round differently, so the "
                          "continuation will not match an uninterrupted run bit for bit", RuntimeWarning, stacklevel=2)
        return trainer

    @classmethod
    def resume(cls, run_dir: Path, steps: int | None = None, compile: bool = False) -> Trainer:
        """Continue the run in ``run_dir`` from its latest checkpoint, optionally to a new ``steps``."""
        run_dir = Path(run_dir)
        found = list_checkpoints(run_dir / "checkpoints")
        if not found:
            raise FileNotFoundError(f"run folder {str(run_dir)!r} has no checkpoints to resume from")
        checkpoint = load_checkpoint(found[-1][1])
        config = checkpoint.config if steps is None else checkpoint.config.replace(steps=steps)
        trainer = cls.from_checkpoint(checkpoint, config, run_dir, compile)
        trainer._truncate_metrics(checkpoint.step)
        return trainer

    @property
    def compiled(self) -> bool:
        """Whether the steps run through torch.compile (asked for, and compiling has not failed)."""
        return getattr(self.objective, "is_compiled", False)  # the plain objective has no such attribute

    # --- training ---
    def training_step(self) -> StepResult:
        """One optimiser step; returns its numbers."""
        c = self.config
        lr = learning_rate_at(self.step_count, c)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        betas = sample_betas(c.betas_per_step, c, self.generator)
        x = sample_inputs(c.batch_size, c.sizes[0], self.generator)
        noise = self.model.hypernet.sample_noise(c.sizes, c.betas_per_step, self.generator)
        objective, loss, kl = self.objective(self.model, betas, x, noise)
        self.optimizer.zero_grad(set_to_none=True)
        objective.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), c.grad_clip)
        self.optimizer.step()
        self.step_count += 1
        return StepResult(
            step=self.step_count,
            objective=objective.item(),
            lr=lr,
            beta=betas.tolist(),
            loss=loss.detach().tolist(),
            kl=kl.detach().tolist(),
        )

    def train(self, progress: bool = True) -> list[StepResult]:
        """Train to ``config.steps``, logging and checkpointing into the run folder if there is one."""
        c = self.config
        if self.run_dir is not None:
            self._prepare_run_dir()
            if self.step_count == 0:
                self.save()
        results: list[StepResult] = []
        bar = tqdm(total=c.steps, initial=self.step_count, unit="step", disable=not progress, dynamic_ncols=True)
        start, start_step = time.perf_counter(), self.step_count
        while self.step_count < c.steps:
            result = self.training_step()
            results.append(result)
            bar.update(1)
            if self.step_count % c.log_every == 0 or self.step_count == c.steps:
                rate = (self.step_count - start_step) / max(time.perf_counter() - start, 1e-9)
                row = result.row()
                bar.set_postfix(loss=f"{row['loss_mean']:.4f}", kl=f"{row['kl_mean']:.3g}", steps_per_s=f"{rate:.1f}")
                self._append_metrics(row)
            if self.run_dir is not None and (self.step_count % c.checkpoint_every == 0 or self.step_count == c.steps):
                self.save()
        bar.close()
        return results

    # --- files ---
    def save(self) -> Path:
        """Write the checkpoint of the current step into the run folder; returns its path."""
        if self.run_dir is None:
            raise ValueError("this trainer has no run folder to save into")
        path = self.run_dir / "checkpoints" / checkpoint_name(self.step_count)
        save_checkpoint(path, self.config, self.step_count, self.model, self.optimizer, self.generator.get_state(),
                        compiled=self.compiled)
        return path

    def _prepare_run_dir(self) -> None:
        assert self.run_dir is not None
        self.run_dir.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.run_dir / "config.json", self.config.to_json() + "\n")

    def _append_metrics(self, row: dict[str, Any]) -> None:
        if self.run_dir is not None:
            with open(self.run_dir / "metrics.jsonl", "a") as f:
                f.write(json.dumps(row) + "\n")

    def _truncate_metrics(self, step: int) -> None:
        """Drop metric rows written after ``step`` by an interrupted run, so resuming does not repeat them."""
        assert self.run_dir is not None
        path = self.run_dir / "metrics.jsonl"
        if path.exists():
            kept = [line for line in path.read_text().splitlines() if line and json.loads(line)["step"] <= step]
            write_text_atomic(path, "".join(line + "\n" for line in kept))


def new_run(config: Config, run_dir: Path, compile: bool = False) -> Trainer:
    """A trainer for a new run in ``run_dir``, which must not already hold one."""
    run_dir = Path(run_dir)
    if (run_dir / "config.json").exists() or list_checkpoints(run_dir / "checkpoints"):
        raise FileExistsError(f"run folder {str(run_dir)!r} already holds a run; resume it or choose another --out")
    return Trainer(config, run_dir, compile)


def train_or_resume(config: Config, run_dir: Path, progress: bool = False, compile: bool = False) -> None:
    """Bring the run in ``run_dir`` to ``config.steps``: start it, finish it from its latest checkpoint,
    or leave it alone when it is already there (a resumed run must agree with ``config`` otherwise)."""
    done = [step for step, _ in list_checkpoints(Path(run_dir) / "checkpoints")]
    if not done:
        Trainer(config, run_dir, compile).train(progress=progress)
    elif done[-1] < config.steps:
        Trainer.resume(run_dir, steps=config.steps, compile=compile).train(progress=progress)
