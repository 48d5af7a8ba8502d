"""Vectorised replicas (reference/replicas.py): the same training as one Trainer per seed."""

import pytest
import torch

from reference.replicas import ReplicaTrainer
from reference.train import Trainer


def test_replicas_train_like_separate_runs(tiny):
    """Five steps of two replicas match two separate trainers: the same objectives (to float rounding)
    and parameters within 1e-5 (measured ~1e-6: batched products sum in another order)."""
    replicas = ReplicaTrainer(tiny, (4, 9))
    singles = [Trainer(tiny.replace(seed=s)) for s in (4, 9)]
    for _ in range(5):
        together = replicas.training_step()
        apart = [t.training_step() for t in singles]
        for a, b in zip(together, apart):
            assert a.beta == b.beta
            assert a.objective == pytest.approx(b.objective, rel=1e-5, abs=1e-6)
    for unstacked, single in zip(replicas.trainers(), singles):
        assert unstacked.step_count == single.step_count == 5
        assert torch.equal(unstacked.generator.get_state(), single.generator.get_state())
        for a, b in zip(unstacked.model.parameters(), single.model.parameters()):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
        after_a, after_b = unstacked.training_step(), single.training_step()  # Adam state came along
        assert after_a.objective == pytest.approx(after_b.objective, rel=1e-4, abs=1e-5)


def test_gradients_are_clipped_per_replica(tiny):
    """A tight clip binds each replica by its own gradient norm, as separate trainers would."""
    config = tiny.replace(grad_clip=1e-3)
    replicas = ReplicaTrainer(config, (1, 2))
    singles = [Trainer(config.replace(seed=s)) for s in (1, 2)]
    replicas.training_step()
    for t in singles:
        t.training_step()
    for unstacked, single in zip(replicas.trainers(), singles):
        for a, b in zip(unstacked.model.parameters(), single.model.parameters()):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_bad_seed_lists(tiny):
    with pytest.raises(ValueError, match="seeds"):
        ReplicaTrainer(tiny, ())
    with pytest.raises(ValueError, match="seeds"):
        ReplicaTrainer(tiny, (1, 1))
