"""The conformance tests: one test per clause of SPEC.md, run with ``pytest --pyargs conformance.suite``."""
