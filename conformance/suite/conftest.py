"""Loads the suite's hypothesis profile before the test modules beside it are imported (``@given`` reads
the settings when it decorates)."""

import pytest
from hypothesis import settings


def pytest_configure(config: pytest.Config) -> None:
    settings.load_profile("conformance-" + config.getoption("--conformance-profile"))
