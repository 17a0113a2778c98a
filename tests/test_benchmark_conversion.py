"""scripts/benchmark_conversion.py's statistics."""

from __future__ import annotations

import numpy as np
from benchmark_conversion import wilson_interval


def test_the_interval_is_wilsons():
    """The interval printed next to each accuracy. Reference values: Wilson's score interval at
    95% (statsmodels' proportion_confint(method="wilson") gives the same)."""
    np.testing.assert_allclose(wilson_interval(588, 600), (0.96537, 0.98852), atol=1e-5)
    np.testing.assert_allclose(wilson_interval(0, 10), (0.0, 0.27754), atol=1e-5)
    np.testing.assert_allclose(wilson_interval(10, 10), (0.72246, 1.0), atol=1e-5)
    assert wilson_interval(0, 0) == (0.0, 1.0)
