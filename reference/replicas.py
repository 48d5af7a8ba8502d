"""Several seeds trained in one process, vectorised: the batch axis holds (seed, beta) pairs.

:class:`ReplicaTrainer` does what one :class:`~reference.train.Trainer` per seed would do, with the same
initialisation, the same random streams drawn in the same order, Adam applied elementwise and gradients
clipped per seed, but in one forward and backward pass: the hyperhypernetworks run under ``torch.vmap``
over stacked parameters, and the hypernetwork, whose hyperweights are already per row, reads each row's
own encoder variables. The results equal separate runs up to float rounding (batched matrix products
sum in another order). :meth:`ReplicaTrainer.trainers` unstacks the replicas into ordinary trainers,
for checkpoints in the usual format.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.func import functional_call, stack_module_state

from .config import Config
from .hypernet import HyperNoise
from .task import mse_loss, sample_inputs
from .train import _TRAIN_STREAM, StepResult, Trainer, build_model, learning_rate_at, pareto_objective, sample_betas


class ReplicaTrainer:
    """Train ``config`` once per seed in ``seeds``, all in one vectorised step."""

    def __init__(self, config: Config, seeds: Sequence[int]) -> None:
        seeds = tuple(seeds)
        if not seeds or len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds must be distinct and at least one, got {seeds!r}")
        self.config, self.seeds = config, seeds
        models = [build_model(config.replace(seed=s)) for s in seeds]
        self.template = models[0]
        stacked, _ = stack_module_state(models)
        self.params = {name: nn.Parameter(value) for name, value in stacked.items()}
        self.optimizer = torch.optim.Adam(self.params.values(), lr=config.learning_rate, betas=config.adam_betas)
        self.generators = [torch.Generator().manual_seed(s + _TRAIN_STREAM) for s in seeds]
        self.step_count = 0
        hyperhyper_names = [n for n in self.params if n.startswith("hyperhyper.")]
        self._hyperhyper = {n[len("hyperhyper."):]: n for n in hyperhyper_names}

    def _hyperweights(self, betas: Tensor) -> Tensor:
        """(seeds, betas_per_step) betas -> (seeds * betas_per_step, num_hyperweights)."""
        params = {short: self.params[full] for short, full in self._hyperhyper.items()}
        run = lambda p, b: functional_call(self.template.hyperhyper, p, (b,))  # noqa: E731
        return torch.vmap(run)(params, betas).flatten(0, 1)

    def training_step(self) -> list[StepResult]:
        """One step of every replica; one result per seed, in the order of ``seeds``."""
        c, k = self.config, self.config.betas_per_step
        lr = learning_rate_at(self.step_count, c)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        draws = []
        for generator in self.generators:  # the draws, in the order Trainer.training_step makes them
            betas = sample_betas(k, c, generator)
            x = sample_inputs(c.batch_size, c.sizes[0], generator)
            draws.append((betas, x, self.template.hypernet.sample_noise(c.sizes, k, generator)))
        betas = torch.stack([d[0] for d in draws])
        x = torch.stack([d[1] for d in draws]).repeat_interleave(k, dim=0)
        noise = HyperNoise(torch.cat([d[2].features for d in draws], dim=1), torch.cat([d[2].latent for d in draws], dim=1))
        learned = self.params["hypernet.learned"].repeat_interleave(k, dim=0)
        generated = self.template.hypernet(self._hyperweights(betas), c.sizes, noise, learned=learned)
        loss = mse_loss(generated.weights, generated.biases, x)
        objectives = pareto_objective(loss, generated.kl, betas.flatten()).view(len(self.seeds), k).mean(dim=1)
        self.optimizer.zero_grad(set_to_none=True)
        objectives.sum().backward()  # the replicas share no parameter, so each gets its own gradient
        self._clip_per_seed(c.grad_clip)
        self.optimizer.step()
        self.step_count += 1
        loss, kl = loss.detach().view(len(self.seeds), k), generated.kl.detach().view(len(self.seeds), k)
        return [StepResult(self.step_count, objectives[s].item(), lr, betas[s].tolist(), loss[s].tolist(), kl[s].tolist())
                for s in range(len(self.seeds))]

    def _clip_per_seed(self, max_norm: float) -> None:
        """clip_grad_norm_ for each replica separately, as its own Trainer would."""
        grads = [p.grad for p in self.params.values() if p.grad is not None]
        norms = torch.stack([g.flatten(1).square().sum(1) for g in grads]).sum(0).sqrt()
        scale = (max_norm / (norms + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(scale.view(-1, *([1] * (g.dim() - 1))))

    def trainers(self) -> list[Trainer]:
        """One ordinary Trainer per seed, holding that replica's parameters, Adam state and random stream."""
        result = []
        state = self.optimizer.state_dict()
        names = list(self.params)
        for index, (seed, generator) in enumerate(zip(self.seeds, self.generators)):
            trainer = Trainer(self.config.replace(seed=seed))
            with torch.no_grad():
                trainer.model.load_state_dict({n: self.params[n][index].detach().clone() for n in names})
            own = trainer.optimizer.state_dict()
            own_names = [n for n, _ in trainer.model.named_parameters()]
            for position, name in enumerate(own_names):
                stacked = state["state"].get(names.index(name))
                if stacked is not None:
                    own["state"][position] = {
                        key: value.clone() if key == "step" else value[index].clone() for key, value in stacked.items()
                    }
            trainer.optimizer.load_state_dict(own)
            trainer.generator.set_state(generator.get_state())
            trainer.step_count = self.step_count
            result.append(trainer)
        return result
