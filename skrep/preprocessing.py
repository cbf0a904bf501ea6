"""RelativeRepresentation: cosine similarities to a set of anchors, as a transformer.

Relative representations (Moschella et al., ICLR 2023) describe each sample by
its similarity to a fixed set of anchor samples instead of by its raw
coordinates. The DeepJuice tutorial uses them with language queries as
anchors, so that each new feature reads "how much does this image resemble
[query]?", and then fits a regression on those features.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

import array_api_compat
import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ._array import convert_like, get_namespace, matrix_transpose, to_numpy
from ._typing import Array, ArrayLike, Namespace, RandomState
from ._validation import _plural, _shape_str, check_n_features, check_representation
from .exceptions import InvalidParameterError

if TYPE_CHECKING:
    from sklearn.utils import Tags

__all__ = ["RelativeRepresentation"]


def _unit_rows(A: Array, xp: Namespace) -> Array:
    """Rows scaled to unit Euclidean norm; all-zero rows stay zero (as in sklearn's normalize).

    Each row is divided by its largest magnitude first, so that the norms of
    rows near 1e300 (or 1e-300) neither overflow nor underflow.
    """
    largest = xp.max(xp.abs(A), axis=1, keepdims=True)
    A = A / xp.where(largest > 0, largest, xp.ones_like(largest))
    norms = xp.linalg.vector_norm(A, axis=1, keepdims=True)
    return A / xp.where(norms > 0, norms, xp.ones_like(norms))


def _check_nonzero_anchors(anchors: Array, given: bool) -> None:
    """Raise when given anchors hold an all-zero row, or when every anchor is all zeros.

    The cosine similarity to an all-zero anchor is undefined. Anchors drawn
    from the training samples (``anchors=None``) may include a few zero rows
    (their columns are zeros), but not only zero rows.
    """
    xp = get_namespace(anchors)
    zero = np.flatnonzero(to_numpy(xp.max(xp.abs(anchors), axis=1)) == 0.0)
    if not zero.size or (not given and zero.size < anchors.shape[0]):
        return
    where = f"row {int(zero[0])} of {'anchors' if given else 'X'}"
    raise ValueError(
        f"{_plural(zero.size, 'anchor')} of {anchors.shape[0]} (the first: {where}) "
        f"{'is' if zero.size == 1 else 'are'} all zeros, so {'its' if zero.size == 1 else 'their'} "
        "cosine similarity to every sample is undefined (it would be a column of zeros); "
        "expected anchors with a nonzero norm: drop the all-zero rows."
    )


class RelativeRepresentation(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Cosine similarity of each sample to a set of anchors.

    Maps ``X`` of shape (n_samples, n_features) to (n_samples, n_anchors),
    where entry ``(i, j)`` is the cosine similarity between sample ``i`` and
    anchor ``j`` (Moschella et al. 2023). The anchors are either given (e.g.
    embeddings of language queries, as in the DeepJuice tutorial) or drawn from
    the training samples; the transformer then fits in a
    :class:`~sklearn.pipeline.Pipeline`, for example before a ridge regression
    or :class:`~skrep.SubspaceOverlap`.

    Parameters
    ----------
    anchors : None, int or array-like of shape (n_anchors, n_features), default=None
        None uses every training sample as an anchor; an int draws that many
        training samples at random (without replacement, ``random_state``); an
        array gives the anchors themselves.
    random_state : int, RandomState instance or None, default=None
        Seed of the anchor draw when ``anchors`` is an int.

    Attributes
    ----------
    anchors_ : array of shape (n_anchors, n_features)
        The anchors, in the namespace of the training data.
    anchor_indices_ : ndarray of shape (n_anchors,) or None
        Rows of the training data used as anchors (None for given anchors).
    n_features_in_ : int
        Number of features of X.

    Notes
    -----
    Similarities are invariant to rescaling each sample or anchor, and to any
    rotation applied to both: two networks whose representations differ by a
    rotation and scale have the same relative representation, which is what
    makes it a common space across models. A sample of norm zero has
    similarity 0 to every anchor. Given anchors of norm zero are an error in
    ``fit`` (their direction is undefined; each would add a column of zeros);
    anchors drawn at random (an int) are drawn among the samples of nonzero
    norm; with ``anchors=None`` a zero training sample gives a column of zeros,
    and training data that are all zeros are an error.

    Examples
    --------
    >>> import numpy as np
    >>> from skrep import RelativeRepresentation
    >>> X = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    >>> RelativeRepresentation(anchors=np.eye(2)).fit_transform(X).round(3)
    array([[1.   , 0.   ],
           [0.   , 1.   ],
           [0.707, 0.707]])
    """

    def __init__(
        self, anchors: int | ArrayLike | None = None, random_state: RandomState = None
    ) -> None:
        self.anchors = anchors
        self.random_state = random_state

    def _choose_anchors(self, X: Array) -> tuple[Array, np.ndarray | None]:
        anchors = self.anchors
        if anchors is None:
            return get_namespace(X).asarray(X, copy=True), np.arange(X.shape[0])
        if isinstance(anchors, numbers.Integral) and not isinstance(anchors, (bool, np.bool_)):
            if not 1 <= anchors <= X.shape[0]:
                raise InvalidParameterError(
                    f"The 'anchors' parameter of RelativeRepresentation is {anchors}, but X "
                    f"has {X.shape[0]} samples; expected an int between 1 and the number of "
                    "training samples, an array of anchors, or None."
                )
            xp = get_namespace(X)
            # Drawn among the samples with a direction: a zero row would be a zero column.
            candidates = np.flatnonzero(to_numpy(xp.max(xp.abs(X), axis=1)) > 0)
            if anchors > candidates.size:
                raise ValueError(
                    f"anchors={anchors} samples are to be drawn from X, but only "
                    f"{candidates.size} of its {X.shape[0]} rows have a nonzero norm (the "
                    "others have no direction); expected anchors <= "
                    f"{candidates.size}."
                )
            rng = check_random_state(self.random_state)
            chosen = rng.choice(candidates.size, size=int(anchors), replace=False)
            indices = np.sort(candidates[chosen])
            return xp.take(X, xp.asarray(indices, device=array_api_compat.device(X)), axis=0), (
                indices
            )
        if isinstance(anchors, (str, bytes, numbers.Number)):
            raise InvalidParameterError(
                "The 'anchors' parameter of RelativeRepresentation must be None, an int or "
                f"an array of shape (n_anchors, n_features); got {anchors!r}."
            )
        given = check_representation(anchors, "anchors", min_samples=1)
        if given.shape[1] != X.shape[1]:
            raise ValueError(
                f"anchors has shape {_shape_str(given.shape)} but X has {X.shape[1]} "
                "features; expected anchors of shape (n_anchors, n_features) in X's space."
            )
        given = convert_like(given, X)
        if given is anchors:
            given = get_namespace(given).asarray(given, copy=True)  # not the parameter itself
        return given, None

    def fit(self, X: ArrayLike, y: object = None) -> RelativeRepresentation:
        """Choose the anchors.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, n_features)
            Training data, one row per sample.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        self._clear_fitted_state()
        try:
            X_checked = check_representation(X, "X", min_samples=1)
            validate_data(self, X, reset=True, skip_check_array=True)
            anchors, indices = self._choose_anchors(X_checked)
            _check_nonzero_anchors(anchors, given=indices is None)
        except BaseException:
            self._clear_fitted_state()  # a failed fit leaves the transformer unfitted
            raise
        self.anchors_, self.anchor_indices_ = anchors, indices
        return self

    def _clear_fitted_state(self) -> None:
        """Forget what a previous fit learned (attributes ending in ``_``)."""
        for attribute in [a for a in vars(self) if a.endswith("_") and not a.startswith("__")]:
            delattr(self, attribute)

    def transform(self, X: ArrayLike) -> Array:
        """Cosine similarity of each row of X to each anchor.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, n_features)
            Data in the space of the training data.

        Returns
        -------
        array of shape (n_samples, n_anchors)
            In X's array type (numpy in, numpy out; a torch tensor in, a torch
            tensor on the same device out).
        """
        check_is_fitted(self)
        X_checked = check_representation(X, "X", min_samples=1)
        validate_data(self, X, reset=False, skip_check_array=True)
        check_n_features(X_checked, self.n_features_in_, "X", type(self).__name__)
        anchors = convert_like(self.anchors_, X_checked)
        xp = get_namespace(X_checked)
        dtype = X_checked.dtype
        similarities = _unit_rows(X_checked, xp) @ matrix_transpose(
            _unit_rows(xp.astype(anchors, dtype), xp), xp
        )
        return similarities

    @property
    def _n_features_out(self) -> int:
        return self.anchors_.shape[0]

    def __sklearn_tags__(self) -> Tags:
        """Tags: no NaN in the input."""
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
