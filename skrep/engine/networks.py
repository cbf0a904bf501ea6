"""The inputs of the engine: collections of networks, validated and placed once.

A collection is a sequence of arrays (one per network or layer), a mapping
(its keys name the networks, in its order) or one array whose first axis runs
over networks. :func:`network_list` turns any of them into a list and the
names used in messages and results; :func:`validate_networks` checks 2-D
representations (rows paired across networks, held-out data as wide as its
training data) and brings them all to the compute namespace, device and one
dtype, as a single-pair fit does for X and Y.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np

from .._array import (
    convert_like,
    floating_dtype,
    get_namespace,
    is_foreign_array,
    move_to_device,
    zero_pad_columns,
)
from .._typing import Array
from .._validation import check_paired_samples, check_representation

__all__ = [
    "network_list",
    "validate_networks",
    "check_same_samples",
    "stacked_networks",
    "network_like",
]


def network_list(networks: object, arg_name: str) -> tuple[list, list[str], list[Hashable] | None]:
    """The networks of a collection, their names in messages, and their keys.

    Parameters
    ----------
    networks : sequence of arrays, mapping, or array with networks on its first axis
        The collection. A mapping's values are taken in its order and its
        keys name the networks.
    arg_name : str
        The argument that holds the collection, e.g. ``"Xs"``; networks are
        named ``Xs[0]``, ``Xs[1]``... (``Xs['conv1']`` for a mapping). A
        format string with ``{}`` names each network by putting its key (or
        index) there, e.g. ``"{} (held out)"`` for file names.

    Returns
    -------
    networks : list
        One entry per network.
    names : list of str
        The name of each network in error messages.
    keys : list or None
        A mapping's keys (None for other collections).

    Raises
    ------
    ValueError
        For None, a string, an array with fewer than 3 dimensions, or an
        empty collection.
    TypeError
        For an object that is not a collection.
    """
    if networks is None or isinstance(networks, (str, bytes)):
        raise ValueError(
            f"{arg_name} must be a sequence of 2-D arrays (one per network), a mapping of "
            "names to arrays, or a 3-D array of shape (n_networks, n_samples, n_features); "
            f"got {networks!r}."
        )
    keys = None
    if isinstance(networks, Mapping):
        keys = list(networks.keys())
        items = list(networks.values())
    elif is_foreign_array(networks) or isinstance(networks, np.ndarray):
        if networks.ndim < 3:
            raise ValueError(
                f"{arg_name} is a {networks.ndim}-D array of shape {tuple(networks.shape)}; "
                "expected a sequence of 2-D arrays (one per network), or a 3-D array of "
                "shape (n_networks, n_samples, n_features) (4-D for stochastic responses). "
                "Wrap a single representation in a list."
            )
        items = [networks[k] for k in range(networks.shape[0])]
    else:
        try:
            items = list(networks)
        except TypeError:
            raise TypeError(
                f"{arg_name} must be a sequence of 2-D arrays (one per network) or a "
                f"mapping of names to arrays; got an object of type {type(networks).__name__}."
            ) from None
    if not items:
        raise ValueError(
            f"{arg_name} is empty (it holds no networks); expected at least one representation."
        )
    labels = range(len(items)) if keys is None else keys
    if "{}" in arg_name:
        names = [arg_name.format(label) for label in labels]
    elif keys is None:
        names = [f"{arg_name}[{k}]" for k in labels]
    else:
        names = [f"{arg_name}[{key!r}]" for key in keys]
    return items, names, keys


def check_same_samples(arrays: Sequence, names: Sequence[str]) -> None:
    """Raise unless every array has as many rows (stimuli) as the first.

    Parameters
    ----------
    arrays : sequence of arrays
        Validated arrays, one row per stimulus.
    names : sequence of str
        Their names in the message.

    Raises
    ------
    ValueError
        From :func:`skrep._validation.check_paired_samples`, naming the first
        array whose row count differs first, then the reference.
    """
    for array, name in zip(arrays[1:], names[1:], strict=True):
        check_paired_samples(array, arrays[0], names=(name, names[0]))


def validate_networks(
    Xs: Sequence,
    Xs_test: Sequence | None,
    names: Sequence[str],
    test_names: Sequence[str],
    *,
    device: object = None,
    min_samples: int = 2,
    min_test_samples: int = 1,
    common_dtype: bool = True,
) -> tuple[list, list]:
    """Validate 2-D representations and bring them to one namespace, device and dtype.

    Parameters
    ----------
    Xs : sequence of arrays of shape (n_samples, n_features_k)
        Training data of every network.
    Xs_test : sequence of arrays of shape (n_samples_test, n_features_k) or None
        Held-out data of the same networks (entries may be None for
        networks without held-out data only when all are None).
    names, test_names : sequence of str
        The name of each network and of its held-out data, for messages.
    device : None, str or torch.device, default=None
        Where to compute: None where the first network is.
    min_samples : int, default=2
        Fewest training rows accepted.
    min_test_samples : int, default=1
        Fewest held-out rows accepted.
    common_dtype : bool, default=True
        Cast every array to one floating dtype (float32 only if all are
        float32). False keeps each array's own floating dtype, for measures
        that judge each network's numerical rank in its own precision.

    Returns
    -------
    trains : list of arrays
        Validated training data, all in the namespace and on the device of
        the first network, in one floating dtype (float32 only if every
        array is float32) when ``common_dtype``.
    tests : list of arrays or None entries
        Validated held-out data, likewise.
    """
    trains = [
        check_representation(X, name, min_samples=min_samples)
        for X, name in zip(Xs, names, strict=True)
    ]
    check_same_samples(trains, names)
    tests = [None] * len(trains)
    if Xs_test is not None:
        tests = [
            check_representation(X, name, min_samples=min_test_samples)
            for X, name in zip(Xs_test, test_names, strict=True)
        ]
        check_same_samples(tests, test_names)
        for X, Xt, name, test_name in zip(trains, tests, names, test_names, strict=True):
            if Xt.shape[1] != X.shape[1]:
                raise ValueError(
                    f"{test_name} has {Xt.shape[1]} features but {name} has {X.shape[1]}; "
                    "expected the held-out data of each network to have its training width."
                )
    # Everything goes where the first network computes (as Y follows X in fit).
    reference = move_to_device(trains[0], device)
    trains = [convert_like(move_to_device(X, device), reference) for X in trains]
    tests = [
        None if X is None else convert_like(move_to_device(X, device), reference) for X in tests
    ]
    if not common_dtype:
        return trains, tests
    xp = get_namespace(reference)
    dtype = floating_dtype(xp, *[X for X in (*trains, *tests) if X is not None])
    trains = [xp.astype(X, dtype, copy=False) for X in trains]
    tests = [None if X is None else xp.astype(X, dtype, copy=False) for X in tests]
    return trains, tests


def stacked_networks(Xs: object, arg_name: str = "Xs", *, device: object = None) -> Array:
    """A collection of networks as one validated array, narrower ones zero-padded.

    Parameters
    ----------
    Xs : sequence of arrays of shape (n_samples, n_features_k), mapping, or 3-D array
        The networks, rows paired across them.
    arg_name : str, default="Xs"
        The argument's name in messages.
    device : None, str or torch.device, default=None
        Where to compute: None where the first network is.

    Returns
    -------
    array of shape (n_networks, n_samples, n_features)
        ``n_features`` the widest network's width, in one floating dtype.
    """
    items, names, _ = network_list(Xs, arg_name)
    networks, _ = validate_networks(items, None, names, names, device=device, min_samples=1)
    width = max(X.shape[1] for X in networks)
    xp = get_namespace(networks[0])
    return xp.stack([zero_pad_columns(X, width) for X in networks])


def network_like(A: object, name: str, stack: Array) -> Array:
    """``A`` validated as one more network of ``stack``: its shape, namespace, device, dtype.

    Parameters
    ----------
    A : array-like of shape (n_samples, n_features)
        E.g. a mean or a starting point.
    name : str
        Its argument's name in messages.
    stack : array of shape (n_networks, n_samples, n_features)
        From :func:`stacked_networks`.

    Returns
    -------
    array of shape (n_samples, n_features)
        ``A`` in the networks' namespace, on their device, in their dtype.

    Raises
    ------
    ValueError
        If ``A`` is not finite and 2-D, or its shape is not that of the networks.
    """
    A = check_representation(A, name, min_samples=1)
    if tuple(A.shape) != tuple(stack.shape[1:]):
        raise ValueError(
            f"{name} has shape {tuple(A.shape)}; expected {tuple(stack.shape[1:])}, the shape "
            "of the (zero-padded) networks."
        )
    xp = get_namespace(stack)
    return xp.asarray(A, dtype=stack.dtype, device=getattr(stack, "device", None))
