"""Shared fixtures: reference data and random representations."""

import os

# scikit-learn's array API estimator checks need scipy's array API mode, which
# scipy reads when it is first imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# Property tests draw the same examples on every run (CI must not fail at
# random); `pytest --hypothesis-profile=explore` searches new examples.
settings.register_profile("default", derandomize=True, deadline=None, max_examples=40)
settings.register_profile("explore", deadline=None, max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

DATA_DIR = Path(__file__).parent / "data"


def load_reference(folder, name):
    """Load ``tests/data/<folder>/<name>.npz`` (no pickles)."""
    with np.load(DATA_DIR / folder / f"{name}.npz", allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


@pytest.fixture(scope="module")
def dataset_a():
    """Dataset A (400 x 64 and 400 x 48) and the values of the public implementations."""
    inputs = load_reference("similarity", "inputs_A")
    values = load_reference("similarity", "values_A")
    reference = dict(zip(values["keys"].tolist(), values["vals"].tolist(), strict=True))
    return inputs["X"], inputs["Y"], reference


@pytest.fixture
def rng():
    return np.random.default_rng(20261122)


@pytest.fixture(scope="module")
def dask_client():
    """A client of a local dask cluster: 2 worker processes of 1 thread each (skipped without
    distributed). Use it with ``joblib.parallel_config("dask")``."""
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def random_orthogonal(rng, n):
    """Haar-random orthogonal matrix."""
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    return Q * np.sign(np.diag(R))


def exact_latent(rng, n, scales):
    """Centred, orthogonal columns with norms ``scales``: an exactly known covariance."""
    A = rng.standard_normal((n, len(scales)))
    return np.linalg.qr(A - A.mean(axis=0))[0] * scales


def layers_of(rng, n=40, widths=(5, 8, 3, 12)):
    """Layers of one network: noisy nonlinear maps of a shared 6-D latent."""
    base = rng.standard_normal((n, 6))
    return [
        np.tanh(base @ rng.standard_normal((6, w))) + 0.2 * rng.standard_normal((n, w))
        for w in widths
    ]
