"""The pytest plugin of the conformance suite (registered as the ``pytest11`` entry point ``conformance``).

Options:
  --impl package.module:object   the implementation under test (else $HYPERNET_IMPL, else the reference)
  --conformance-json PATH        write the per-clause verdict as JSON
  --known-failures PATH          lines "node-id-prefix  # reason": matching tests are expected to fail (xfail)
  --conformance-profile NAME     hypothesis profile: ci (default; derandomised, no deadline), dev, thorough

Every test of the suite carries ``@pytest.mark.clause("ID")``. A test whose clause needs a capability the
adapter does not declare is skipped ("capability missing"). At the end the plugin prints one line per
clause (passed / failed / skipped / xfailed) and fails the run if no conformance test executed.
It does nothing in sessions that collect no conformance tests.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from .checks import CLAUSES
from .protocol import ENVIRONMENT_VARIABLE, load_adapter

settings.register_profile("conformance-ci", derandomize=True, deadline=None, max_examples=12,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("conformance-dev", deadline=None, max_examples=4,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("conformance-thorough", deadline=None, max_examples=200,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "hypernetwork conformance suite")
    group.addoption("--impl", default=None, help=f"implementation under test, package.module:object "
                    f"(default: ${ENVIRONMENT_VARIABLE}, else the reference)")
    group.addoption("--conformance-json", default=None, help="write the per-clause verdict to this JSON file")
    group.addoption("--known-failures", default=None, help="file of node-id prefixes expected to fail, with reasons")
    group.addoption("--conformance-profile", default="ci", choices=("ci", "dev", "thorough"),
                    help="hypothesis profile for the suite")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "clause(id): the SPEC.md clause a conformance test checks")
    config._conformance = _Verdicts(config)  # type: ignore[attr-defined]
    config.pluginmanager.register(config._conformance, "conformance-verdicts")


@pytest.fixture(scope="session")
def impl(request: pytest.FixtureRequest) -> Any:
    """The adapter of the implementation under test."""
    return _adapter(request.config)


def _adapter(config: pytest.Config) -> Any:
    verdicts = config._conformance  # type: ignore[attr-defined]
    if verdicts.adapter is None:
        verdicts.adapter = load_adapter(config.getoption("--impl"))
    return verdicts.adapter


def read_known_failures(path: str) -> list[tuple[str, str]]:
    """(prefix, reason) per non-empty, non-comment line of ``path``."""
    entries = []
    for line in Path(path).read_text().splitlines():
        prefix, _, reason = line.partition("#")
        if prefix.strip():
            entries.append((prefix.strip(), reason.strip() or "listed in the known-failures file"))
    return entries


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    clause_items = [item for item in items if item.get_closest_marker("clause")]
    if not clause_items:
        return
    try:
        adapter = _adapter(config)
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None
    known = read_known_failures(config.getoption("--known-failures")) if config.getoption("--known-failures") else []
    for item in clause_items:
        clause_id = item.get_closest_marker("clause").args[0]
        if clause_id not in CLAUSES:
            raise pytest.UsageError(f"{item.nodeid}: unknown clause {clause_id!r}")
        needed = CLAUSES[clause_id].requires
        if needed and needed not in adapter.capabilities:
            item.add_marker(pytest.mark.skip(reason=f"capability missing: {needed}"))
        for prefix, reason in known:
            if _matches(item.nodeid, prefix):
                item.add_marker(pytest.mark.xfail(reason=f"known failure: {reason}", strict=False))


def _matches(nodeid: str, prefix: str) -> bool:
    """Does ``prefix`` start the node id, or the node id with some leading folders dropped?"""
    starts = [0] + [k + 1 for k, char in enumerate(nodeid.split("::", 1)[0]) if char == "/"]
    return any(nodeid[k:].startswith(prefix) for k in starts)


class _Verdicts:
    """Outcomes per clause, gathered from test reports (on the xdist controller too: reports travel there)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.adapter: Any = None
        self.outcomes: dict[str, Counter] = defaultdict(Counter)
        self.failed_tests: dict[str, list[str]] = defaultdict(list)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: Any):
        outcome = yield
        marker = item.get_closest_marker("clause")
        if marker is not None:
            outcome.get_result().user_properties.append(("clause", marker.args[0]))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        clause_id = dict(report.user_properties).get("clause")
        if clause_id is None or not (report.when == "call" or (report.when == "setup" and report.outcome != "passed")):
            return
        if hasattr(report, "wasxfail"):
            kind = "xfailed" if report.outcome == "skipped" else "xpassed"
        else:
            kind = report.outcome
        self.outcomes[clause_id][kind] += 1
        if report.outcome == "failed":
            self.failed_tests[clause_id].append(report.nodeid)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.outcomes:
            return
        terminalreporter.section(f"conformance of {self.name()!r}: one line per clause")
        for clause_id in sorted(self.outcomes, key=_clause_order):
            counts = self.outcomes[clause_id]
            detail = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
            terminalreporter.write_line(
                f"{clause_id:<9} {_verdict(counts):<8} {CLAUSES[clause_id].title}  ({detail})")
        totals = Counter(_verdict(c) for c in self.outcomes.values())
        terminalreporter.write_line("clauses: " + ", ".join(f"{n} {k}" for k, n in sorted(totals.items())))
        if self.executed() == 0:
            terminalreporter.write_line("conformance: no test executed (every clause skipped): the run fails")

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if hasattr(self.config, "workerinput") or not self.outcomes:  # xdist workers leave it to the controller
            return
        path = self.config.getoption("--conformance-json")
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(json.dumps(self.report(), indent=2) + "\n")
        if self.executed() == 0 and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def name(self) -> str:
        try:
            return _adapter(self.config).name
        except ValueError:
            return "?"

    def executed(self) -> int:
        return sum(c["passed"] + c["failed"] + c["xpassed"] + c["xfailed"] for c in self.outcomes.values())

    def report(self) -> dict[str, Any]:
        adapter = _adapter(self.config)
        return {
            "implementation": adapter.name,
            "capabilities": sorted(adapter.capabilities),
            "clauses": {
                clause_id: {"verdict": _verdict(counts), "title": CLAUSES[clause_id].title,
                            "requires": CLAUSES[clause_id].requires, "counts": dict(counts),
                            "failed_tests": self.failed_tests.get(clause_id, [])}
                for clause_id, counts in sorted(self.outcomes.items(), key=lambda kv: _clause_order(kv[0]))
            },
        }


def _verdict(counts: Counter) -> str:
    if counts["failed"]:
        return "failed"
    if counts["passed"] or counts["xpassed"]:
        return "passed"
    if counts["xfailed"]:
        return "xfailed"
    return "skipped"


def _clause_order(clause_id: str) -> tuple[int, str]:
    order = list(CLAUSES)
    return (order.index(clause_id) if clause_id in order else len(order), clause_id)
