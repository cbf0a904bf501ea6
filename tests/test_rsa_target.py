"""RSA against precomputed target RDMs (issue 22, item 10).

A region known only by its RDMs (the shipped human IT RDMs) is a target that
cross-validation must split by stimuli on both axes; a plain RDM passed as
responses is read as 92 "voxels" and gives a plausible, meaningless number, so
it draws a warning. Every expected value is computed by a second route:
scipy's ``pdist`` and ``spearmanr``/``pearsonr`` on the RDM entries selected by
hand with ``np.ix_``.
"""

import warnings

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform
from scipy.stats import pearsonr, spearmanr
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold, ShuffleSplit, cross_validate

from skrep import RSA
from skrep.datasets import load_kriegeskorte92
from skrep.exceptions import InvalidParameterError
from skrep.metrics import DataRDMs

RDM_WARNING = "looks like rows of an RDM|square, symmetric and zero on the diagonal"


@pytest.fixture(scope="module")
def problem():
    """40 stimuli: model features X and three subjects' RDMs of noisy copies of them."""
    rng = np.random.default_rng(7)
    X = rng.standard_normal((40, 6))
    rdms = np.stack(
        [
            squareform(pdist(X @ rng.standard_normal((6, 9)) + rng.standard_normal((40, 9))))
            for _ in range(3)
        ]
    )
    return X, rdms


def by_hand(X, rdms, stimuli, correlation=spearmanr):
    """Mean over subjects of the correlation of X's RDM with each subject's, on ``stimuli``."""
    model = pdist(X[stimuli], "correlation")
    return np.mean(
        [correlation(model, squareform(R[np.ix_(stimuli, stimuli)])).statistic for R in rdms]
    )


@pytest.mark.parametrize(
    "cv",
    [KFold(4, shuffle=True, random_state=0), ShuffleSplit(5, test_size=0.3, random_state=1)],
    ids=["kfold", "shuffled-order"],
)
def test_cross_validation_splits_both_axes_of_the_target_rdms(problem, cv):
    X, rdms = problem
    result = cross_validate(RSA(), X, DataRDMs(rdms), cv=cv, return_train_score=True)
    splits = list(cv.split(X))
    expected_test = [by_hand(X, rdms, test) for _, test in splits]
    expected_train = [by_hand(X, rdms, train) for train, _ in splits]
    np.testing.assert_allclose(result["test_score"], expected_test, rtol=0, atol=1e-12)
    np.testing.assert_allclose(result["train_score"], expected_train, rtol=0, atol=1e-12)


def test_grid_search_over_a_target_rdm(problem):
    X, rdms = problem
    cv = KFold(3)
    grid = {"compare_method": ["spearman", "pearson"]}
    search = GridSearchCV(RSA(), grid, cv=cv).fit(X, DataRDMs(rdms))
    pearson = np.mean([by_hand(X, rdms, test, pearsonr) for _, test in cv.split(X)])
    spearman = np.mean([by_hand(X, rdms, test) for _, test in cv.split(X)])
    np.testing.assert_allclose(
        search.cv_results_["mean_test_score"], [spearman, pearson], rtol=0, atol=1e-12
    )


def test_target_rdm_takes_bare_arrays(problem):
    X, rdms = problem
    stimuli = np.arange(len(X))
    one = RSA(target="rdm").fit(X, rdms[0])
    assert one.n_features_y_ == len(X)
    assert one.score(X, rdms[0]) == pytest.approx(by_hand(X, rdms[:1], stimuli), abs=1e-12)
    stack = RSA(target="rdm").fit(X, rdms).score(X, rdms)
    assert stack == pytest.approx(by_hand(X, rdms, stimuli), abs=1e-12)
    # The same as the declared container, and the auto target reads DataRDMs as RDMs too.
    for target in ("rdm", "auto"):
        assert RSA(target=target).fit(X, DataRDMs(rdms)).score(X, DataRDMs(rdms)) == stack


def test_kriegeskorte92_brain_rdm_as_target():
    """The issue's case: features of the 92 images against a human IT RDM."""
    data = load_kriegeskorte92()
    # Category features with noise (binary ones tie, and ties rank by rounding errors).
    noise = np.random.default_rng(0).standard_normal((92, 12))
    features = data.category_vectors + 0.3 * noise
    brain = data.brain_rdms[0]
    with pytest.warns(UserWarning, match=r"Y \(shape \(92, 92\)\) is square, symmetric"):
        RSA().fit(features, brain)
    model = pdist(features, "correlation")
    expected = spearmanr(model, squareform(brain, checks=False)).statistic
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        declared = RSA(target="rdm").fit(features, brain).score(features, brain)
        wrapped = RSA().fit(features, DataRDMs(brain)).score(features, DataRDMs(brain))
    assert declared == pytest.approx(expected, abs=1e-12)
    assert wrapped == pytest.approx(expected, abs=1e-12)


def test_an_rdm_passed_as_responses_warns(problem):
    X, rdms = problem
    with pytest.warns(UserWarning, match=r"square, symmetric and zero on the diagonal") as record:
        RSA().fit(X, rdms[0])
    assert record[0].filename == __file__  # points at the caller, not inside skrep
    assert "DataRDMs" in str(record[0].message) and "target='responses'" in str(record[0].message)
    # A categorical model RDM (many zeros per row) is caught when square, too.
    labels = np.repeat([0, 1, 2, 3], 10)
    category = (labels[:, None] != labels[None, :]).astype(float)
    with pytest.warns(UserWarning, match="square, symmetric"):
        RSA().fit(X, category)
    # Cross-validation hands fit the rows of a plain RDM: caught as rows of one.
    with pytest.warns(UserWarning, match="looks like rows of an RDM"):
        cross_validate(RSA(), X, rdms[0], cv=KFold(4, shuffle=True, random_state=0))


def test_declared_responses_and_ordinary_responses_do_not_warn(problem, rng):
    X, rdms = problem
    relu = np.maximum(rng.standard_normal((40, 60)), 0)  # many zeros in every row
    one_zero_per_row = rng.random((40, 50)) + 0.1
    one_zero_per_row[np.arange(40), rng.permutation(50)[:40]] = 0.0  # not symmetric
    symmetric_responses = rng.random((40, 40))
    symmetric_responses = symmetric_responses + symmetric_responses.T  # nonzero diagonal
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RSA(target="responses").fit(X, rdms[0])
        cross_validate(RSA(target="responses"), X, rdms[0], cv=3)
        for Y in (relu, one_zero_per_row, symmetric_responses, np.zeros((40, 40))):
            RSA().fit(X, Y)


def test_bad_targets_are_named_errors(problem):
    X, rdms = problem
    with pytest.raises(InvalidParameterError, match="'target' parameter of RSA.*'rdms'"):
        RSA(target="rdms").fit(X, rdms[0])
    with pytest.raises(ValueError, match="DataRDMs.*target='responses'"):
        RSA(target="responses").fit(X, DataRDMs(rdms))
    with pytest.raises(ValueError, match=r"target='rdm'.*got shape \(40, 9\)"):
        RSA(target="rdm").fit(X, rdms[0][:, :9])
    with pytest.raises(ValueError, match=r"Cross-validation splits only the rows.*DataRDMs"):
        cross_validate(RSA(target="rdm"), X, rdms[0], cv=3, error_score="raise")
    not_symmetric = r"Y holds square RDMs that are not symmetric.*shape \(1, 40, 40\)"
    with pytest.raises(ValueError, match=not_symmetric):
        RSA(target="rdm").fit(X, rdms[0] + np.triu(np.ones((40, 40)), 1))
    with pytest.raises(ValueError, match="X has 39 rows.*40 stimuli"):
        RSA(target="rdm").fit(X[:39], rdms[0])
    estimator = RSA().fit(X, DataRDMs(rdms))
    with pytest.raises(InvalidParameterError, match="'target' parameter"):
        estimator.set_params(target=None).fit(X, DataRDMs(rdms))
    assert not hasattr(estimator, "n_features_y_")  # a failed fit leaves it unfitted
    assert clone(RSA(target="rdm")).get_params()["target"] == "rdm"


def test_data_rdms_descriptors_follow_the_stimuli():
    R = squareform(pdist(np.random.default_rng(0).standard_normal((5, 2))))
    data = DataRDMs(
        np.stack([R, 2 * R]),
        dissimilarity_measure="euclidean",
        descriptors={"region": "hIT"},
        rdm_descriptors={"subject": ["s1", "s2"]},
        pattern_descriptors={"name": list("abcde"), "size": np.arange(5) * 10},
    )
    subset = data[np.array([4, 0, 2])]
    np.testing.assert_array_equal(subset.rdms[1], 2 * R[np.ix_([4, 0, 2], [4, 0, 2])])
    assert subset.pattern_descriptors["name"] == ["e", "a", "c"]
    np.testing.assert_array_equal(subset.pattern_descriptors["size"], [40, 0, 20])
    assert subset.rdm_descriptors == {"subject": ["s1", "s2"]}
    assert (subset.dissimilarity_measure, subset.descriptors) == ("euclidean", {"region": "hIT"})
    assert data.pattern_descriptors["name"] == list("abcde")  # the original is unchanged
    with pytest.raises(ValueError, match=r"pattern_descriptors\['name'\].*per stimulus \(5\).*4"):
        DataRDMs(R, pattern_descriptors={"name": list("abcd")})
    with pytest.raises(ValueError, match=r"rdm_descriptors\['subject'\].*per RDM \(1\).*str"):
        DataRDMs(R, rdm_descriptors={"subject": "s1"})
    with pytest.raises(TypeError, match="descriptors must be a dict"):
        DataRDMs(R, descriptors=["hIT"])
    with pytest.raises(TypeError, match="dissimilarity_measure must be a string"):
        DataRDMs(R, dissimilarity_measure=1)
