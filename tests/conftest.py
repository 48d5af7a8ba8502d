"""Shared test set-up: one torch thread per process, and the hypothesis profiles.

Profiles (select with HYPOTHESIS_PROFILE): ``ci`` (derandomised, so a run is reproducible; no
deadline, since a loaded 2-core CI machine makes timing meaningless), ``dev`` (few examples, fast
edit-test loops), ``thorough`` (many examples, for a long night).
"""

import os

import torch
from hypothesis import HealthCheck, settings

torch.set_num_threads(1)

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=25,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, max_examples=10)
settings.register_profile("thorough", deadline=None, max_examples=500,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
