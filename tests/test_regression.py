"""Linear predictivity: ``skrep.functional.regression`` (linear_regression_r2).

Every number comes from the naive least-squares R^2 in ``similarity_reference.py``
or from a closed form (a target inside the predictors' span is explained fully).
The reference value of RegressionR2Estimator (``skrep.metrics.regression``) is
checked with every other measure's in ``test_similarity.py``.
"""

import numpy as np
import pytest
import similarity_reference as naive

from skrep.functional import linear_regression_r2


def test_linear_regression_r2(rng):
    X = rng.standard_normal((60, 5))
    Y = X[:, :3] @ rng.standard_normal((3, 4)) + rng.standard_normal((60, 4))
    assert linear_regression_r2(X, Y) == pytest.approx(naive.regression_r2(X, Y), abs=1e-12)
    assert linear_regression_r2(Y, X) == pytest.approx(naive.regression_r2(Y, X), abs=1e-12)
    assert linear_regression_r2(
        X, np.hstack([X @ rng.standard_normal((5, 5)), Y])
    ) == pytest.approx(1.0)
