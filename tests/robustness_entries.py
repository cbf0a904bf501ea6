"""The public entries of skrep, each with a way to call it on clean data (for the battery).

An :class:`Entry` names one public estimator or function, builds its clean
arguments from a :class:`Data` object (``n`` paired stimuli), calls it, and
reduces what it returns to numbers. ``roles`` says what each argument is, so
that the battery in ``test_robustness_battery.py`` knows how to spoil it:

- ``"data"``: (n_samples, n_features), rows are stimuli;
- ``"responses"``: (n_classes, n_repeats, n_features), classes are stimuli;
- ``"trials"``: (n_trials, n_stimuli, n_neuroids);
- ``"rdms"``: condensed RDMs (n_rdms, n_pairs) of the stimuli;
- ``"square"``: (n_stimuli, n_stimuli) symmetric matrices (Gram, distances);
- ``"squares"``: (n_rdms, n_stimuli, n_stimuli) square RDMs;
- ``"matrix"``, ``"vector"``: fitted parameters (a map, an offset), no stimuli;
- ``"labels"``: one label per stimulus, permuted with them, never spoiled;
- ``"fixed"``: other arguments (a column order), left alone.

Estimators are called twice: fitted and scored on the same (spoiled) data,
and, as ``"<name>.score"``, fitted on clean data and scored on spoiled data.

An argument given as ``("Xs", 0)`` is the first array of the list ``Xs``.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.spatial.distance import cdist, pdist, squareform

import skrep
from skrep import functional as F
from skrep import metrics, multiset, rdm
from skrep.compat import netrep
from skrep.functional import stochastic as S
from skrep.sparsity import sparsity_table

N = 12  # stimuli of the clean data


@dataclasses.dataclass
class Data:
    """Clean inputs of ``n`` stimuli (the first ``n`` of one seeded draw of 12)."""

    n: int = N

    def __post_init__(self) -> None:
        rng = np.random.default_rng(7)
        latent = rng.standard_normal((N, 3))
        X = latent @ rng.standard_normal((3, 5)) + 0.3 * rng.standard_normal((N, 5))
        Y = np.tanh(latent @ rng.standard_normal((3, 4))) + 0.3 * rng.standard_normal((N, 4))
        Z = latent @ rng.standard_normal((3, 6)) + rng.standard_normal((N, 6))
        means = latent @ rng.standard_normal((3, 3))
        R1 = means[:, None, :] + 0.5 * rng.standard_normal((N, 4, 3))
        R2 = means[:, None, :] @ rng.standard_normal((3, 3)) + 0.5 * rng.standard_normal((N, 4, 3))
        trials = X[None, :, :3] + 0.5 * rng.standard_normal((4, N, 3))
        subjects = [X + 0.8 * rng.standard_normal((N, 5)) for _ in range(3)]
        n = self.n
        self.X, self.Y, self.Z = X[:n], Y[:n], Z[:n]
        self.R1, self.R2 = R1[:n], R2[:n]
        self.trials = trials[:, :n]
        self.labels = np.arange(N)[:n] % 3
        self.binary = np.arange(N)[:n] % 2
        self.model_rdms = np.stack([pdist(X[:n]), pdist(Z[:n])])
        self.data_rdms = np.stack([pdist(s[:n]) for s in subjects])
        self.gram_x = _gram(X[:n])
        self.gram_y = _gram(Y[:n])
        self.distances = cdist(X[:n], X[:n])
        self.offset, self.W = Y[0, :1].repeat(5), Z[:5, :5]  # fitted parameters, no stimuli


def _gram(A: np.ndarray) -> np.ndarray:
    centered = A - A.mean(axis=0) if len(A) else A
    return centered @ centered.T


def numeric(result: Any) -> np.ndarray:
    """The numbers in a result, flattened to one float64 vector."""
    if result is None:
        return np.zeros(0)
    if isinstance(result, (bool, int, float, np.number, np.bool_)):
        return np.asarray([result], dtype=np.float64)
    if hasattr(result, "detach"):  # torch tensor
        result = result.detach().cpu().numpy()
    if isinstance(result, np.ndarray):
        if result.dtype.kind not in "biuf":
            raise TypeError(f"result of dtype {result.dtype}")
        return result.astype(np.float64).ravel()
    if hasattr(result, "select_dtypes"):  # pandas DataFrame
        return numeric(result.select_dtypes("number").to_numpy(dtype=np.float64))
    if dataclasses.is_dataclass(result):
        result = [getattr(result, f.name) for f in dataclasses.fields(result)]
    if isinstance(result, dict):
        result = [result[k] for k in sorted(result)]
    if isinstance(result, (list, tuple)):
        parts = [numeric(part) for part in result if not isinstance(part, (str, bytes))]
        return np.concatenate(parts) if parts else np.zeros(0)
    if hasattr(result, "values") and hasattr(result, "shape"):  # MeasureMatrix & co
        return numeric(np.asarray(result.values))
    raise TypeError(f"no numbers in a {type(result).__name__}")


@dataclasses.dataclass
class Entry:
    """One public entry: how to build its arguments, call it and read its result."""

    name: str
    call: Callable[..., Any]
    build: Callable[[Data], dict[str, Any]]
    roles: dict[Any, str]
    value: Callable[[Any], np.ndarray] = numeric
    #: extra words a clear message may use for an argument (e.g. a network's name)
    aliases: dict[Any, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    #: a format conversion: NaN and inf may come out as they went in
    transparent: bool = False
    #: documented to take (n, ..., n_features) arrays, so a 3-D array is valid
    accepts_nd: bool = False
    #: rows of its arrays are paired stimuli (False: only the features are shared)
    paired_rows: bool = True
    #: kinds that do not apply (e.g. torch input after a numpy fit)
    skip: tuple[str, ...] = ()

    def names(self, key: Any) -> list[str]:
        """Words a clear message about argument ``key`` (None: about any) may use."""
        keys = list(self.roles) if key is None else [key]
        names = list(self.aliases.get(None, ()))
        for k in keys:
            names.append(k[0] if isinstance(k, tuple) else k)
            names.extend(self.aliases.get(k, ()))
        return names

    def targets(self) -> list[Any]:
        """The arguments the battery spoils (not labels, nor fixed indices)."""
        return [key for key, role in self.roles.items() if role not in ("labels", "fixed")]


@dataclasses.dataclass(frozen=True)
class _FitScore:
    """``estimator().fit(*arguments).score(*arguments)``: an estimator's whole life."""

    estimator: Callable[[], Any]

    def __call__(self, **arguments: Any) -> float:
        values = list(arguments.values())
        return self.estimator().fit(*values).score(*values)


@dataclasses.dataclass(frozen=True)
class _HeldOutScore:
    """Fitted on the clean data, scored on the (spoiled) arguments: held-out input."""

    estimator: Callable[[], Any]
    build: Callable[[Data], dict[str, Any]]

    def __call__(self, **arguments: Any) -> float:
        fitted = self.estimator().fit(*self.build(Data()).values())
        return fitted.score(*arguments.values())


def _score(estimator: Callable[[], Any]) -> _FitScore:
    return _FitScore(estimator)


def _xy(d: Data) -> dict[str, Any]:
    return {"X": d.X, "Y": d.Y}


def _xx(d: Data) -> dict[str, Any]:
    """Two arrays of the same shape."""
    return {"X": d.X, "Y": d.Z[:, :5]}


def _ab(d: Data) -> dict[str, Any]:
    return {"A": d.X, "B": d.Z[:, :5]}


AB = {"A": "data", "B": "data"}


def _x(d: Data) -> dict[str, Any]:
    return {"X": d.X}


def _positive(d: Data) -> dict[str, Any]:
    return {"X": np.abs(d.X)}


def _responses(d: Data) -> dict[str, Any]:
    return {"X": d.R1, "Y": d.R2}


PAIR = {"X": "data", "Y": "data"}
#: a cross-validation too fine for the stimuli is rightly blamed on ``cv``
CV = {None: ("cv",)}
ONE = {"X": "data"}
RESPONSES = {"X": "responses", "Y": "responses"}


#: With one column every cosine is +-1, so all neighbours tie; ties are documented
#: as broken by stimulus order, so permuting stimuli is not a second route there.
KNN_TIES = ("cols1",)


def _pair_entry(name: str, call: Callable[..., Any], **kwargs: Any) -> Entry:
    return Entry(name, call, kwargs.pop("build", _xy), kwargs.pop("roles", PAIR), **kwargs)


def _one_entry(name: str, call: Callable[..., Any], **kwargs: Any) -> Entry:
    return Entry(name, call, kwargs.pop("build", _x), kwargs.pop("roles", ONE), **kwargs)


def _aligned_gap(alignment: Any, X: Any, Y: Any) -> np.ndarray:
    """||(X - mx) Wx - (Y - my) Wy||: what an alignment is for, free of its gauge."""
    X, Y = _dense(X), _dense(Y)
    mx, my = numeric(alignment.mx), numeric(alignment.my)
    if hasattr(alignment, "Px"):  # permutations: column orders
        Px, Py = numeric(alignment.Px).astype(int), numeric(alignment.Py).astype(int)
        Ax, Ay = (X - mx)[:, Px], (Y - my)[:, Py]
    else:
        Wx = numeric(alignment.Wx).reshape(X.shape[1], -1)
        Wy = numeric(alignment.Wy).reshape(Y.shape[1], -1)
        Ax, Ay = (X - mx) @ Wx, (Y - my) @ Wy
    return np.asarray([_norm(Ax - Ay)])


def _norm(A: np.ndarray) -> float:
    """Frobenius norm that neither overflows at 1e300 nor underflows at 1e-300."""
    scale = float(np.max(np.abs(A), initial=0.0))
    return scale * float(np.linalg.norm(A / scale)) if scale > 0 else 0.0


def _ordering_cost(D: Any, order: Any) -> np.ndarray:
    """Sum of the distances between neighbours in ``order``: what the order minimises.

    Leaf orders of equal cost (mirror images of a subtree) are equally right.
    """
    order = numeric(order).astype(int)
    D = _dense(D)
    return np.asarray([D[order[:-1], order[1:]].sum()])


def _embedding_distances(embedding: Any) -> np.ndarray:
    """Distances between the embedded points (free of the embedding's rotation)."""
    points = numeric(embedding).reshape(len(embedding), -1)
    scale = float(np.max(np.abs(points), initial=0.0)) or 1.0
    return scale * pdist(points / scale)


def _rotation_gap(Xw: Any, Yw: Any) -> np.ndarray:
    U, V = F.rotations_between(Xw, Yw)
    U, V = numeric(U).reshape(5, 5), numeric(V).reshape(5, 5)
    Xn, Yn = _dense(Xw), _dense(Yw)
    return np.asarray([_norm(Xn @ U - Yn @ V)])


def _dense(A: Any) -> np.ndarray:
    if hasattr(A, "detach"):
        return A.detach().cpu().numpy()
    if hasattr(A, "toarray"):
        return A.toarray()
    return np.asarray(A, dtype=np.float64)


def _bunch(*keys: str) -> Callable[[Any], np.ndarray]:
    def value(result: Any) -> np.ndarray:
        return np.concatenate([numeric(result[key]) for key in keys])

    return value


def _class_covariances(d: Data, responses: np.ndarray | None = None) -> dict[str, Any]:
    responses = d.R1 if responses is None else responses
    means = responses.mean(axis=1)
    centered = responses - means[:, None]
    covs = np.einsum("crf,crg->cfg", centered, centered) / max(responses.shape[1] - 1, 1)
    return {"means": means, "covariances": covs}


def _netrep_stochastic(Metric: Callable[[], Any]) -> Callable[..., float]:
    def call(X: Any, Y: Any) -> float:
        return Metric().fit(X, Y).score(X, Y)

    return call


def _layers(d: Data) -> dict[Any, Any]:
    return {("Xs", 0): d.X, ("Xs", 1): d.Y, ("Xs", 2): d.Z}


LAYERS = {("Xs", 0): "data", ("Xs", 1): "data", ("Xs", 2): "data"}
LAYER_NAMES = {("Xs", i): ("layers_a", "layers", f"network {i}", f"Xs[{i}]") for i in range(3)}
NETREP_LAYER_NAMES = {
    ("Xs", i): ("traindata", "Xs", f"traindata[{i}]", f"Xs[{i}]", f"network {i}") for i in range(3)
}


def _barycenter_spread(mean: Any, aligned: Any) -> np.ndarray:
    """The mean squared distance of the aligned networks to the mean: invariant to rotations."""
    residual = _host(aligned) - _host(mean)
    return np.array([_norm(residual) / np.sqrt(residual.shape[0])])


def _netrep_spread(mean: Any, aligned: list[Any]) -> np.ndarray:
    return _barycenter_spread(mean, np.stack([_host(A) for A in aligned]))


def _tangent_norms(tangent: Any) -> np.ndarray:
    return np.array([_norm(residual) for residual in _host(tangent)])


def _mean(Xs: list[Any]) -> Any:
    return skrep.frechet_mean(Xs)


def _host(A: Any) -> np.ndarray:
    return np.asarray(A.detach().cpu() if hasattr(A, "detach") else A, dtype=np.float64)


def _listed(call: Callable[[list[Any]], Any]) -> Callable[..., Any]:
    """Call ``call`` on the list of the ``("Xs", i)`` arguments (given as one dict)."""

    def wrapped(arguments: dict[Any, Any]) -> Any:
        return call([arguments[("Xs", i)] for i in range(len(arguments))])

    return wrapped


def _residuals(d: Data) -> dict[str, Any]:
    return {"residuals": d.X}


RESIDUALS = {"residuals": "data"}


def _rdm_pair(d: Data) -> dict[str, Any]:
    return {"model_rdms": d.model_rdms, "data_rdms": d.data_rdms}


RDM_PAIR = {"model_rdms": "rdms", "data_rdms": "rdms"}


def _evaluations(d: Data) -> dict[str, Any]:
    """Each model's comparison with each subject's RDM: (n_models, n_subjects)."""
    return {"evaluations": F.compare_rdms(d.model_rdms, d.data_rdms, "pearson")}


EVALUATIONS = {"evaluations": "matrix"}


def _components(d: Data) -> dict[str, Any]:
    """Model RDMs as the components of a weighted model, and data RDMs to fit."""
    return {"components": d.model_rdms, "rdms": d.data_rdms}


COMPONENTS = {"components": "rdms", "rdms": "rdms"}

#: Searchlights along a line of five voxels: the columns of ``Data().X``.
_LINE = F.volume_searchlight(np.ones((5, 1, 1), bool), 2.5)


def _benchmark(X: Any, Y: Any) -> Any:
    table = skrep.benchmark_layers({"a": X}, {"v": Y}, {"cka": metrics.CKAEstimator()}, cv=2)
    return table[["train_score", "test_score"]]


ENTRIES: list[Entry] = [
    # -- estimators of paired representations (fit, then score on the same data)
    _pair_entry("LinearMetric", _score(lambda: skrep.LinearMetric(alpha=0.5))),
    _pair_entry("PermutationMetric", _score(skrep.PermutationMetric)),
    _pair_entry("SoftMatchingMetric", _score(skrep.SoftMatchingMetric)),
    _pair_entry("GULPMetric", _score(skrep.GULPMetric)),
    _pair_entry(
        "SubspaceOverlap",
        _score(lambda: skrep.SubspaceOverlap(n_components=2)),
        build=_xx,
        paired_rows=False,
    ),
    _pair_entry("CKAEstimator", _score(skrep.CKAEstimator)),
    _pair_entry("BuresEstimator", _score(skrep.BuresEstimator)),
    _pair_entry("CKAEstimator_rbf", _score(lambda: skrep.CKAEstimator(kernel="rbf"))),
    _pair_entry(
        "CKAEstimator_partial_fit",
        lambda X, Y: skrep.CKAEstimator(debiased=True).partial_fit(X, Y).similarity_,
    ),
    _pair_entry("CCAEstimator", _score(skrep.CCAEstimator)),
    _pair_entry("SVCCAEstimator", _score(skrep.SVCCAEstimator)),
    _pair_entry("PWCCAEstimator", _score(skrep.PWCCAEstimator)),
    _pair_entry("MutualKNNEstimator", _score(lambda: skrep.MutualKNNEstimator(3)), skip=KNN_TIES),
    _pair_entry("JaccardKNNEstimator", _score(lambda: skrep.JaccardKNNEstimator(3)), skip=KNN_TIES),
    _pair_entry("RegressionR2Estimator", _score(skrep.RegressionR2Estimator)),
    _pair_entry("RSA", _score(skrep.RSA)),
    _pair_entry(
        "EncodingRegression",
        _score(lambda: skrep.EncodingRegression(alphas=(0.1, 10.0), cv=2)),
        aliases=CV,
    ),
    _pair_entry(
        "EncodingRSA",
        _score(lambda: skrep.EncodingRSA(alphas=(0.1, 10.0), cv=2)),
        aliases=CV,
    ),
    _pair_entry(
        "BandedEncodingRegression",
        _score(
            lambda: skrep.BandedEncodingRegression(
                [[0, 1], [2, 3, 4]], alphas=(0.1, 10.0), n_iter=3, cv=2, random_state=0
            )
        ),
        aliases={None: ("cv", "bands")},
    ),
    _pair_entry(
        "fit_banded_ridge",
        lambda X, Y: (
            F.fit_banded_ridge(
                X, Y, [[0, 1], [2, 3, 4]], alphas=(0.1, 10.0), n_iter=3, cv=2, random_state=0
            ).cv_scores
        ),
        aliases={None: ("cv", "bands")},
    ),
    _pair_entry(
        "banded_ridge_predict",
        lambda X, Y: F.banded_ridge_predict(
            F.fit_banded_ridge(
                X, Y, [[0, 1], [2, 3, 4]], alphas=(0.1, 10.0), n_iter=3, cv=2, random_state=0
            ),
            X,
        ),
        aliases={None: ("cv", "bands")},
    ),
    _pair_entry(
        "variance_partitioning",
        lambda X, Y: (
            F.variance_partitioning(
                X,
                Y,
                [[0, 1], [2, 3, 4]],
                alphas=(0.1, 10.0),
                n_iter=3,
                cv=2,
                inner_cv=2,
                random_state=0,
            ).partition
        ),
        aliases={None: ("cv", "bands")},
    ),
    _pair_entry(
        "PLSPredictivity",
        _score(lambda: skrep.PLSPredictivity(n_components=2, cv=2)),
        aliases={**CV, None: ("cv", "n_components")},
    ),
    Entry(
        "LinearProbe",
        _score(lambda: skrep.LinearProbe(cv=2)),
        lambda d: {"X": d.X, "y": d.binary},
        {"X": "data", "y": "labels"},
        aliases=CV,
    ),
    _one_entry(
        "RelativeRepresentation",
        lambda X: skrep.RelativeRepresentation(anchors=3, random_state=0).fit_transform(X),
    ),
    Entry(
        "GaussianStochasticMetric",
        _score(lambda: skrep.GaussianStochasticMetric(max_iter=50, random_state=0)),
        _responses,
        RESPONSES,
    ),
    Entry(
        "EnergyStochasticMetric",
        _score(lambda: skrep.EnergyStochasticMetric(max_iter=20)),
        _responses,
        RESPONSES,
    ),
    Entry(
        "DataRDMs",
        lambda rdms: metrics.DataRDMs(rdms).rdms,
        lambda d: {"rdms": np.stack([squareform(v) for v in d.data_rdms])},
        {"rdms": "squares"},
    ),
    # -- netrep's API (score is the distance)
    _pair_entry("netrep.LinearMetric", _score(lambda: netrep.LinearMetric(alpha=0.5))),
    _pair_entry("netrep.PermutationMetric", _score(netrep.PermutationMetric)),
    Entry(
        "netrep.GaussianStochasticMetric",
        _netrep_stochastic(lambda: netrep.GaussianStochasticMetric(niter=50, random_state=0)),
        _responses,
        RESPONSES,
    ),
    Entry(
        "netrep.EnergyStochasticMetric",
        _netrep_stochastic(lambda: netrep.EnergyStochasticMetric(niter=20)),
        _responses,
        RESPONSES,
    ),
    _one_entry("netrep.whiten", lambda X: netrep.whiten(X, 0.5)),
    Entry("netrep.angular_distance", netrep.angular_distance, _ab, AB),
    _pair_entry("netrep.LinearCKA", _score(netrep.LinearCKA)),
    Entry(
        "netrep.align",
        lambda X, Y: np.asarray([_norm(_dense(X) @ _dense(netrep.align(X, Y)) - _dense(Y))]),
        _xx,
        PAIR,
    ),
    Entry(
        "netrep.pairwise_distances",
        _listed(lambda Xs: netrep.pairwise_distances(netrep.LinearMetric(), Xs, verbose=False)),
        _layers,
        LAYERS,
        aliases=NETREP_LAYER_NAMES,
    ),
    Entry(
        "netrep.cross_distances",
        lambda X, Y, Z: netrep.cross_distances(netrep.LinearMetric(), [X], [Y, Z], verbose=False),
        lambda d: {"X": d.X, "Y": d.Y, "Z": d.Z},
        {"X": "data", "Y": "data", "Z": "data"},
        aliases={"X": ("Xs", "Xs[0]"), "Y": ("Ys", "Ys[0]"), "Z": ("Ys", "Ys[1]")},
    ),
    Entry(
        "netrep.frechet_mean",
        # tol=0: netrep's absolute tolerance is not scale-equivariant.
        _listed(
            lambda Xs: _netrep_spread(*netrep.frechet_mean(Xs, tol=0.0, return_aligned_Xs=True))
        ),
        _layers,
        LAYERS,
        aliases=NETREP_LAYER_NAMES,
    ),
    Entry(
        "netrep.euclidean_tangent_space",
        _listed(lambda Xs: _tangent_norms(netrep.euclidean_tangent_space(Xs, _mean(Xs)))),
        _layers,
        LAYERS,
        aliases=NETREP_LAYER_NAMES,
    ),
    # -- many networks
    Entry(
        "pairwise_distances",
        _listed(lambda Xs: multiset.pairwise_distances(skrep.LinearMetric(), Xs)[0]),
        _layers,
        LAYERS,
        aliases=LAYER_NAMES,
    ),
    Entry(
        "cross_distances",
        lambda X, Y, Z: multiset.cross_distances(skrep.LinearMetric(), [X], [Y, Z])[0],
        lambda d: {"X": d.X, "Y": d.Y, "Z": d.Z},
        {"X": "data", "Y": "data", "Z": "data"},
        aliases={"X": ("Xs", "Xs[0]"), "Y": ("Ys", "Ys[0]"), "Z": ("Ys", "Ys[1]")},
    ),
    Entry(
        "frechet_mean",
        _listed(lambda Xs: _barycenter_spread(*skrep.frechet_mean(Xs, return_aligned=True))),
        _layers,
        LAYERS,
        aliases=LAYER_NAMES,
    ),
    Entry(
        "euclidean_tangent_space",
        _listed(
            lambda Xs: _tangent_norms(skrep.euclidean_tangent_space(Xs, skrep.frechet_mean(Xs)))
        ),
        _layers,
        LAYERS,
        aliases=LAYER_NAMES,
    ),
    Entry(
        "layer_similarity",
        _listed(lambda Xs: skrep.layer_similarity("linear_cka", Xs)),
        _layers,
        LAYERS,
        aliases=LAYER_NAMES,
    ),
    Entry("cka_matrix", _listed(F.cka_matrix), _layers, LAYERS, aliases=LAYER_NAMES),
    Entry(
        "streaming_layer_similarity",
        # one batch holding every layer, keyed by the names the errors give
        _listed(
            lambda Xs: skrep.streaming_layer_similarity([{f"Xs[{i}]": A for i, A in enumerate(Xs)}])
        ),
        _layers,
        LAYERS,
        aliases=LAYER_NAMES,
    ),
    _pair_entry(
        "benchmark_layers",
        _benchmark,
        aliases={"X": ("layers", "'a'"), "Y": ("responses", "'v'")},
    ),
    _one_entry(
        "sparsity_table",
        lambda X: sparsity_table({"a": X}, statistics=["l0_sparsity", "hoyer_sparsity"]),
        build=_positive,
        aliases={"X": ("representations", "'a'")},
    ),
    Entry(
        "embed_distances",
        lambda D: multiset.embed_distances(D, n_init=1, random_state=0),
        lambda d: {"D": d.distances},
        {"D": "square"},
        value=_embedding_distances,
    ),
    Entry(
        "cluster_order",
        lambda D: _ordering_cost(D, multiset.cluster_order(D)),
        lambda d: {"D": d.distances},
        {"D": "square"},
    ),
    Entry(
        "check_distance_matrix",
        multiset.check_distance_matrix,
        lambda d: {"D": d.distances},
        {"D": "square"},
    ),
    # -- geometry and dimensionality
    _one_entry(
        "participation_ratio", skrep.participation_ratio, accepts_nd=True
    ),  # documented: axes flattened
    _one_entry(
        "effective_dimensionality", skrep.effective_dimensionality, accepts_nd=True
    ),  # documented: axes flattened
    _one_entry(
        "effective_rank", skrep.effective_rank, accepts_nd=True
    ),  # documented: axes flattened
    _pair_entry(
        "principal_angles",
        lambda X, Y: skrep.principal_angles(X, Y, 2),
        build=_xx,
        paired_rows=False,
    ),
    _pair_entry(
        "pca_cross_variance",
        lambda X, Y: skrep.pca_cross_variance(X, Y, 2),
        build=_xx,
        paired_rows=False,
        value=_bunch("evr_X", "evr_Y", "PR_X", "PR_Y"),
    ),
    Entry(
        "group_averaged_cross_variance",
        lambda X, Y, groups: skrep.group_averaged_cross_variance(X, Y, groups, 2),
        lambda d: {"X": d.X, "Y": d.Z[:, :5], "groups": d.labels},
        {"X": "data", "Y": "data", "groups": "labels"},
        value=_bunch("cev_Y_mean", "cev_Y_self_mean"),
        accepts_nd=True,
    ),
    _one_entry(
        "principal_components",
        F.principal_components,
        value=_bunch("explained_variance_ratio"),
        accepts_nd=True,  # documented: more axes are flattened into samples
    ),
    # -- linear and permutation building blocks
    _one_entry("column_means", F.column_means),
    Entry("angular_distance", F.angular_distance, _ab, AB),
    Entry("euclidean_distance", F.euclidean_distance, _ab, AB),
    _one_entry("partial_whitening_matrix", lambda X: F.partial_whitening_matrix(X, 0.5)),
    _one_entry("whiten_representation", lambda X: F.whiten_representation(X, 0.5)),
    Entry(
        "rotations_between",
        _rotation_gap,
        lambda d: {"Xw": d.X, "Yw": d.Z[:, :5]},
        {"Xw": "data", "Yw": "data"},
    ),
    _pair_entry(
        "fit_linear_alignment",
        lambda X, Y: _aligned_gap(F.fit_linear_alignment(X, Y, 0.5), X, Y),
        build=_xx,
    ),
    Entry(
        "apply_alignment",
        F.apply_alignment,
        lambda d: {"X": d.X, "offset": d.offset, "W": d.W},
        {"X": "data", "offset": "vector", "W": "matrix"},
    ),
    _pair_entry(
        "fit_permutation_alignment",
        lambda X, Y: _aligned_gap(F.fit_permutation_alignment(X, Y), X, Y),
        build=_xx,
    ),
    _pair_entry("fit_soft_matching", lambda X, Y: F.fit_soft_matching(X, Y).plan),
    _pair_entry(
        "soft_matching_distance",
        lambda X, Y: F.soft_matching_distance(X, Y, F.fit_soft_matching(X, Y)),
    ),
    Entry(
        "apply_permutation",
        F.apply_permutation,
        lambda d: {"X": d.X, "offset": d.offset, "order": np.arange(5)[::-1]},
        {"X": "data", "offset": "vector", "order": "fixed"},
    ),
    # -- kernels, CKA, CCA
    _pair_entry("cka", F.cka),
    _pair_entry("linear_cka", F.linear_cka),
    _pair_entry("rbf_cka", F.rbf_cka),
    Entry(
        "hsic",
        F.hsic,
        lambda d: {"K": d.gram_x, "L": d.gram_y},
        {"K": "square", "L": "square"},
    ),
    _one_entry("gram_matrix", F.gram_matrix),
    Entry(
        "bures_distance",
        F.bures_distance,
        lambda d: {"A": d.gram_x, "B": d.gram_y},
        {"A": "square", "B": "square"},
    ),
    Entry(
        "normalized_bures_similarity",
        F.normalized_bures_similarity,
        lambda d: {"A": d.gram_x, "B": d.gram_y},
        {"A": "square", "B": "square"},
    ),
    _pair_entry("gulp_distance", F.gulp_distance),
    _pair_entry("bures_similarity", lambda X, Y: tuple(F.bures_similarity(X, Y))),
    _pair_entry("procrustes_cka_bounds", lambda X, Y: tuple(F.procrustes_cka_bounds(X, Y))[:6]),
    _one_entry("rbf_bandwidth", F.rbf_bandwidth),
    _pair_entry("canonical_correlations", F.canonical_correlations),
    _pair_entry("mean_cca", F.mean_cca),
    _pair_entry("r2_cca", F.r2_cca),
    _pair_entry("svcca", F.svcca),
    _pair_entry("pwcca", F.pwcca),
    # -- neighbours, regression, predictivity
    _one_entry("nearest_neighbors", lambda X: F.nearest_neighbors(X, 3)),
    _pair_entry("mutual_knn", lambda X, Y: F.mutual_knn(X, Y, 3), skip=KNN_TIES),
    _pair_entry("jaccard_knn", lambda X, Y: F.jaccard_knn(X, Y, 3), skip=KNN_TIES),
    _pair_entry("linear_regression_r2", F.linear_regression_r2),
    _pair_entry(
        "neuroid_correlations",
        lambda Y_pred, Y: F.neuroid_correlations(Y_pred, Y),
        build=lambda d: {"Y_pred": d.X[:, :4], "Y": d.Y},
        roles={"Y_pred": "data", "Y": "data"},
    ),
    Entry(
        "split_half_ceiling",
        lambda trials: F.split_half_ceiling(trials, random_state=0),
        lambda d: {"trials": d.trials},
        {"trials": "trials"},
    ),
    # -- stochastic building blocks
    Entry(
        "class_statistics",
        S.class_statistics,
        lambda d: {"responses": d.R1},
        {"responses": "responses"},
    ),
    Entry(
        "gaussian_statistics",
        S.gaussian_statistics,
        _class_covariances,
        {"means": "data", "covariances": "responses"},
    ),
    Entry(
        "sq_bures_distances",
        S.sq_bures_distances,
        lambda d: {
            "covariances_a": _class_covariances(d)["covariances"],
            "covariances_b": _class_covariances(d, d.R2)["covariances"],
        },
        {"covariances_a": "responses", "covariances_b": "responses"},
    ),
    Entry(
        "align_to_group",
        lambda M: S.align_to_group(M, "orth"),
        lambda d: {"M": d.W},
        {"M": "matrix"},
    ),
    Entry(
        "fit_energy_alignment",
        lambda X, Y: S.fit_energy_alignment(X, Y, max_iter=20),
        _responses,
        RESPONSES,
        value=lambda alignment: numeric(alignment.loss_history[-1]),
    ),
    Entry("energy_cross_distances", S.energy_cross_distances, _responses, RESPONSES),
    Entry("energy_within_mean", S.energy_within_mean, lambda d: {"X": d.R1}, {"X": "responses"}),
    Entry(
        "energy_distance",
        S.energy_distance,
        lambda d: {"X": d.R1, "Y_aligned": d.R2},
        {"X": "responses", "Y_aligned": "responses"},
    ),
    # -- RDMs
    _one_entry("compute_rdm", F.compute_rdm, accepts_nd=True),
    _one_entry("compute_rdm_euclidean", lambda X: F.compute_rdm(X, "euclidean"), accepts_nd=True),
    Entry("noise_covariance", rdm.noise_covariance, _residuals, RESIDUALS),
    Entry("noise_precision", rdm.noise_precision, _residuals, RESIDUALS),
    Entry(
        "noise_precision_stack",
        rdm.noise_precision_stack,
        lambda d: {"residuals": d.trials, "conditions": d.labels, "runs": d.binary},
        {"residuals": "trials", "conditions": "labels", "runs": "labels"},
    ),
    Entry(
        "noise_precision_stack_residuals",
        rdm.noise_precision_stack,
        lambda d: {"residuals": d.trials},
        {"residuals": "trials"},
    ),
    Entry(
        "condensed_to_square",
        F.condensed_to_square,
        lambda d: {"vectors": d.data_rdms},
        {"vectors": "rdms"},
        transparent=True,
        accepts_nd=True,
    ),
    Entry(
        "square_to_condensed",
        F.square_to_condensed,
        lambda d: {"rdms": np.stack([squareform(v) for v in d.data_rdms])},
        {"rdms": "squares"},
        transparent=True,
        accepts_nd=True,
    ),
    Entry(
        "compare_rdms",
        lambda rdms_a, rdms_b: F.compare_rdms(rdms_a, rdms_b),
        lambda d: {"rdms_a": d.model_rdms, "rdms_b": d.data_rdms},
        {"rdms_a": "rdms", "rdms_b": "rdms"},
    ),
    Entry(
        "compare_rdms_corr",
        lambda rdms_a, rdms_b: F.compare_rdms(rdms_a, rdms_b, "corr"),
        lambda d: {"rdms_a": d.model_rdms, "rdms_b": d.data_rdms},
        {"rdms_a": "rdms", "rdms_b": "rdms"},
    ),
    Entry(
        "to_rsatoolbox",
        rdm.to_rsatoolbox,
        lambda d: {"rdms": d.data_rdms},
        {"rdms": "rdms"},
        value=lambda rdms: numeric(rdms.get_vectors()),
    ),
    Entry("pool_rdms", F.pool_rdms, lambda d: {"rdms": d.data_rdms}, {"rdms": "rdms"}),
    Entry("noise_ceiling", F.noise_ceiling, lambda d: {"rdms": d.data_rdms}, {"rdms": "rdms"}),
    Entry(
        "bootstrap_comparisons",
        lambda model_rdms, data_rdms: F.bootstrap_comparisons(
            model_rdms, data_rdms, n_bootstrap=10, random_state=0
        ),
        _rdm_pair,
        RDM_PAIR,
    ),
    Entry(
        "permutation_test",
        lambda model_rdms, data_rdms: F.permutation_test(
            model_rdms, data_rdms, n_permutations=10, random_state=0
        ),
        _rdm_pair,
        RDM_PAIR,
    ),
    Entry(
        "bootstrap_comparisons_dual",
        lambda model_rdms, data_rdms: F.bootstrap_comparisons(
            model_rdms,
            data_rdms,
            "pearson",
            n_bootstrap=10,
            over="dual",
            return_noise_ceiling=True,
            random_state=0,
        ),
        _rdm_pair,
        RDM_PAIR,
    ),
    Entry(
        "bootstrap_comparisons_subjects",
        lambda model_rdms, data_rdms: F.bootstrap_comparisons(
            model_rdms,
            data_rdms,
            "spearman",
            n_bootstrap=10,
            over="subjects",
            return_noise_ceiling=True,
            random_state=0,
        ),
        _rdm_pair,
        RDM_PAIR,
    ),
    Entry("pairwise_model_tests", F.pairwise_model_tests, _evaluations, EVALUATIONS),
    Entry("zero_tests", F.zero_tests, _evaluations, EVALUATIONS),
    Entry(
        "noise_ceiling_tests",
        lambda evaluations: F.noise_ceiling_tests(evaluations, (0.5, 0.9)),
        _evaluations,
        EVALUATIONS,
    ),
    Entry("fit_rdm_weights", F.fit_rdm_weights, _components, COMPONENTS),
    Entry(
        "fit_rdm_weights_corr_cov",
        lambda components, rdms: F.fit_rdm_weights(components, rdms, "corr_cov", nonnegative=False),
        _components,
        COMPONENTS,
    ),
    Entry(
        "crossvalidate_rdm_model",
        lambda components, rdms: F.crossvalidate_rdm_model(
            components, rdms, [(None, None, None, None)], "corr"
        ),
        _components,
        COMPONENTS,
    ),
    Entry(
        "WeightedRDMModel",
        _score(lambda: metrics.WeightedRDMModel("corr")),
        _components,
        COMPONENTS,
    ),
    Entry(
        "searchlight_rdms",
        lambda data: F.searchlight_rdms(data, *_LINE),
        lambda d: {"data": d.X},
        {"data": "data"},
    ),
    Entry(
        "evaluate_searchlight",
        F.evaluate_searchlight,
        lambda d: {"rdms": d.data_rdms, "model_rdms": d.model_rdms},
        {"rdms": "rdms", "model_rdms": "rdms"},
    ),
    # -- sparsity
    _one_entry("l0_sparsity", F.l0_sparsity, build=_positive),
    _one_entry("hoyer_sparsity", F.hoyer_sparsity, build=_positive),
    _one_entry("lifetime_sparseness", F.lifetime_sparseness, build=_positive),
    _one_entry("population_sparseness", F.population_sparseness, build=_positive),
    Entry(
        "selectivity_index",
        F.selectivity_index,
        lambda d: {"X": np.abs(d.X), "labels": d.labels},
        {"X": "data", "labels": "labels"},
    ),
]


def _held_out(entry: Entry) -> Entry:
    """The estimator of ``entry`` fitted on clean data, then scored on spoiled data.

    Torch input after a numpy fit is refused by design (``device=None`` keeps
    the namespace of the fit), so that kind is left out; so are the extreme
    scales: a model fitted on data near 1 (a probe's affine classifier, a ridge
    model's intercept) legitimately scores data near 1e-300 differently, so
    rescaling is no second route there (fit-and-score at those scales is judged).
    """
    return dataclasses.replace(
        entry,
        name=f"{entry.name}.score",
        call=_HeldOutScore(entry.call.estimator, entry.build),
        skip=("torch_requires_grad", "scale_1e300", "scale_1e-300"),
    )


ENTRIES += [_held_out(entry) for entry in ENTRIES if isinstance(entry.call, _FitScore)]
if importlib.util.find_spec("rsatoolbox") is None:
    ENTRIES = [entry for entry in ENTRIES if entry.name != "to_rsatoolbox"]
