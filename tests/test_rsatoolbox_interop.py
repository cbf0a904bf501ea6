"""RDMs to and from rsatoolbox (issue 22, item 7).

The round trips keep the dissimilarities and every descriptor; rsatoolbox's
own computations (``calc_rdm``, ``compare``, ``subset_pattern``) on the
converted objects give skrep's numbers, and scipy's ``squareform`` checks the
order of the condensed entries. The tests need rsatoolbox (the ``test`` extra
installs it) and are skipped without it, except the message that asks for it.
"""

import doctest
import sys

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform
from sklearn.model_selection import KFold, cross_validate

import skrep.rdm
from skrep import RSA
from skrep.datasets import load_kriegeskorte92
from skrep.metrics import DataRDMs
from skrep.rdm import compare_rdms, compute_rdm, from_rsatoolbox, to_rsatoolbox


@pytest.fixture(scope="module")
def rsatoolbox():
    return pytest.importorskip("rsatoolbox")


@pytest.fixture(scope="module")
def data():
    return load_kriegeskorte92()


def assert_same_descriptors(a, b):
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(np.asarray(a[key]), np.asarray(b[key]), err_msg=key)


def test_round_trip_from_skrep(rsatoolbox, data):
    names = [str(n) for n in data.brain_names]
    original = DataRDMs(
        data.brain_rdms,
        dissimilarity_measure="correlation",
        descriptors={"region": "hIT", "study": "Kriegeskorte 2008"},
        rdm_descriptors={"session": names, "number": np.arange(8)},
        pattern_descriptors={"animate": data.category_vectors[:, 0].tolist()},
    )
    converted = to_rsatoolbox(original)
    assert isinstance(converted, rsatoolbox.rdm.RDMs)
    assert (converted.n_rdm, converted.n_cond) == (8, 92)
    assert converted.dissimilarity_measure == "correlation"
    np.testing.assert_array_equal(converted.get_vectors()[3], squareform(data.brain_rdms[3]))
    np.testing.assert_array_equal(converted.get_matrices(), data.brain_rdms)
    assert converted.rdm_descriptors["session"] == names
    assert converted.rdm_descriptors["index"] == list(range(8))  # rsatoolbox's own
    back = from_rsatoolbox(converted)
    np.testing.assert_array_equal(back.rdms, original.rdms)
    assert back.dissimilarity_measure == original.dissimilarity_measure
    assert back.descriptors == original.descriptors
    assert_same_descriptors(back.rdm_descriptors, original.rdm_descriptors)
    assert_same_descriptors(back.pattern_descriptors, original.pattern_descriptors)
    assert original.rdm_descriptors.keys() == {"session", "number"}  # not changed by rsatoolbox


def test_round_trip_from_rsatoolbox(rsatoolbox):
    rng = np.random.default_rng(3)
    original = rsatoolbox.rdm.RDMs(
        rng.random((3, 10)),  # 3 RDMs of 5 patterns
        dissimilarity_measure="crossnobis",
        descriptors={"roi": "V1"},
        rdm_descriptors={"subject": ["a", "b", "c"]},
        pattern_descriptors={"stimulus": list("vwxyz"), "index": [10, 11, 12, 13, 14]},
    )
    data = from_rsatoolbox(original)
    np.testing.assert_array_equal(data.condensed(), original.dissimilarities)
    np.testing.assert_array_equal(data.rdms[1], squareform(original.dissimilarities[1]))
    assert data.rdm_descriptors == {"subject": ["a", "b", "c"]}  # the default index dropped
    assert data.pattern_descriptors["index"] == [10, 11, 12, 13, 14]  # a real one kept
    back = to_rsatoolbox(data)
    assert back == original  # rsatoolbox's equality: dissimilarities and all descriptors
    assert back.dissimilarity_measure == "crossnobis"


def test_arrays_condensed_or_square(rsatoolbox, rng):
    X = rng.standard_normal((6, 4))
    vector = compute_rdm(X, "euclidean")
    np.testing.assert_array_equal(to_rsatoolbox(vector).dissimilarities, vector[None])
    np.testing.assert_allclose(to_rsatoolbox(vector).get_matrices()[0], squareform(pdist(X)))
    stack = np.stack([vector, 2 * vector])
    cases = [
        (stack, stack),  # a 2-D array that is not square: condensed RDMs
        (squareform(vector), vector[None]),  # a square one: one square RDM
        (np.stack([squareform(v) for v in stack]), stack),
    ]
    for rdms, expected in cases:
        converted = to_rsatoolbox(rdms, dissimilarity_measure="euclidean")
        np.testing.assert_array_equal(converted.dissimilarities, expected)
        assert converted.dissimilarity_measure == "euclidean"
    converted = to_rsatoolbox(
        DataRDMs(squareform(vector), pattern_descriptors={"name": list("abcdef")}),
        descriptors={"roi": "IT"},
        pattern_descriptors={"size": list(range(6))},
    )
    assert converted.descriptors == {"roi": "IT"}
    assert converted.pattern_descriptors["name"] == list("abcdef")
    assert converted.pattern_descriptors["size"] == list(range(6))


def test_rsatoolbox_computations_equal_skreps(rsatoolbox, data, rng):
    models = to_rsatoolbox(data.model_rdms, rdm_descriptors={"model": list(data.model_names)})
    brains = to_rsatoolbox(data.brain_rdms)
    for ours, theirs in [
        ("spearman", "spearman"),
        ("pearson", "corr"),
        ("cosine", "cosine"),
        ("tau-a", "tau-a"),
        ("rho-a", "rho-a"),
    ]:
        np.testing.assert_allclose(
            rsatoolbox.rdm.compare(models, brains, method=theirs),
            compare_rdms(
                from_rsatoolbox(models).condensed(), from_rsatoolbox(brains).condensed(), ours
            ),
            rtol=0,
            atol=1e-10,
            err_msg=ours,
        )
    # An RDM that rsatoolbox computes is skrep's.
    X = rng.standard_normal((12, 7))
    dataset = rsatoolbox.data.Dataset(X)
    # rsatoolbox's "euclidean" is the squared distance divided by the number of channels,
    # skrep's "sqeuclidean"; here checked against scipy too.
    cases = [
        ("correlation", "correlation", "correlation", pdist(X, "correlation")),
        ("euclidean", "squared euclidean", "sqeuclidean", pdist(X, "sqeuclidean") / 7),
    ]
    for method, measure, ours, scipy_value in cases:
        theirs = from_rsatoolbox(rsatoolbox.rdm.calc_rdm(dataset, method=method))
        assert theirs.dissimilarity_measure == measure
        np.testing.assert_allclose(theirs.condensed()[0], compute_rdm(X, ours), rtol=1e-12)
        np.testing.assert_allclose(theirs.condensed()[0], scipy_value, rtol=1e-12)


def test_cross_validation_on_converted_rdms_equals_rsatoolbox_subsets(rsatoolbox, data, rng):
    """Third route for the fold scores: rsatoolbox's subset_pattern and compare."""
    brains = to_rsatoolbox(data.brain_rdms[:4])
    features = data.category_vectors + 0.3 * rng.standard_normal((92, 12))
    cv = KFold(4, shuffle=True, random_state=0)  # sorted test indices, as subset_pattern gives
    scores = cross_validate(RSA(), features, from_rsatoolbox(brains), cv=cv)["test_score"]
    expected = [
        rsatoolbox.rdm.compare(
            to_rsatoolbox(compute_rdm(features[test])),
            brains.subset_pattern("index", test.tolist()),
            method="spearman",
        ).mean()
        for _, test in cv.split(features)
    ]
    np.testing.assert_allclose(scores, expected, rtol=0, atol=1e-12)
    # Selecting stimuli on a DataRDMs is rsatoolbox's subset_pattern (for sorted indices).
    selected = np.array([3, 17, 40, 91])
    ours = from_rsatoolbox(brains)[selected]
    theirs = from_rsatoolbox(brains.subset_pattern("index", selected.tolist()))
    np.testing.assert_array_equal(ours.rdms, theirs.rdms)


def test_bad_input_is_a_named_error(rsatoolbox, rng):
    with pytest.raises(TypeError, match="rsatoolbox.rdm.RDMs; got ndarray.*DataRDMs"):
        from_rsatoolbox(np.zeros(3))
    repeated = rsatoolbox.rdm.RDMs(rng.random((1, 6))).subsample_pattern("index", [0, 0, 1, 2])
    with pytest.raises(ValueError, match="NaN.*subset_pattern"):
        from_rsatoolbox(repeated)
    with pytest.raises(ValueError, match=r"shape \(2, 7\).*n_pairs = n \(n - 1\) / 2"):
        to_rsatoolbox(rng.random((2, 7)))
    square_stack = rng.random((6, 6))  # 6 condensed RDMs of 4 stimuli, or one bad square one
    with pytest.raises(ValueError, match=r"read as one square RDM.*6 condensed RDMs of 4"):
        to_rsatoolbox(square_stack)
    with pytest.raises(ValueError, match="NaN"):
        to_rsatoolbox(np.array([1.0, np.nan, 2.0]))
    with pytest.raises(TypeError, match="numeric array"):
        to_rsatoolbox(np.array(["a", "b", "c"]))
    with pytest.raises(ValueError, match=r"pattern_descriptors\['name'\].*\(3\).*length 2"):
        to_rsatoolbox(np.ones(3), pattern_descriptors={"name": ["a", "b"]})


def test_the_examples_run_with_rsatoolbox(rsatoolbox):
    """The docstring examples (skipped in the doctest run, which may lack rsatoolbox)."""
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for function in (to_rsatoolbox, from_rsatoolbox):
        (test,) = doctest.DocTestFinder().find(function, globs={})
        for example in test.examples:
            example.options.pop(doctest.SKIP, None)
        result = runner.run(test)
        assert result.failed == 0 and result.attempted > 3, function.__name__


def test_missing_rsatoolbox_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "rsatoolbox", None)  # import fails as if not installed
    monkeypatch.setitem(sys.modules, "rsatoolbox.rdm", None)
    with pytest.raises(ImportError, match=r"pip install 'skrep\[rsatoolbox\]'"):
        to_rsatoolbox(np.ones(3))
    with pytest.raises(ImportError, match="rsatoolbox"):
        skrep.rdm.from_rsatoolbox(object())
