"""RSA: classical representational similarity analysis as an estimator."""

from __future__ import annotations

import re
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._array import to_numpy
from .._deprecation import renamed_parameter_value
from .._typing import Array, ArrayLike, Device
from ..exceptions import InvalidParameterError, RDMTargetWarning
from ..functional.rdm import check_pattern_rdm_method, compute_rdm
from ..functional.rdm_compare import UndefinedComparisonError, check_comparison, compare_rdms
from ._similarity import SimilarityEstimator
from .data_rdms import DataRDMs, _check_square_rdms, _rdm_likeness

#: The values of RSA's ``target`` parameter.
_TARGETS = ("auto", "responses", "rdm")

_PACKAGE_DIR = str(Path(__file__).resolve().parents[1])


def _caller_stacklevel() -> int:
    """The ``stacklevel`` of the first frame outside skrep, for the caller of the warning."""
    level, frame = 2, sys._getframe(2)
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(
        _PACKAGE_DIR
    ):
        level, frame = level + 1, frame.f_back
    return level


def _renamed(message: str, names: dict[str, str]) -> str:
    """``message`` with each whole-word match of the patterns of ``names`` replaced."""
    for pattern, new in names.items():
        message = re.sub(rf"(?<![A-Za-z0-9_']){pattern}(?![A-Za-z0-9_'])", new, message)
    return message


def _rdm_of(A: Array, method: str, name: str) -> Array:
    """The RDM of ``A``, with errors that name the argument ``A`` came from.

    :func:`compute_rdm` calls its input X; an error about Y's RDM says Y.
    """
    try:
        return compute_rdm(A, method)
    except ValueError as exc:
        if name == "X" or type(exc) is not ValueError:
            raise
        raise ValueError(
            f"The {method!r} RDM of {name} is undefined: {_renamed(str(exc), {'X': name})}"
        ) from exc


def _compare(rdm_x: Array, rdms_y: Array, method: str, *, y_rdms: bool = False) -> Array:
    """:func:`compare_rdms` of X's RDM with Y's, with errors that say X and Y.

    ``y_rdms``: ``rdms_y`` holds Y itself (data RDMs, one per subject), not
    the RDM of Y's responses.
    """
    try:
        return compare_rdms(rdm_x, rdms_y, method)
    except ValueError as exc:
        if type(exc) not in (ValueError, UndefinedComparisonError):
            raise
        names = {r"RDM \d+ of rdms_a": "the RDM of X", "rdms_a": "the RDM of X"}
        if y_rdms:
            names["rdms_b"] = "Y"
        else:
            names.update({r"RDM \d+ of rdms_b": "the RDM of Y", "rdms_b": "the RDM of Y"})
        message = _renamed(str(exc), names)
        raise type(exc)(message[:1].upper() + message[1:]) from exc


_HOW_TO_PASS_AN_RDM = (
    "To compare X with a precomputed RDM, pass Y=skrep.metrics.DataRDMs(rdm), whose "
    "stimuli cross-validation selects on both axes (or set target='rdm' outside "
    "cross-validation); if Y really holds responses, set target='responses' to silence "
    "this warning."
)

__all__ = ["RSA"]


class RSA(SimilarityEstimator):
    """Classical RSA: the comparison of the RDMs of X and of Y.

    ``score(X, Y)`` computes one RDM over the rows (stimuli) of X (e.g. a
    model layer) and one over the rows of Y (e.g. brain responses), with
    :func:`skrep.functional.compute_rdm`, and compares them with
    :func:`skrep.functional.compare_rdms`. In ``cross_validate`` over
    stimuli it is the RSA of each held-out set of stimuli.

    **Brain RDMs as the target.** When Y is known only by its RDMs (one per
    subject, as the human IT RDMs of Kriegeskorte et al. 2008), pass them as
    a :class:`~skrep.metrics.DataRDMs`: X's RDM is compared with each of them
    and ``score`` is their mean (rsatoolbox's fixed-effects evaluation). In
    ``cross_validate`` and ``GridSearchCV`` each split selects its stimuli on
    both axes of every RDM, so a fold's score is the comparison of the RDM of
    ``X[test]`` with the RDMs ``rdm[test][:, test]``. With ``target="rdm"``,
    a bare array of shape (n, n) or (n_subjects, n, n) is read as RDMs too
    (in ``fit`` and ``score`` called directly; cross-validation splits only
    the first axis of a plain array, so there wrap it in DataRDMs). A plain
    Y is otherwise read as responses, and one that looks like an RDM
    (square, symmetric, zero diagonal; or rows of such a matrix, as a
    cross-validation split of one gives) draws a
    :class:`~skrep.exceptions.RDMTargetWarning`: RSA would compute the RDM
    of the RDM's rows.

    Parameters
    ----------
    rdm_method : str, default="correlation"
        How the RDMs are computed: "correlation" (1 - Pearson r),
        "cosine", "euclidean" or "sqeuclidean".
    compare_method : str, default="spearman"
        How they are compared (the ``method`` of
        :func:`skrep.functional.compare_rdms`): "spearman", "pearson",
        "cosine", "tau-a", "rho-a", "tau-b", "corr_cov" or "cosine_cov". The
        default is a rank correlation, as in Kriegeskorte et al. (2008): a
        model RDM usually predicts only the order of the dissimilarities, not
        their scale. (:class:`~skrep.EncodingRSA` defaults to "pearson", see
        there.)
    preprocessor : estimator, default=None
        Transformer fitted once on X and once on Y.
    device : None, str or torch.device, default=None
        Where to compute the RDMs: None where the data is; "cpu" or "cuda".
    target : {"auto", "responses", "rdm"}, default="auto"
        What Y holds. "auto": a :class:`~skrep.metrics.DataRDMs` holds RDMs
        and an array holds responses (n_stimuli, n_channels), with a warning
        when it looks like an RDM. "responses": Y holds responses (no
        warning). "rdm": Y holds RDMs, a DataRDMs or an array of shape
        (n_stimuli, n_stimuli) or (n_subjects, n_stimuli, n_stimuli).
    comparison : str, default="deprecated"
        The old name of ``compare_method``; it works, with a FutureWarning,
        until the next release.

    Attributes
    ----------
    n_features_in_ : int
        Width of X seen in fit.
    n_features_y_ : int
        Width of Y seen in fit (the number of stimuli when Y is DataRDMs).

    See Also
    --------
    skrep.functional.compute_rdm : RDMs, including Mahalanobis and crossnobis.
    skrep.functional.noise_ceiling : The bounds for a group of data RDMs.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep import RSA
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((30, 20))
    >>> round(RSA().fit(X, 2 * X).score(X, 2 * X), 6)
    1.0

    A precomputed target RDM (here the Euclidean RDM of X itself):

    >>> from scipy.spatial.distance import pdist, squareform
    >>> from sklearn.model_selection import cross_validate
    >>> from skrep.metrics import DataRDMs
    >>> rdm = squareform(pdist(X))
    >>> round(RSA("euclidean", target="rdm").fit(X, rdm).score(X, rdm), 6)
    1.0
    >>> scores = cross_validate(RSA("euclidean"), X, DataRDMs(rdm), cv=3)["test_score"]
    >>> scores.round(6).tolist()
    [1.0, 1.0, 1.0]
    """

    pairwise_symmetric = True

    def __init__(
        self,
        rdm_method: str = "correlation",
        compare_method: str = "spearman",
        *,
        preprocessor: Any = None,
        device: Device = None,
        target: str = "auto",
        comparison: str = "deprecated",
    ):
        self.rdm_method = rdm_method
        self.compare_method = compare_method
        self.preprocessor = preprocessor
        self.device = device
        self.target = target
        self.comparison = comparison

    def _check_params(self) -> None:
        super()._check_params()
        check_pattern_rdm_method(self.rdm_method, "RSA")
        self._check_target()
        self._compare_method = renamed_parameter_value(
            self, "comparison", "compare_method", "spearman"
        )
        check_comparison(self._compare_method, "RSA", "compare_method")

    def _check_target(self) -> None:
        if not (isinstance(self.target, str) and self.target in _TARGETS):
            raise InvalidParameterError(
                f"The 'target' parameter of RSA must be one of {list(_TARGETS)}; got "
                f"{self.target!r}."
            )

    def _target_rdms(self, Y: ArrayLike | DataRDMs) -> DataRDMs | None:
        """Y as RDMs when it holds RDMs (DataRDMs, or any array with target="rdm"), else None."""
        self._check_target()
        if isinstance(Y, DataRDMs):
            if self.target == "responses":
                raise ValueError(
                    "Y is DataRDMs (RDMs), but target='responses' declares responses; "
                    "set target='auto' or 'rdm' to compare X with those RDMs."
                )
            return Y
        if self.target != "rdm":
            return None
        shape = getattr(Y, "shape", None)
        if shape is not None and len(shape) == 2 and shape[0] != shape[1]:
            raise ValueError(
                f"With target='rdm', Y must be square RDMs of shape (n_stimuli, n_stimuli) "
                f"or (n_subjects, n_stimuli, n_stimuli); got shape {tuple(shape)}. "
                "Cross-validation splits only the rows of a plain array: pass "
                "Y=skrep.metrics.DataRDMs(rdm), whose stimuli it selects on both axes."
            )
        return DataRDMs(_check_square_rdms(Y, "Y"))

    def _validate_y(self, Y: ArrayLike | None, *, reset: bool) -> Array:
        Y_checked = super()._validate_y(Y, reset=reset)
        # Only in fit: a score after such a fit would repeat the warning.
        kind = _rdm_likeness(Y_checked) if reset and self.target == "auto" else None
        n_rows, n_columns = Y_checked.shape
        if kind == "square":
            warnings.warn(
                f"Y (shape {(n_rows, n_columns)}) is square, symmetric and zero on the "
                "diagonal, as an RDM is, but RSA reads it as responses "
                f"({n_rows} stimuli x {n_columns} channels) and compares X's RDM with the RDM "
                f"of its rows. {_HOW_TO_PASS_AN_RDM}",
                RDMTargetWarning,
                stacklevel=_caller_stacklevel(),
            )
        elif kind == "rows":
            warnings.warn(
                f"Y (shape {(n_rows, n_columns)}) looks like rows of an RDM (each row is zero "
                "at its own column, and those columns form a symmetric matrix), as when "
                "cross-validation splits only the rows of an RDM array, but RSA reads it as "
                f"responses ({n_rows} stimuli x {n_columns} channels). {_HOW_TO_PASS_AN_RDM}",
                RDMTargetWarning,
                stacklevel=_caller_stacklevel(),
            )
        return Y_checked

    def _prepare_layer(self, A: Array, name: str) -> Array:
        if A.shape[0] < 3:
            raise ValueError(
                f"{name} has {A.shape[0]} rows (stimuli); RSA needs at least 3 to compare RDMs."
            )
        return compute_rdm(A, self.rdm_method)

    def _from_prepared(self, a: Array, b: Array) -> float:
        # to_numpy: compare_rdms gives a tensor (maybe on a GPU) for tensor input.
        return float(to_numpy(compare_rdms(a, b, self._compare_method))[0, 0])

    def _similarity(self, X: Array, Y: Array) -> float:
        if X.shape[0] < 3:
            raise ValueError(
                f"X and Y have {X.shape[0]} rows (stimuli); RSA needs at least 3 to compare "
                "their RDMs."
            )
        rdm_x = _rdm_of(X, self.rdm_method, "X")
        rdm_y = _rdm_of(Y, self.rdm_method, "Y")
        return float(to_numpy(_compare(rdm_x, rdm_y, self._compare_method))[0, 0])

    def _prepare_x_for_rdms(self, X: ArrayLike, Y: DataRDMs, *, fitting: bool) -> Array:
        if len(Y) < 3:
            raise ValueError(
                f"Y holds RDMs of {len(Y)} stimuli; RSA needs at least 3 stimuli to compare "
                "RDMs (a cross-validation fold this small has no RDM to score)."
            )
        X = self._validate_x(X, reset=fitting)
        if X.shape[0] != len(Y):
            raise ValueError(
                f"X has {X.shape[0]} rows (stimuli) but Y holds RDMs of {len(Y)} stimuli; "
                "expected the same stimuli in the same order."
            )
        X = self._preprocess(X, "x", fitting=fitting)
        if fitting:
            self.n_features_y_ = len(Y)
            self._preprocessed_widths_ = (X.shape[1], len(Y))
        else:
            self._check_preprocessed_width(X, "x")
        return X

    def fit(self, X: ArrayLike, Y: ArrayLike | DataRDMs) -> RSA:
        """Check paired representations (or X against data RDMs) and fit the preprocessors.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, n_features_x)
            First representation: one row per stimulus, one column per unit.
        Y : array-like of shape (n_samples, n_features_y), or DataRDMs
            Second representation, rows paired with those of X, or the RDMs
            of the same stimuli (a DataRDMs; with ``target="rdm"`` also an
            array of shape (n_samples, n_samples) or (n_subjects, n_samples,
            n_samples)).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._clear_fitted_state()
        rdms = self._target_rdms(Y)
        if rdms is None:
            return super().fit(X, Y)
        try:
            self._check_params()
            self._prepare_x_for_rdms(X, rdms, fitting=True)
        except BaseException:
            self._clear_fitted_state()  # a failed fit leaves the estimator unfitted
            raise
        return self

    def score(self, X: ArrayLike, Y: ArrayLike | DataRDMs) -> float:
        """The comparison of the RDMs of X and Y: higher is more similar.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, n_features_x)
            First representation, one row per stimulus.
        Y : array-like of shape (n_samples, n_features_y), or DataRDMs
            Second representation, or the RDMs of the same stimuli (as in
            ``fit``; the score is then the mean comparison over them).

        Returns
        -------
        float
            The comparison.
        """
        check_is_fitted(self)
        rdms = self._target_rdms(Y)
        if rdms is None:
            return super().score(X, Y)
        X = self._prepare_x_for_rdms(X, rdms, fitting=False)
        rdm_x = np.asarray(to_numpy(_rdm_of(X, self.rdm_method, "X")))
        comparisons = _compare(rdm_x, rdms.condensed(), self._compare_method, y_rdms=True)
        return float(np.mean(comparisons))
