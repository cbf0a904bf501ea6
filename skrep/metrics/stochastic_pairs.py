"""The many-networks protocol of the stochastic shape metrics, on per-network summaries.

A mixin of :class:`skrep.metrics.stochastic_base.StochasticMetric`: every
network is validated and summarised once (class statistics for the Gaussian
metric, a response stack for the energy metric), and the pairs of a block
are fitted together through the subclass's ``_fit_many_summaries``, which
batches the alignment work over them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._array import convert_like, floating_dtype, get_namespace, move_to_device
from .._typing import ArrayLike
from .._validation import check_equal_widths
from ..engine.protocol import PreparedData
from ..functional.batched import PreparedNetwork

__all__ = ["StochasticPairwise"]


class StochasticPairwise:
    """Engine hooks (``pairwise_*``) shared by the stochastic metrics.

    The class using it supplies ``_check_params``, ``_read``, ``_summarise``,
    ``_summary_width``, ``_pad_summary``, ``_fit_summaries``,
    ``_fit_many_summaries`` (by default one fit per pair), ``_pair_bytes``,
    ``_distance_summaries`` and the ``device`` and ``zero_pad`` parameters.
    """

    # Each unordered pair once, mirrored, as netrep's pairwise_distances does.
    pairwise_symmetric = True

    # -- many networks ---------------------------------------------------------------
    def pairwise_validate(
        self,
        Xs: Sequence[ArrayLike | tuple[ArrayLike, ArrayLike]],
        Xs_test: Sequence[ArrayLike | tuple[ArrayLike, ArrayLike]] | None,
        names: Sequence[str],
        test_names: Sequence[str],
    ) -> tuple[list[Any], list[Any]]:
        """Validate and place every network's responses, in one namespace and dtype.

        Parameters
        ----------
        Xs : sequence of arrays or (means, covariances) tuples
            Training responses of every network in the job, in any accepted form.
        Xs_test : sequence or None
            Their held-out responses.
        names, test_names : sequence of str
            Names for messages.

        Returns
        -------
        trains, tests : lists of validated responses
            On the compute device and in one dtype (``tests`` holds None
            entries when ``Xs_test`` is None).
        """
        self._check_params()
        trains = [self._read(X, name) for X, name in zip(Xs, names, strict=True)]
        tests = [None] * len(trains)
        if Xs_test is not None:
            tests = [self._read(X, name) for X, name in zip(Xs_test, test_names, strict=True)]
        for group, labels in ((trains, names), (tests if Xs_test is not None else [], test_names)):
            for responses, label in zip(group, labels, strict=False):
                if responses.n_classes != group[0].n_classes:
                    raise ValueError(
                        f"{label} has {responses.n_classes} classes but {labels[0]} has "
                        f"{group[0].n_classes}; expected every network's responses to the "
                        "same stimulus classes, in the same order."
                    )
        for responses, held_out, name, test_name in zip(
            trains, tests, names, test_names, strict=True
        ):
            if held_out is not None and held_out.n_features != responses.n_features:
                raise ValueError(
                    f"{test_name} has {held_out.n_features} features but {name} has "
                    f"{responses.n_features}; expected the held-out responses of each "
                    "network to have its training width."
                )
        reference = move_to_device(trains[0].arrays[0], self.device)
        xp = get_namespace(reference)
        placed = [
            None
            if r is None
            else r.map(lambda a: convert_like(move_to_device(a, self.device), reference))
            for r in (*trains, *tests)
        ]
        dtype = floating_dtype(xp, *[a for r in placed if r is not None for a in r.arrays])
        placed = [None if r is None else r.map(lambda a: xp.astype(a, dtype)) for r in placed]
        return placed[: len(trains)], placed[len(trains) :]

    def pairwise_prepare(self, X: Any, X_test: Any, name: str, test_name: str) -> PreparedNetwork:
        """Per-network work: the class statistics (Gaussian) or the response stack (energy).

        Parameters
        ----------
        X : validated responses
            One network's training responses, from :meth:`pairwise_validate`.
        X_test : validated responses or None
            Its held-out responses.
        name, test_name : str
            Their names, for messages.

        Returns
        -------
        PreparedNetwork
            The summaries of ``X`` and ``X_test``.
        """
        # Per network, once: class statistics (Gaussian) or the response stack
        # (energy). Zero padding to a wider partner is applied to these per pair.
        return PreparedNetwork(
            self._summarise(X), None if X_test is None else self._summarise(X_test), None, None
        )

    def pairwise_block(
        self,
        nets_a: Sequence[PreparedNetwork],
        nets_b: Sequence[PreparedNetwork],
        pairs: Sequence[tuple[int, int]],
        *,
        same_block: bool,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Distances of a block of pairs: one alignment fitted per pair on the summaries.

        Parameters
        ----------
        nets_a, nets_b : sequence of PreparedNetwork
            The networks of the block.
        pairs : sequence of (int, int)
            Index into ``nets_a`` and ``nets_b`` of each pair.
        same_block : bool
            Unused here.

        Returns
        -------
        train : ndarray of shape (n_pairs,)
            Distances on the training responses.
        test : ndarray of shape (n_pairs,) or None
            Distances on the held-out responses, with the training alignment.
        """
        has_test = nets_a[0].test is not None
        train, test = np.zeros(len(pairs)), np.zeros(len(pairs))
        widths = [
            max(self._summary_width(nets_a[a].train), self._summary_width(nets_b[b].train))
            for a, b in pairs
        ]
        # Pairs of one padded width are fitted together (the Gaussian fit
        # batches its linear algebra over them).
        for width in sorted(set(widths)):
            ks = [k for k, w in enumerate(widths) if w == width]
            fits = self._fit_many_summaries(
                [self._pad_summary(nets_a[pairs[k][0]].train, width) for k in ks],
                [self._pad_summary(nets_b[pairs[k][1]].train, width) for k in ks],
            )
            for k, (alignment, distance, _) in zip(ks, fits, strict=True):
                train[k] = distance
                if has_test:
                    a, b = pairs[k]
                    test[k] = self._distance_summaries(
                        self._pad_summary(nets_a[a].test, width),
                        self._pad_summary(nets_b[b].test, width),
                        alignment,
                    )
        return train, (test if has_test else None)

    def pairwise_block_size(self, networks: Sequence[PreparedData], budget_bytes: int) -> int:
        """Most networks per block whose pairs' fits run together within ``budget_bytes``.

        All the pairs of a block are fitted in lockstep (one batched
        decomposition per step for all of them, where pair-by-pair fits spend
        most of their time in Python), so blocks are as large as memory allows.

        Parameters
        ----------
        networks : sequence of PreparedData
            The validated networks.
        budget_bytes : int
            Working memory per task.

        Returns
        -------
        int
            Networks per block (at least 4).
        """
        n_classes = max(net.train.n_classes for net in networks)
        width = max(net.train.n_features for net in networks)
        n_repeats = max(
            net.train.arrays[0].shape[1] if net.train.kind == "repeats" else 1 for net in networks
        )
        pairs = budget_bytes // max(self._pair_bytes(n_classes, n_repeats, width), 1)
        return max(4, math.isqrt(2 * pairs))

    @staticmethod
    def _pair_bytes(n_classes: int, n_repeats: int, width: int) -> int:
        """Working memory of one pair's fit (bytes), for the block size."""
        raise NotImplementedError

    def _fit_many_summaries(self, xs: list[Any], ys: list[Any]) -> list[tuple]:
        """:meth:`_fit_summaries` of every pair ``(xs[k], ys[k])`` (one by one here)."""
        return [self._fit_summaries(x, y) for x, y in zip(xs, ys, strict=True)]

    def pairwise_check(self, networks: Sequence[PreparedNetwork], names: Sequence[str]) -> None:
        """Reject networks of unequal widths when ``zero_pad`` is False.

        Parameters
        ----------
        networks : sequence of PreparedNetwork
            The prepared networks.
        names : sequence of str
            Their names, for messages.
        """
        if not self.zero_pad:
            widths = [self._summary_width(net.train) for net in networks]
            check_equal_widths(widths, names, type(self).__name__)
