"""Claim checks: profiles, shared run data, results files, and the closing table.

Options: ``--claims-profile quick|full`` (or $PAPER_CLAIMS_PROFILE; default quick) and the conformance
plugin's ``--impl`` (or $HYPERNET_IMPL; default the reference). Each claim test carries
``@pytest.mark.claim("ID")`` and writes its numbers with the ``record`` fixture to
``RESULTS/<ID>.json``; RESULTS is ``paper_claims/results/<profile>`` (or $PAPER_CLAIMS_RESULTS). The run
ends with one line per claim: outcome and headline numbers.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import torch

from conformance.protocol import DEFAULT_IMPL, ENVIRONMENT_VARIABLE
from paper_claims.harness import PROFILES, RunData, run_data

torch.set_num_threads(1)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--claims-profile", default=None, choices=sorted(PROFILES),
                     help="how much training the claims get (default: $PAPER_CLAIMS_PROFILE or quick)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "claim(id): the paper claim a test checks")


def profile_name(config: pytest.Config) -> str:
    return config.getoption("--claims-profile") or os.environ.get("PAPER_CLAIMS_PROFILE", "quick")


def impl_spec(config: pytest.Config) -> str:
    return config.getoption("--impl", default=None) or os.environ.get(ENVIRONMENT_VARIABLE) or DEFAULT_IMPL


def results_dir(config: pytest.Config) -> Path:
    root = os.environ.get("PAPER_CLAIMS_RESULTS")
    folder = Path(root) if root else Path(__file__).resolve().parent / "results" / profile_name(config)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def profile(request: pytest.FixtureRequest):
    return PROFILES[profile_name(request.config)]


@pytest.fixture(scope="session")
def run(request: pytest.FixtureRequest, profile) -> RunData:
    """The profile's trained run data (trained once per machine and config; see harness.py)."""
    return run_data(profile, impl_spec(request.config))


@pytest.fixture
def record(request: pytest.FixtureRequest):
    """record(paper=..., **numbers): write this claim's evidence and measurements to RESULTS/<ID>.json."""
    marker = request.node.get_closest_marker("claim")
    claim_id = marker.args[0] if marker else request.node.name

    def write(paper: str, headline: str, **numbers: Any) -> None:
        payload = {"claim": claim_id, "test": request.node.nodeid, "profile": profile_name(request.config),
                   "implementation": impl_spec(request.config), "paper": paper, "headline": headline,
                   "measured": numbers}
        path = results_dir(request.config) / f"{claim_id}.json"
        path.write_text(json.dumps(payload, indent=2, default=float) + "\n")

    return write


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or report.outcome != "passed":
        _outcomes[report.nodeid] = ("xfailed" if hasattr(report, "wasxfail") and report.skipped
                                    else "xpassed" if hasattr(report, "wasxfail") else report.outcome)


_outcomes: dict[str, str] = {}


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    folder = results_dir(config)
    records = {}
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text())
        if data.get("test") in _outcomes:
            records[data["claim"]] = data
    if not records:
        return
    terminalreporter.section(f"paper claims ({profile_name(config)} profile); results in {folder}")
    for claim_id, data in records.items():
        outcome = _outcomes.get(data["test"], "?")
        terminalreporter.write_line(f"{claim_id:<28} {outcome:<8} {data['headline']}")
