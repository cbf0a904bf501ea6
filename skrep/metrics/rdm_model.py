"""WeightedRDMModel: a weighted combination of component RDMs, fitted and scored as an estimator."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .._typing import ArrayLike
from .._validation import check_bool
from ..functional._rdm_input import real_numpy
from ..functional._rdm_weights_solve import check_ridge_weight, check_weight_method
from ..functional._rdm_weights_stimuli import check_stimuli, pair_positions
from ..functional.rdm_compare import UndefinedComparisonError, compare_rdms, rdm_stack
from ..functional.rdm_weights import fit_rdm_weights
from .data_rdms import DataRDMs

__all__ = ["WeightedRDMModel"]

_OWNER = "WeightedRDMModel"


def _unwrapped(rdms: Any) -> Any:  # noqa: ANN401
    """The square RDMs of a DataRDMs, anything else as it is."""
    return rdms.rdms if isinstance(rdms, DataRDMs) else rdms


def _condensed_components(components: Any, name: str = "components") -> np.ndarray:  # noqa: ANN401
    """Checked components as given, condensed, float64 (n_components, n_pairs)."""
    components = _unwrapped(components)
    rdm_stack(components, name)  # the checks, with messages naming the argument
    array = real_numpy(components, name, "condensed or square component RDMs")
    if array.ndim == 1:
        return array[None, :].copy()
    if array.ndim == 3:
        rows, columns = np.triu_indices(array.shape[1], 1)
        return array[:, rows, columns]
    return array.copy()


def _n_stimuli(n_pairs: int) -> int:
    return int(round((1 + np.sqrt(1 + 8 * n_pairs)) / 2))


class WeightedRDMModel(BaseEstimator):
    """A model RDM that is a weighted sum of component RDMs, fitted to data RDMs.

    ``fit(components, rdms)`` learns the weights of the components that best
    match the data RDMs of all subjects under the comparison ``method``, as
    :func:`~skrep.functional.rdm_weights.fit_rdm_weights` (rsatoolbox's
    ``ModelWeighted`` fitted with ``fit_regress_nn`` or ``fit_regress``);
    ``predict`` gives the model RDM, and ``score(components, rdms)`` is its
    mean comparison with held-out data RDMs (other subjects, and with
    ``stimuli=`` or the components of other stimuli, other stimuli), higher
    is better.

    The components and the data RDMs are condensed RDMs, stacks of square
    ones, or :class:`~skrep.metrics.DataRDMs`. With DataRDMs on both sides,
    scikit-learn's cross-validation splits the stimuli of both:
    ``cross_validate(WeightedRDMModel(), DataRDMs(components),
    DataRDMs(rdms), cv=KFold(3))`` fits on the RDMs of the training stimuli
    and scores on those of the test stimuli. For folds over subjects and
    stimuli together, as rsatoolbox's ``crossval``, see
    :func:`~skrep.functional.rdm_weights.crossvalidate_rdm_model`.

    Parameters
    ----------
    method : str, default="cosine"
        The comparison fitted and scored: "cosine", "corr" (or "pearson"),
        "cosine_cov" or "corr_cov".
    nonnegative : bool, default=True
        Constrain the weights to be >= 0 (non-negative least squares).
    normalize : bool, default=True
        Scale the weights to Euclidean norm 1 (as rsatoolbox returns them).
    ridge_weight : float, default=0.0
        A ridge penalty on the weights (rsatoolbox's ``ridge_weight``).

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
        The fitted weights.
    components_ : ndarray of shape (n_components, n_pairs)
        The components given to ``fit`` (all their stimuli), condensed.
    n_components_ : int
        The number of components.
    n_stimuli_ : int
        The number of stimuli of the components given to ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep.metrics.rdm_model import WeightedRDMModel
    >>> rng = np.random.default_rng(0)
    >>> components = rng.random((2, 45))
    >>> rdms = 2.0 * components[0] + components[1] + 0.01 * rng.random((4, 45))
    >>> model = WeightedRDMModel(method="corr").fit(components, rdms[:3])
    >>> model.predict().shape
    (45,)
    >>> round(model.score(components, rdms[3:]), 2)
    1.0
    """

    def __init__(
        self,
        method: str = "cosine",
        nonnegative: bool = True,
        normalize: bool = True,
        ridge_weight: float = 0.0,
    ) -> None:
        self.method = method
        self.nonnegative = nonnegative
        self.normalize = normalize
        self.ridge_weight = ridge_weight

    def __sklearn_tags__(self) -> Any:  # noqa: ANN401
        """Tags: ``fit`` needs the data RDMs (scikit-learn's y)."""
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags

    def _check_params(self) -> str:
        method = check_weight_method(self.method, _OWNER)
        check_bool(self.nonnegative, "nonnegative", _OWNER)
        check_bool(self.normalize, "normalize", _OWNER)
        check_ridge_weight(self.ridge_weight, _OWNER)
        return method

    def fit(
        self, components: ArrayLike, rdms: ArrayLike, stimuli: ArrayLike | None = None
    ) -> WeightedRDMModel:
        """Fit the weights of the components to the data RDMs.

        Parameters
        ----------
        components : array-like of shape (n_components, n_pairs) or (n_components, n, n)
            The component RDMs (condensed, square, or a DataRDMs).
        rdms : array-like of shape (n_subjects, n_pairs) or (n_subjects, n, n)
            The data RDMs over the same stimuli (condensed, square, or a
            DataRDMs).
        stimuli : array-like of int or bool, default=None
            Fit on these stimuli only (indices or a mask, applied to both).

        Returns
        -------
        WeightedRDMModel
            The fitted estimator.
        """
        self._check_params()
        components, rdms = _unwrapped(components), _unwrapped(rdms)
        self.weights_ = fit_rdm_weights(
            components,
            rdms,
            self.method,
            self.nonnegative,
            self.normalize,
            stimuli=stimuli,
            ridge_weight=self.ridge_weight,
        )
        self.components_ = _condensed_components(components)
        self.n_components_ = self.components_.shape[0]
        self.n_stimuli_ = _n_stimuli(self.components_.shape[1])
        return self

    def predict(
        self, components: ArrayLike | None = None, stimuli: ArrayLike | None = None
    ) -> np.ndarray:
        """The model RDM: the weighted sum of the components.

        Parameters
        ----------
        components : array-like of shape (n_components, n_pairs) or (n_components, n, n), \
default=None
            Components over any stimuli (e.g. held-out ones), in the order
            fitted; None: those given to ``fit``.
        stimuli : array-like of int or bool, default=None
            Predict for these stimuli of the components only.

        Returns
        -------
        ndarray of shape (n_pairs,)
            The model RDM, condensed (see
            :func:`~skrep.functional.condensed_to_square`).
        """
        check_is_fitted(self, "weights_")
        vectors = self.components_ if components is None else _condensed_components(components)
        if vectors.shape[0] != self.n_components_:
            raise ValueError(
                f"components holds {vectors.shape[0]} component RDMs, but {_OWNER} was fitted "
                f"with {self.n_components_}; expected the same components (over any stimuli)."
            )
        if stimuli is not None:
            n = _n_stimuli(vectors.shape[1])
            vectors = vectors[:, pair_positions(check_stimuli(stimuli, n), n)]
        return self.weights_ @ vectors

    def score(
        self,
        components: ArrayLike | None,
        rdms: ArrayLike,
        stimuli: ArrayLike | None = None,
    ) -> float:
        """Mean comparison of the model RDM with (held-out) data RDMs.

        Parameters
        ----------
        components : array-like of shape (n_components, n_pairs) or (n_components, n, n), or None
            The components over the stimuli of ``rdms`` (None: those given to
            ``fit``).
        rdms : array-like of shape (n_subjects, n_pairs) or (n_subjects, n, n)
            Data RDMs (e.g. of held-out subjects), over the same stimuli as
            ``components``.
        stimuli : array-like of int or bool, default=None
            Compare on these stimuli only (e.g. held-out ones; applied to both).

        Returns
        -------
        float
            The mean over the data RDMs of the ``method`` comparison (higher
            is better), as rsatoolbox's ``crossval`` averages a test fold.
        """
        check_is_fitted(self, "weights_")
        method = self._check_params()
        prediction = self.predict(components, stimuli)
        data, _ = rdm_stack(_unwrapped(rdms), "rdms")
        n_pairs = prediction.size if stimuli is None else self.predict(components).size
        if data.shape[1] != n_pairs:
            raise ValueError(
                f"rdms are RDMs of {_n_stimuli(data.shape[1])} stimuli but the components of "
                f"{_n_stimuli(n_pairs)}; expected RDMs over the same stimuli."
            )
        if stimuli is not None:
            n = _n_stimuli(n_pairs)
            data = data[:, pair_positions(check_stimuli(stimuli, n), n)]
        try:
            comparisons = compare_rdms(prediction, data, method)
        except UndefinedComparisonError as error:
            message = str(error).replace("RDM 0 of rdms_a", "The model RDM")
            raise UndefinedComparisonError(message.replace("rdms_b", "rdms")) from error
        return float(np.mean(comparisons))
