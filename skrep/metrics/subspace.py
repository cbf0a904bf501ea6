"""SubspaceOverlap: how much of Y's variance lies in X's principal subspace.

The cross-validatable form of the PCA cross-variance analysis in
:mod:`skrep.functional.subspace` (Driscoll et al. 2024): ``fit`` learns the
top principal components of X, ``score`` returns the fraction of Y's variance
that they capture, on held-out rows when used in ``cross_validate``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted, validate_data

from .._array import convert_like, get_namespace, move_to_device
from .._typing import Array, ArrayLike, Device
from .._validation import (
    _plural,
    _shape_str,
    check_device,
    check_n_features,
    check_paired_samples,
    check_representation,
)
from ..exceptions import InvalidParameterError
from ..functional.subspace import (
    as_common_float,
    captured_variance_fraction,
    check_n_components,
    check_same_features,
    labels_for_message,
    principal_components_of_validated,
    split_group_labels,
    take_rows,
)
from ._keyword_y import KeywordYMixin

if TYPE_CHECKING:
    from sklearn.utils import Tags

__all__ = ["SubspaceOverlap"]


def _like_fitted(A: Array, fitted: Array) -> Array:
    """``A`` in the namespace, on the device and in the dtype of a fitted array."""
    A = convert_like(A, fitted)
    return get_namespace(A).astype(A, fitted.dtype, copy=False)


class SubspaceOverlap(KeywordYMixin, BaseEstimator):
    """Fraction of Y's variance captured by the top principal components of X.

    ``fit(X, Y)`` finds X's leading principal components (X is the basis data,
    e.g. one task condition); ``score(X, Y)`` is the fraction of Y's variance
    (the target data, e.g. another condition, about its own mean) that lies in
    their span: 1 when Y varies only within X's principal subspace, near 0
    when it is orthogonal to it. With the same number of components, it is the
    last point of the cross-variance curve ``cev_Y`` of
    :func:`skrep.functional.pca_cross_variance` (Driscoll et al. 2024). In
    ``cross_validate`` the components come from the training rows of X and the
    fraction is measured on the held-out rows of Y.

    Parameters
    ----------
    n_components : int, float or None, default=None
        Number of components of X: an int, a float in (0, 1) (the fewest
        components explaining that fraction of X's variance, as in
        :class:`sklearn.decomposition.PCA`), or None for all of them,
        ``min(n_samples - 1, n_features)`` (the rank of centered X at most; PCA
        and :func:`~skrep.functional.pca_cross_variance` keep
        ``min(n_samples, n_features)``, whose last is an arbitrary direction
        outside X's span when ``n_samples <= n_features``).
    device : None, str or torch.device, default=None
        Where to compute: None computes where the data is (numpy stays numpy),
        anything else (``"cpu"``, ``"cuda"``) moves the data to a torch tensor
        on that device.
    paired : bool, default=True
        Whether the rows of X and Y are paired (the same stimuli or trials),
        as the estimator contract and ``cross_validate`` have them: ``fit``
        and ``score`` then refuse X and Y with different numbers of rows (an
        off-by-one is a mistake, not a result). False accepts two data sets
        of different lengths, e.g. two task conditions, whose rows the
        measure never pairs.

    Attributes
    ----------
    mean_ : array of shape (n_features,)
        Mean of X (without ``groups``).
    components_ : array of shape (n_components, n_features)
        Orthonormal principal axes of X, by decreasing variance (without
        ``groups``).
    explained_variance_ratio_ : ndarray of shape (n_components,)
        Share of X's variance along each component (without ``groups``).
    n_components_ : int or ndarray of shape (n_groups,)
        Components kept (one count per condition with ``groups``).
    groups_ : ndarray of shape (n_groups,) or None
        Condition labels fitted separately, or None without ``groups``.
    group_means_, group_components_ : list of arrays
        Mean and principal axes of X within each condition of ``groups_``.
    n_features_in_ : int
        Number of features (units) of X and of Y.

    See Also
    --------
    skrep.functional.pca_cross_variance : The full curves and participation ratios.
    skrep.functional.principal_angles : Angles between the two principal subspaces.

    Notes
    -----
    X and Y must live in the same feature space (the same units, in the same
    order). The measure itself never pairs their rows; with ``paired=False``
    ``fit`` and ``score`` accept different numbers of rows in X and Y (a pair
    ``(groups_x, groups_y)`` then labels each), while ``cross_validate``
    splits them together and so needs equal numbers.

    Data at extreme scales (around 1e300 or 1e-300) are divided by a power of
    two before their squares are formed; the fraction does not depend on it.

    The stratified variant (the script's direction-averaged analysis) fits X's
    components within each condition label and averages the fractions over
    conditions: pass ``groups`` to ``fit`` and ``score``. Within each condition
    the number of components is reduced to ``min(n_components,
    n_rows - 1, n_features)`` (rows of X in that condition; the script's
    function also caps it by Y's rows, which ``fit`` does not see). In ``cross_validate`` the
    labels reach ``fit`` and ``score`` through scikit-learn's metadata routing::

        sklearn.set_config(enable_metadata_routing=True)
        overlap = SubspaceOverlap(5).set_fit_request(groups=True).set_score_request(groups=True)
        cross_validate(overlap, X, Y, params={"groups": labels})

    Examples
    --------
    >>> import numpy as np
    >>> from skrep import SubspaceOverlap
    >>> rng = np.random.default_rng(0)
    >>> basis = rng.standard_normal((3, 20))
    >>> X = rng.standard_normal((200, 3)) @ basis
    >>> Y = rng.standard_normal((200, 3)) @ basis + 0.01 * rng.standard_normal((200, 20))
    >>> round(SubspaceOverlap(n_components=3).fit(X, Y).score(X, Y), 3)
    1.0
    """

    def __init__(
        self,
        n_components: int | float | None = None,
        device: Device = None,
        *,
        paired: bool = True,
    ):
        self.n_components = n_components
        self.device = device
        self.paired = paired

    def _validate_pair(
        self, X: ArrayLike, Y: ArrayLike | None, *, reset: bool
    ) -> tuple[Array, Array]:
        name = type(self).__name__
        X_checked = check_representation(X, "X", min_samples=2 if reset else 1)
        validate_data(self, X, reset=reset, skip_check_array=True)
        if Y is None:
            raise ValueError(
                f"{name} requires y to be passed, but the target y is None: Y is the "
                "target data, an array of shape (n_samples, n_features) in X's feature "
                "space."
            )
        Y_checked = check_representation(Y, "Y", min_samples=2)
        if self.paired:
            try:
                check_paired_samples(X_checked, Y_checked)
            except ValueError as exc:
                raise ValueError(
                    f"{exc} {name}(paired=True) compares rows of X and Y that are the same "
                    "stimuli; pass paired=False for two data sets of different lengths."
                ) from exc
        check_same_features(X_checked, Y_checked)
        if not reset:
            check_n_features(Y_checked, self.n_features_in_, "Y", name)
        X_checked = move_to_device(X_checked, self.device)
        return as_common_float(X_checked, move_to_device(Y_checked, self.device))

    def fit(
        self,
        X: ArrayLike,
        Y: ArrayLike,
        groups: ArrayLike | tuple[ArrayLike, ArrayLike] | None = None,
    ) -> SubspaceOverlap:
        """Learn the principal components of X (within each condition with ``groups``).

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples_x, n_features)
            Basis data, one row per sample.
        Y : array-like or torch.Tensor of shape (n_samples_y, n_features)
            Target data in the same feature space (checked here, used by
            :meth:`score`).
        groups : array-like of shape (n_samples_x,) or a pair (groups_x, groups_y), default=None
            Condition label of each row: the components are then fitted within
            each condition.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._clear_fitted_state()
        try:
            name = type(self).__name__
            check_n_components(self.n_components, name)
            check_device(self.device, name)
            if not isinstance(self.paired, (bool, np.bool_)):
                raise InvalidParameterError(
                    f"The 'paired' parameter of {name} must be True or False; got {self.paired!r}."
                )
            X, Y = self._validate_pair(X, Y, reset=True)
            if groups is None:
                self._fit_pooled(X)
            else:
                self._fit_groups(X, split_group_labels(groups, X.shape[0], Y.shape[0])[0])
        except BaseException:
            self._clear_fitted_state()  # a failed fit leaves the estimator unfitted
            raise
        return self

    def _clear_fitted_state(self) -> None:
        """Forget a previous fit (pooled or grouped): every attribute ending in ``_``."""
        for attribute in [a for a in vars(self) if a.endswith("_") and not a.startswith("_")]:
            delattr(self, attribute)

    def _limit(self, n_rows: int, n_features: int) -> int:
        return min(n_rows - 1, n_features)

    def _fit_pooled(self, X: Array) -> None:
        limit = self._limit(*X.shape)
        if isinstance(self.n_components, (int, np.integer)) and self.n_components > limit:
            raise ValueError(
                f"n_components={self.n_components} is larger than X supports: X has shape "
                f"{_shape_str(X.shape)}, so centered X has at most min(n_samples - 1, "
                f"n_features) = {limit} principal components; expected a smaller "
                "n_components."
            )
        n_components = limit if self.n_components is None else self.n_components
        pca = principal_components_of_validated(X, n_components, "X")
        k = min(pca.components.shape[0], limit)
        self.mean_ = pca.mean
        self.components_ = pca.components[:k, :]
        self.explained_variance_ratio_ = pca.explained_variance_ratio[:k]
        self.n_components_ = k
        self.groups_ = None

    def _fit_groups(self, X: Array, labels: np.ndarray) -> None:
        xp = get_namespace(X)
        kept, means, components, counts = [], [], [], []
        for label in np.unique(labels):
            X_g = take_rows(X, labels == label, xp)
            if X_g.shape[0] < 2:
                continue
            limit = self._limit(*X_g.shape)
            n_components = self.n_components
            if n_components is None or isinstance(n_components, (int, np.integer)):
                n_components = min(n_components or limit, limit)
            try:
                pca = principal_components_of_validated(X_g, n_components, "X")
            except ValueError as exc:
                raise ValueError(f"In the condition labelled {label.item()!r}: {exc}") from exc
            k = min(pca.components.shape[0], limit)
            kept.append(label)
            means.append(pca.mean)
            components.append(pca.components[:k, :])
            counts.append(k)
        if not kept:
            raise ValueError(
                "groups leaves no condition with at least 2 rows of X; expected condition "
                f"labels shared by several rows (got {_plural(len(labels), 'label')})."
            )
        self.groups_ = np.asarray(kept)
        self.group_means_ = means
        self.group_components_ = components
        self.n_components_ = np.asarray(counts)

    def score(
        self,
        X: ArrayLike,
        Y: ArrayLike,
        groups: ArrayLike | tuple[ArrayLike, ArrayLike] | None = None,
    ) -> float:
        """Fraction of Y's variance captured by X's fitted principal components.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples_x, n_features)
            Basis data (checked for its width; the components come from ``fit``).
        Y : array-like or torch.Tensor of shape (n_samples_y, n_features)
            Target data, e.g. held-out rows.
        groups : array-like of shape (n_samples_y,) or a pair (groups_x, groups_y), default=None
            Condition labels, required when ``fit`` had them: the fraction is
            then computed within each condition seen in ``fit`` (and with at
            least 2 rows of Y here) and averaged over conditions.

        Returns
        -------
        float
            Between 0 and 1; higher means more shared geometry.
        """
        check_is_fitted(self)
        X, Y = self._validate_pair(X, Y, reset=False)
        if self.groups_ is None:
            if groups is not None:
                raise ValueError(
                    "groups was passed to score, but the estimator was fitted without "
                    "groups; pass the same kind of groups to fit and score."
                )
            Y = _like_fitted(Y, self.components_)
            return captured_variance_fraction(Y, self.components_, "Y")
        if groups is None:
            raise ValueError(
                "The estimator was fitted with groups, so score needs the condition labels "
                "of Y too (in cross_validate, route them with "
                "set_score_request(groups=True) and params={'groups': labels})."
            )
        labels = split_group_labels(groups, X.shape[0], Y.shape[0])[1]
        fractions = []
        for label, components in zip(self.groups_, self.group_components_, strict=True):
            if np.count_nonzero(labels == label) < 2:
                continue
            Y_g = _like_fitted(take_rows(Y, labels == label, get_namespace(Y)), components)
            try:
                fractions.append(captured_variance_fraction(Y_g, components, "Y"))
            except ValueError as exc:
                raise ValueError(f"In the condition labelled {label.item()!r}: {exc}") from exc
        if not fractions:
            raise ValueError(
                "No condition fitted on X has at least 2 rows of Y in score (fitted "
                f"labels: {labels_for_message(self.groups_)}); expected shared labels."
            )
        return float(np.mean(fractions))

    def __sklearn_is_fitted__(self) -> bool:
        """Fitted once ``fit`` has set ``groups_`` (None without groups)."""
        return hasattr(self, "groups_")

    def __sklearn_tags__(self) -> Tags:
        """Tags: Y is a required, multi-output target; no NaN in the input."""
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True  # Y is the target data
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        tags.input_tags.allow_nan = False
        return tags
