"""The conformance suite (spec, adapter protocol, property tests) for implementations of the paper's
hypernetwork. Its clauses arrive with the conformance issue; until then this package is empty."""
