"""Reference implementation of the KL attentional Pareto hypernetwork of Liao, Liu and Tegmark,
"Hypernetworks are generative models for weights of interpretable networks" (arXiv 2312.03051).

Quick start::

    from reference import Config, Trainer
    trainer = Trainer(Config(steps=500))
    trainer.train()
    nets = trainer.model.generate(beta=1e-3, sizes=(32, 96, 1), decoder_only=True, seed=1)

Modules, in reading order: :mod:`~reference.config` (every number, with its reason),
:mod:`~reference.task` (the L1 task and the target MLP), :mod:`~reference.graph` (the ragged
computation graph), :mod:`~reference.hypernet` (the attentional hypernetwork and its KL channel),
:mod:`~reference.pareto` (the beta-conditioned hyperhypernetwork), :mod:`~reference.train`
(objective, training, resume), :mod:`~reference.checkpoint`, :mod:`~reference.generate`,
:mod:`~reference.cli`. Analysis: :mod:`~reference.order` (Eqs. 5-7), :mod:`~reference.canonical` (exact
strategy networks), :mod:`~reference.classify`, :mod:`~reference.drawing` (App. A.1),
:mod:`~reference.sweep`, :mod:`~reference.sizes`, :mod:`~reference.adam`, :mod:`~reference.figures`;
:mod:`~reference.replicas` trains several seeds in one vectorised step.
"""

from .config import Config
from .graph import ComputationGraph
from .hypernet import Generated, HyperNoise, Hypernetwork, KLTrace
from .pareto import HyperHypernetwork, ParetoHypernetwork
from .train import Trainer, build_model, pareto_objective

__all__ = [
    "ComputationGraph", "Config", "Generated", "HyperHypernetwork", "HyperNoise", "Hypernetwork", "KLTrace",
    "ParetoHypernetwork", "Trainer", "build_model", "pareto_objective",
]
