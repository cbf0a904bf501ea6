"""Every public name of 0.1 still works; renamed ones work with a FutureWarning for one release."""

import importlib
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import skrep
from skrep import pairwise_distances
from skrep.exceptions import InvalidParameterError
from skrep.functional.centering import center_and_scale, centered_features
from skrep.functional.network_blocks import prepare_centered_network

#: The __all__ of every module of skrep 0.1 (commit 1850d9a), read from that tree.
PUBLIC_NAMES_0_1 = json.loads(
    (Path(__file__).parent / "data" / "public_names_0.1.json").read_text()
)


@pytest.mark.parametrize(
    "module_name",
    sorted(m for m in PUBLIC_NAMES_0_1 if not any(p.startswith("_") for p in m.split("."))),
)
def test_every_public_name_of_0_1_is_still_importable(module_name):
    module = importlib.import_module(module_name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        missing = [name for name in PUBLIC_NAMES_0_1[module_name] if not hasattr(module, name)]
    assert not missing, f"{module_name} lost {missing}"


def test_old_spellings_of_center_warn_and_give_the_new_functions(rng):
    X = rng.standard_normal((10, 3))
    for module, old, new in (
        ("skrep.functional.centering", "centre_and_scale", center_and_scale),
        ("skrep.functional.centering", "centred_features", centered_features),
        ("skrep.functional.network_blocks", "prepare_centred_network", prepare_centered_network),
        ("skrep.functional.batched", "prepare_centred_network", prepare_centered_network),
    ):
        with pytest.warns(FutureWarning, match=f"{old} was renamed {new.__name__}"):
            assert getattr(importlib.import_module(module), old) is new
    with pytest.raises(AttributeError, match="has no attribute 'centre_of_mass'"):
        importlib.import_module("skrep.functional.centering").centre_of_mass  # noqa: B018
    np.testing.assert_allclose(centered_features(X), X - X.mean(0))


@pytest.mark.parametrize(
    ("make_old", "make_new"),
    [
        (lambda: skrep.RSA(comparison="pearson"), lambda: skrep.RSA(compare_method="pearson")),
        (
            lambda: skrep.EncodingRSA(comparison="spearman", cv=3),
            lambda: skrep.EncodingRSA(compare_method="spearman", cv=3),
        ),
        (lambda: skrep.CCAEstimator(statistic="r2"), lambda: skrep.CCAEstimator(method="r2")),
    ],
)
def test_renamed_estimator_parameters_warn_and_keep_their_meaning(rng, make_old, make_new):
    X = rng.standard_normal((30, 6))
    Y = X @ rng.standard_normal((6, 5)) + rng.standard_normal((30, 5))
    with pytest.warns(FutureWarning, match="was renamed"):
        old = make_old().fit(X, Y).score(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        new = make_new().fit(X, Y).score(X, Y)
    assert old == pytest.approx(new, abs=1e-14)


def test_old_and_new_names_together_are_an_error(rng):
    X = rng.standard_normal((20, 4))
    with (
        pytest.warns(FutureWarning),
        pytest.raises(TypeError, match="got both 'comparison' and its new name"),
    ):
        skrep.RSA(compare_method="pearson", comparison="cosine").fit(X, X)
    with pytest.raises(InvalidParameterError, match="'compare_method' parameter of RSA"):
        with pytest.warns(FutureWarning):
            skrep.RSA(comparison="dcor").fit(X, X)


def test_n_jobs_by_position_warns(rng):
    Xs = [rng.standard_normal((15, 3)) for _ in range(3)]
    with pytest.warns(FutureWarning, match="keyword"):
        D, _ = pairwise_distances(skrep.LinearMetric(), Xs, None, 1)
    np.testing.assert_array_equal(D, pairwise_distances(skrep.LinearMetric(), Xs)[0])
