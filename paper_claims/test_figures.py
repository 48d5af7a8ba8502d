"""The run's figures (the paper's Figures 2-6), written beside the claims' results. Not a claim: a check
that the figures render from this run's data, so a reader can look at what the numbers say."""

import numpy as np
import pandas as pd
import pytest

from paper_claims.conftest import results_dir
from reference.figures import write_all


@pytest.mark.claim("FIGURES")
def test_figures_render_from_the_run(run, record, request):
    networks = {
        "hyper": ([np.asarray(w) for w in run.example["weights"]], [np.asarray(b) for b in run.example["biases"]]),
        "adam": ([np.asarray(w) for w in run.adam["weights"]], [np.asarray(b) for b in run.adam["biases"]]),
    }
    sizes = pd.DataFrame(run.sizes) if run.sizes else None
    paths = write_all(pd.DataFrame(run.sweep), sizes, networks, results_dir(request.config) / "figures")
    record("Figs. 2-6", f"{len(paths)} figures in {paths[0].parent}", figures=[str(p) for p in paths])
    assert len(paths) == 6 and all(p.stat().st_size > 10_000 for p in paths)
