"""RelativeRepresentation (``skrep.preprocessing``): cosine similarities to anchors.

Reference values come from scikit-learn's cosine similarity and from an
invariance (a rotated and scaled copy maps to the same relative coordinates).
"""

import numpy as np
import pytest
from conftest import random_orthogonal
from sklearn.linear_model import RidgeCV
from sklearn.metrics.pairwise import cosine_similarity
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline

from skrep import RelativeRepresentation

torch = pytest.importorskip("torch")


def test_relative_representation_is_cosine_similarity(rng):
    X, anchors = rng.standard_normal((30, 7)), rng.standard_normal((4, 7))
    given = RelativeRepresentation(anchors=anchors).fit(X)
    np.testing.assert_allclose(given.transform(X), cosine_similarity(X, anchors), atol=1e-14)
    assert given.anchor_indices_ is None
    every = RelativeRepresentation().fit(X)
    np.testing.assert_allclose(every.transform(X[:5]), cosine_similarity(X[:5], X), atol=1e-14)
    drawn = RelativeRepresentation(anchors=6, random_state=0).fit(X)
    assert drawn.transform(X).shape == (30, 6)
    np.testing.assert_array_equal(
        drawn.anchor_indices_, RelativeRepresentation(6, random_state=0).fit(X).anchor_indices_
    )
    np.testing.assert_allclose(
        drawn.transform(X), cosine_similarity(X, X[drawn.anchor_indices_]), atol=1e-14
    )
    assert list(drawn.get_feature_names_out()[:2]) == [
        "relativerepresentation0",
        "relativerepresentation1",
    ]


def test_relative_representation_is_invariant_to_rotation_and_scale(rng):
    # The point of relative representations: two "networks" that differ by a
    # rotation and a scale map to the same relative coordinates.
    X = rng.standard_normal((50, 8))
    Y = 4.0 * X @ random_orthogonal(rng, 8)
    relative = RelativeRepresentation(anchors=10, random_state=1)
    np.testing.assert_allclose(relative.fit_transform(X), relative.fit_transform(Y), atol=1e-12)


def test_relative_representation_in_a_pipeline(rng):
    X = rng.standard_normal((120, 20))
    y = X @ rng.standard_normal(20)
    pipeline = make_pipeline(RelativeRepresentation(anchors=40, random_state=0), RidgeCV())
    scores = cross_validate(pipeline, X, y, cv=3)["test_score"]
    assert scores.shape == (3,) and np.all(np.isfinite(scores))


def test_relative_representation_zero_rows_and_torch(rng):
    X = rng.standard_normal((10, 4))
    X[2] = 0.0
    out = RelativeRepresentation(anchors=X[:5] + 1.0).fit(X).transform(X)
    np.testing.assert_array_equal(out[2], 0.0)
    tX = torch.from_numpy(X)
    tout = RelativeRepresentation(anchors=X[:5] + 1.0).fit(tX).transform(tX)
    assert torch.is_tensor(tout)
    np.testing.assert_allclose(tout.numpy(), out, atol=1e-14)


@pytest.mark.parametrize(
    "anchors, match",
    [(11, "between 1 and"), (np.ones((2, 3)), "features"), ("abc", "anchors")],
)
def test_relative_representation_bad_anchors(rng, anchors, match):
    with pytest.raises(ValueError, match=match):
        RelativeRepresentation(anchors=anchors).fit(rng.standard_normal((10, 4)))


def test_relative_representation_keeps_its_own_anchors(rng):
    X, anchors = rng.standard_normal((10, 4)), rng.standard_normal((3, 4))
    every = RelativeRepresentation().fit(X)
    given = RelativeRepresentation(anchors=anchors).fit(X)
    before = every.transform(X), given.transform(X)
    X_copy = X.copy()
    X[:] = 0.0
    anchors[:] = 0.0
    np.testing.assert_array_equal(every.transform(X_copy), before[0])
    np.testing.assert_array_equal(given.transform(X_copy), before[1])
