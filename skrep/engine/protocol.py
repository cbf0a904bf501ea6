"""How a measure plugs into the many-networks engine.

The engine (:func:`skrep.engine.compute_pairs`) computes one measure between
many networks: every pair of one collection (a K x K matrix) or every network
of one collection against every network of another. It owns the scheduling,
the validation of collections, the device moves, the parallel execution, the
progress bar and the cache; the measure owns its math, through
:class:`PairwiseMeasure`: **prepare one network** (once per network, never
once per pair) and **compute one block of pairs** (a task that may run in
another process or on another machine).

Every skrep estimator is a :class:`PairwiseMeasure`: the defaults below fit a
copy of the estimator on each pair, and the measures with a batched form
(LinearMetric, PermutationMetric, CKA, the CCA family, ...) override
:meth:`~PairwiseMeasure.pairwise_prepare` and
:meth:`~PairwiseMeasure.pairwise_block`. Any other estimator with ``fit``
and ``score``, and any function ``f(X, Y) -> float``, is wrapped by
:class:`EstimatorMeasure` or :class:`FunctionMeasure`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
from sklearn.base import clone

from .._typing import Array, Device
from .networks import validate_networks

__all__ = [
    "PairwiseMeasure",
    "PreparedData",
    "EstimatorMeasure",
    "FunctionMeasure",
    "fit_each_pair",
    "pair_values",
    "DEFAULT_BLOCK_SIZE",
]

#: Networks per block of pairs for measures that compute pair by pair.
DEFAULT_BLOCK_SIZE = 4

KINDS = ("distance", "similarity")


class PreparedData(NamedTuple):
    """One network's data after the per-network step of a pair-by-pair measure.

    Parameters
    ----------
    train : array
        Training data (preprocessed, when the measure has a preprocessor).
    test : array or None
        Held-out data, transformed like the training data.
    """

    train: Any
    test: Any


class PairwiseMeasure:
    """The protocol of measures that the engine computes for many pairs.

    The engine calls, in this order:

    1. ``pairwise_validate(Xs, Xs_test, names, test_names)`` once, on every
       network of the job, to check the inputs and bring them to one
       namespace, device and dtype;
    2. ``pairwise_prepare(X, X_test, name, test_name)`` once per network;
    3. ``pairwise_check(networks, names)`` once, on the prepared networks;
    4. ``pairwise_block_size(networks, budget_bytes)`` once, to size blocks;
    5. ``pairwise_block(nets_a, nets_b, pairs, same_block=...)`` per block of
       pairs, possibly in another process: it must depend only on its
       arguments and on the measure's parameters.

    Subclasses must implement 2 and 5; 1, 3 and 4 have defaults. Two class
    attributes describe the values: :attr:`pairwise_kind` and
    :attr:`pairwise_symmetric`.

    Attributes
    ----------
    pairwise_kind : {"distance", "similarity"}
        What ``pairwise_block`` returns. For distances the engine takes the
        distance of a network to itself as 0 without computing it.
    pairwise_symmetric : bool
        Whether the measure of (A, B) equals that of (B, A); if so, a K x K
        matrix computes each unordered pair once.
    """

    pairwise_kind = "similarity"
    pairwise_symmetric = False
    #: Fewest training rows a network may have.
    pairwise_min_samples = 2
    #: Fewest held-out rows a network may have.
    pairwise_min_test_samples = 1
    #: Whether every network is cast to one floating dtype before preparation.
    pairwise_common_dtype = True

    def pairwise_validate(
        self,
        Xs: Sequence,
        Xs_test: Sequence | None,
        names: Sequence[str],
        test_names: Sequence[str],
    ) -> tuple[list, list]:
        """Validate every network and place them all (default: 2-D representations).

        Parameters
        ----------
        Xs : sequence
            The training data of every network in the job.
        Xs_test : sequence or None
            Their held-out data, in the same order, or None.
        names, test_names : sequence of str
            Names of the networks and of their held-out data, for messages.

        Returns
        -------
        trains, tests : lists
            The validated inputs in the compute namespace, on the device and
            in one dtype (``tests`` holds None entries without held-out data).
        """
        return validate_networks(
            Xs,
            Xs_test,
            names,
            test_names,
            device=getattr(self, "device", None),
            min_samples=self.pairwise_min_samples,
            min_test_samples=self.pairwise_min_test_samples,
            common_dtype=self.pairwise_common_dtype,
        )

    def pairwise_prepare(self, X: Any, X_test: Any, name: str, test_name: str) -> Any:
        """The per-network work, done once per network.

        Parameters
        ----------
        X : array
            One network's validated training data.
        X_test : array or None
            Its validated held-out data.
        name, test_name : str
            Their names, for messages.

        Returns
        -------
        object
            Anything picklable that :meth:`pairwise_block` understands.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement pairwise_prepare.")

    def pairwise_check(self, networks: Sequence, names: Sequence[str]) -> None:
        """Reject prepared networks that cannot be paired (default: accept all).

        Parameters
        ----------
        networks : sequence
            The prepared networks.
        names : sequence of str
            Their names, for messages.
        """

    def pairwise_block_size(self, networks: Sequence, budget_bytes: int) -> int:
        """Most networks per block whose working memory fits ``budget_bytes``.

        Parameters
        ----------
        networks : sequence
            The prepared networks.
        budget_bytes : int
            Working memory allowed per task (scikit-learn's ``working_memory``).

        Returns
        -------
        int
            At least 1; the default is :data:`DEFAULT_BLOCK_SIZE`.
        """
        return DEFAULT_BLOCK_SIZE

    def pairwise_block(
        self, nets_a: Sequence, nets_b: Sequence, pairs: Sequence, *, same_block: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The measure for a block of pairs of prepared networks.

        Parameters
        ----------
        nets_a, nets_b : sequence
            Prepared networks (``nets_b is nets_a`` when ``same_block``).
        pairs : sequence of (int, int)
            Index into ``nets_a`` and into ``nets_b`` of each pair.
        same_block : bool
            Both sides are the same networks.

        Returns
        -------
        train : ndarray of shape (n_pairs,)
            The measure on the training data of each pair.
        test : ndarray of shape (n_pairs,) or None
            The measure on the held-out data (fitted on the training data);
            None when the networks have no held-out data.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement pairwise_block.")


def fit_each_pair(
    estimator: Any,
    nets_a: Sequence,
    nets_b: Sequence,
    pairs: Sequence,
    value: Callable[[Any, Any, Any], float],
) -> tuple[np.ndarray, np.ndarray | None]:
    """Fit a clone of ``estimator`` on each pair and measure it: the pair-by-pair block.

    Parameters
    ----------
    estimator : estimator with ``fit(X, Y)``
        Cloned (unfitted) for each pair.
    nets_a, nets_b : sequence of PreparedData
        The networks of the block.
    pairs : sequence of (int, int)
        Index into ``nets_a`` and into ``nets_b`` of each pair.
    value : callable
        ``value(fitted, A, B) -> float``: the measure of a fitted estimator on
        a pair of arrays (training data, then held-out data).

    Returns
    -------
    train : ndarray of shape (n_pairs,)
        The values on the training data.
    test : ndarray of shape (n_pairs,) or None
        The values on the held-out data (None without held-out data).
    """
    has_test = bool(nets_a) and nets_a[0].test is not None
    train, test = np.zeros(len(pairs)), np.zeros(len(pairs))
    for k, (a, b) in enumerate(pairs):
        fitted = clone(estimator).fit(nets_a[a].train, nets_b[b].train)
        train[k] = value(fitted, nets_a[a].train, nets_b[b].train)
        if has_test:
            test[k] = value(fitted, nets_a[a].test, nets_b[b].test)
    return train, (test if has_test else None)


def pair_values(
    nets_a: Sequence, nets_b: Sequence, pairs: Sequence, function: Callable[[Any, Any], float]
) -> tuple[np.ndarray, np.ndarray | None]:
    """A pair function on the prepared training data of each pair, and on the held-out data.

    The block of every measure whose per-network step prepares something
    (a basis, neighbour sets...) and whose per-pair step is a function of two
    prepared things.

    Parameters
    ----------
    nets_a, nets_b : sequence of PreparedData
        Prepared networks (``.train`` and ``.test``, or None without
        held-out data).
    pairs : sequence of (int, int)
        Index into ``nets_a`` and into ``nets_b`` of each pair.
    function : callable
        ``function(prepared_a, prepared_b) -> float``.

    Returns
    -------
    train : ndarray of shape (n_pairs,)
        The values on the training data.
    test : ndarray of shape (n_pairs,) or None
        The values on the held-out data (None without held-out data).
    """
    train = np.array([float(function(nets_a[a].train, nets_b[b].train)) for a, b in pairs])
    if nets_a[0].test is None:
        return train, None
    test = np.array([float(function(nets_a[a].test, nets_b[b].test)) for a, b in pairs])
    return train, test


def _score(fitted: Any, A: Array, B: Array) -> float:
    return float(fitted.score(A, B))


class _DataAsGiven(PairwiseMeasure):
    """A measure with no per-network work: the data is kept as given."""

    def pairwise_prepare(
        self, X: Array, X_test: Array | None, name: str, test_name: str
    ) -> PreparedData:
        """Keep the data as it is.

        Parameters
        ----------
        X : array
            Training data.
        X_test : array or None
            Held-out data.
        name, test_name : str
            Unused.

        Returns
        -------
        PreparedData
            The data as given.
        """
        return PreparedData(X, X_test)


class EstimatorMeasure(_DataAsGiven):
    """Any estimator with ``fit(X, Y)`` and ``score(X, Y)``, as a pairwise measure.

    Each pair is fitted on a clone of the estimator (on the training data)
    and scored on the training and held-out data; the values are its
    ``score`` (higher is better), so :attr:`pairwise_kind` is "similarity".

    Parameters
    ----------
    estimator : estimator
        Not modified.
    device : None, str or torch.device, default=None
        Move the data to this torch device first (None: leave it where it is).
    """

    def __init__(self, estimator: Any, device: Device = None) -> None:
        self.estimator = estimator
        self.device = device

    def pairwise_block(
        self, nets_a: Sequence, nets_b: Sequence, pairs: Sequence, *, same_block: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Scores of the pairs, one clone fitted per pair (see :func:`fit_each_pair`).

        Parameters
        ----------
        nets_a, nets_b : sequence of PreparedData
            The networks of the block.
        pairs : sequence of (int, int)
            The pairs to compute.
        same_block : bool
            Unused.

        Returns
        -------
        train, test : ndarray or None
            The scores on the training and held-out data.
        """
        return fit_each_pair(self.estimator, nets_a, nets_b, pairs, _score)


class FunctionMeasure(_DataAsGiven):
    """A function ``f(X, Y) -> float`` as a pairwise measure.

    The function is called on the training data of each pair and, with
    held-out data, on the held-out data (nothing is fitted). Its values are
    taken as similarities.

    Parameters
    ----------
    function : callable
        ``f(X, Y) -> float``; it must be picklable to run in other processes.
    symmetric : bool, default=False
        Whether ``f(X, Y) == f(Y, X)`` (then each unordered pair is computed once).
    device : None, str or torch.device, default=None
        Move the data to this torch device first (None: leave it where it is).
    """

    def __init__(
        self, function: Callable[[Any, Any], float], symmetric: bool = False, device: Device = None
    ) -> None:
        self.function = function
        self.pairwise_symmetric = bool(symmetric)
        self.device = device

    def pairwise_block(
        self, nets_a: Sequence, nets_b: Sequence, pairs: Sequence, *, same_block: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The function's value on each pair.

        Parameters
        ----------
        nets_a, nets_b : sequence of PreparedData
            The networks of the block.
        pairs : sequence of (int, int)
            The pairs to compute.
        same_block : bool
            Unused.

        Returns
        -------
        train, test : ndarray or None
            The values on the training and held-out data.
        """
        return pair_values(nets_a, nets_b, pairs, self.function)
