"""The conformance plugin's machinery: --impl selection, the per-clause verdict, JSON, known failures,
skipping missing capabilities, and failing a run in which nothing executed."""

import json
import textwrap

import pytest

from conformance.protocol import check_adapter, load_adapter

pytest_plugins = ["pytester"]

TOY = textwrap.dedent('''
    import numpy as np
    from conformance.protocol import Network

    class Toy:
        """Zero networks, no capabilities: passes the shape clauses, fails DET-2 and BETA-2."""
        name = "toy"
        capabilities = frozenset()
        trained_sizes = (4, 6, 1)

        def generate(self, sizes, beta, seed, decoder_only=False):
            if not (np.isfinite(beta) and beta > 0):
                raise ValueError("beta")
            if not decoder_only and tuple(sizes) != self.trained_sizes:
                raise ValueError("sizes")
            return Network([np.zeros((b, a)) for a, b in zip(sizes[:-1], sizes[1:])],
                           [np.zeros(b) for b in sizes[1:]], 0.0)

    adapter = Toy()
''')


@pytest.fixture
def toy(pytester):
    pytester.makepyfile(toy_impl=TOY)
    pytester.syspathinsert()
    return pytester


def run_suite(pytester, *args):
    return pytester.runpytest_subprocess("--pyargs", "conformance.suite", "-p", "no:cacheprovider",
                                         "--conformance-profile", "dev", *args)


def test_verdict_table_and_json_for_a_partial_implementation(toy):
    result = run_suite(toy, "--impl", "toy_impl:adapter", "--conformance-json", "verdict.json",
                       "-k", "shapes or seed or beta_conditions or objective")
    assert result.ret == 1  # DET-2 and BETA-2 fail
    result.stdout.fnmatch_lines(["*conformance of 'toy'*", "SHAPE-1 *passed*", "DET-2 *failed*",
                                 "BETA-3 *skipped*", "clauses:*"])
    verdict = json.loads((toy.path / "verdict.json").read_text())
    assert verdict["implementation"] == "toy"
    assert verdict["clauses"]["DET-2"]["verdict"] == "failed" and verdict["clauses"]["DET-2"]["failed_tests"]
    assert verdict["clauses"]["BETA-3"]["verdict"] == "skipped"
    assert "[DET-2]" in result.stdout.str()  # the failure message names the clause


def test_a_run_where_every_clause_is_skipped_fails(toy):
    result = run_suite(toy, "--impl", "toy_impl:adapter", "-k", "objective")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*no test executed*"])


def test_known_failures_turn_failures_into_xfails(toy):
    (toy.path / "known.txt").write_text("# toy generator ignores its seed\n"
                                        "test_generation.py::test_different_seeds_differ  # ignores the seed\n"
                                        "test_generation.py::test_beta_conditions  # ignores beta\n")
    result = run_suite(toy, "--impl", "toy_impl:adapter", "--known-failures", "known.txt", "-k", "seeds_differ or beta_cond")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["DET-2 *xfailed*", "BETA-2 *xfailed*"])


def test_environment_variable_selects_the_implementation(toy, monkeypatch):
    monkeypatch.setenv("HYPERNET_IMPL", "toy_impl:adapter")
    result = run_suite(toy, "-k", "encoder_shapes")
    result.stdout.fnmatch_lines(["*conformance of 'toy'*"])


def test_bad_impl_is_a_usage_error(toy):
    result = run_suite(toy, "--impl", "no_such_module:adapter", "-k", "encoder_shapes")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "cannot import" in result.stderr.str() + result.stdout.str()


def test_load_adapter_validates():
    assert load_adapter().name == "reference"
    with pytest.raises(ValueError, match="package.module:object"):
        load_adapter("no-colon")
    with pytest.raises(ValueError, match="no attribute"):
        load_adapter("conformance.protocol:nothing_here")

    class Partial:
        name, capabilities = "p", frozenset({"teleport"})

    with pytest.raises(ValueError, match="lacks trained_sizes, generate"):
        check_adapter(Partial())
    Partial.trained_sizes, Partial.generate = (2, 1), lambda self: None
    with pytest.raises(ValueError, match="unknown capabilities"):
        check_adapter(Partial())
