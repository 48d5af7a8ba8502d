"""Shared test set-up: one torch thread per process, and the hypothesis profiles.

Profiles (select with HYPOTHESIS_PROFILE): ``ci`` (derandomised, so a run is reproducible; no
deadline, since a loaded 2-core CI machine makes timing meaningless), ``dev`` (few examples, fast
edit-test loops), ``thorough`` (many examples, for a long night).
"""

import os

import pytest
import torch
from hypothesis import HealthCheck, settings

from reference.config import Config

torch.set_num_threads(1)

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=25,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, max_examples=10)
settings.register_profile("thorough", deadline=None, max_examples=500,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def tiny():
    """A config small enough for a training step in milliseconds: (3, 5, 1), hyperdepth 2."""
    return Config(sizes=(3, 5, 1), hyperdepth=2, residual_width=16, batch_size=64, betas_per_step=2, steps=6,
                  warmup_steps=2, checkpoint_every=2, log_every=1, seed=11)


@pytest.fixture
def cli_error(capsys):
    """cli_error(argv): run ``python -m reference argv``, expect exit status 2, return what it printed to stderr."""
    from reference.cli import main

    def run(argv):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
        return capsys.readouterr().err

    return run
