"""The conformance suite rejects every mutant of ``tests/mutants.py`` by a named clause, and passes the reference.

* each mutant's expected clauses raise ``ClauseFailure`` with that clause id on the fixed inputs;
* the reference (the default adapter, the small one the mutants are built on, and the paper-sized one)
  passes every check on the same inputs, so no rejection is spurious;
* ``rejecting_clauses`` of every mutant includes its expected clauses (``test_summary_table`` prints the
  whole table with ``-s``; ``python -m tests.mutants`` prints it too);
* the bugs of ``UNCAUGHT`` (gaps of the suite) are still rejected by no clause;
* one end-to-end run of the real pytest suite against a mutant fails, naming the clause.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest

import mutants
from conformance.checks import CLAUSES, ClauseFailure
from conformance.protocol import check_adapter
from conformance.reference_adapter import ReferenceAdapter
from conformance.reference_adapter import adapter as default_adapter

REPO = Path(__file__).resolve().parents[1]


@functools.cache
def cached_verdicts(name: str) -> dict[str, tuple[str, str]]:
    catalogue = mutants.MUTANTS if name in mutants.MUTANTS else mutants.UNCAUGHT
    return mutants.verdicts(catalogue[name])


# --- the catalogue ---

def test_catalogue_has_at_least_15_distinct_mutants_naming_known_clauses():
    catalogue = mutants.MUTANTS
    assert len(catalogue) >= 15
    assert len({m.name for m in catalogue.values()}) == len(catalogue)
    assert len({m.build for m in catalogue.values()}) == len(catalogue)
    assert len({m.bug for m in catalogue.values()}) == len(catalogue)
    for m in catalogue.values():
        assert m.clauses, f"{m.name} names no clause"
        unknown = set(m.clauses) - set(CLAUSES)
        assert not unknown, f"{m.name} names unknown clauses {sorted(unknown)}"
        assert m.bug.strip() and "\n" not in m.bug, f"{m.name} needs a one-line description"
    assert not set(catalogue) & set(mutants.UNCAUGHT)


def test_every_clause_is_exercised_by_some_mutant():
    named = {c for m in mutants.MUTANTS.values() for c in m.clauses}
    assert named == set(CLAUSES), f"no mutant for {sorted(set(CLAUSES) - named)}"


@pytest.mark.parametrize("name", list(mutants.MUTANTS))
def test_mutant_is_a_valid_adapter_with_the_capabilities_its_clauses_need(name):
    m = mutants.MUTANTS[name]
    adapter = m()
    check_adapter(adapter, name)
    assert adapter.name == f"mutant {name}"
    for clause_id in m.clauses:
        needed = CLAUSES[clause_id].requires
        assert needed is None or needed in adapter.capabilities


# --- (1) each mutant is rejected by its expected clauses ---

@pytest.mark.parametrize("name", list(mutants.MUTANTS))
def test_mutant_is_rejected_by_its_expected_clauses(name):
    m = mutants.MUTANTS[name]
    adapter = m()
    cases = mutants.fixed_cases(adapter)
    for clause_id in m.clauses:
        check = mutants.CHECKS[clause_id]
        failures = []
        for args in cases[clause_id]:
            try:
                check(adapter, *args)
            except ClauseFailure as failure:
                failures.append(failure)
                break
        assert failures, f"{name}: no check of {clause_id} failed on {len(cases[clause_id])} fixed inputs"
        assert failures[0].clause == clause_id, f"{name}: {clause_id}'s check raised {failures[0]}"
        assert str(failures[0]).startswith(f"[{clause_id}]")


# --- (2) the reference passes every check on the same inputs ---

REFERENCES = {
    "default": lambda: default_adapter,
    "small": mutants.small_reference,
    "paper-sizes": lambda: ReferenceAdapter(mutants.small_model(mutants.PAPER_SIZES_CONFIG)),
}


@pytest.mark.parametrize("which", list(REFERENCES))
def test_reference_passes_every_check(which):
    adapter = REFERENCES[which]()
    assert mutants.applicable(adapter) == list(CLAUSES), "the reference declares every capability"
    verdicts = mutants.verdicts(adapter)
    bad = {c: v for c, v in verdicts.items() if v[0] != "passed"}
    assert not bad, f"reference ({which}) is not clean: {bad}"
    assert mutants.rejecting_clauses(adapter) == []


def test_every_clause_has_fixed_cases_and_a_check():
    cases = mutants.fixed_cases(mutants.small_reference())
    assert set(cases) == set(CLAUSES) == set(mutants.CHECKS)
    assert all(cases[c] for c in CLAUSES)
    assert all(mutants.CHECKS[c].clause.id == c for c in CLAUSES)


# --- (3) rejecting_clauses: the expected clauses are among them ---

@pytest.mark.parametrize("name", list(mutants.MUTANTS))
def test_rejecting_clauses_include_the_expected(name):
    m = mutants.MUTANTS[name]
    rejected = [c for c, (v, _) in cached_verdicts(name).items() if v == "rejected"]
    assert set(m.clauses) <= set(rejected), f"{name}: expected {m.clauses}, rejected by {rejected}"


def test_rejecting_clauses_function():
    assert mutants.rejecting_clauses(mutants.kl_reversed) == ["KL-2"]
    assert mutants.rejecting_clauses(mutants.small_reference()) == []


def test_summary_table():
    text = mutants.table(verdicts_of=lambda m: cached_verdicts(m.name))
    print("\n" + text)
    lines = text.splitlines()
    assert len(lines) == 1 + len(mutants.MUTANTS)
    for m in mutants.MUTANTS.values():
        assert any(line.startswith(m.name + " ") for line in lines)


@pytest.mark.parametrize("name", list(mutants.UNCAUGHT))
def test_gaps_are_still_uncaught(name):
    """Documents the suite's blind spots. If this fails, a clause now rejects the bug: move it into MUTANTS."""
    found = cached_verdicts(name)
    assert all(v == "passed" for v, _ in found.values()), (
        f"{name} is now rejected: {[c for c, (v, _) in found.items() if v != 'passed']}; move it into MUTANTS")


# --- end to end: the real pytest suite against one mutant ---

def test_pytest_suite_rejects_a_mutant_by_name(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTEST_ADDOPTS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD", "HYPERNET_IMPL")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    env["OMP_NUM_THREADS"] = "1"
    command = [sys.executable, "-m", "pytest", str(REPO / "conformance" / "suite"),
               "--impl", "tests.mutants:kl_reversed", "-p", "no:cacheprovider",
               "--conformance-profile", "dev", "-x", "-q"]
    # run from tmp_path so hypothesis keeps its example database out of the repository
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, output
    assert "[KL-2] reported KL" in output, output
    assert "conformance of 'mutant kl_reversed'" in output, output
    verdict_lines = [line.split() for line in output.splitlines() if line.startswith(("KL-1 ", "KL-2 "))]
    assert ["KL-1", "passed"] in [line[:2] for line in verdict_lines], output
    assert ["KL-2", "failed"] in [line[:2] for line in verdict_lines], output
