"""The bad-input kinds of the robustness battery, and how an outcome is judged.

Each :class:`Kind` spoils one argument of an entry (``scope="arg"``) or all
of them together (``scope="all"``), and says what a correct outcome is:

- ``"error"``: the input is wrong (NaN, a masked array, mismatched rows...):
  only a clear error is correct;
- ``"equal"``: the input means the same numbers in another form (a list, int,
  a torch tensor, 1e300 times the data...): the result must equal a second
  route, the same call on the clean float64 numbers (rescaled by the entry's
  degree of homogeneity for the scale kinds, measured on clean data), or
  both routes must refuse;
- ``"any"``: the input is valid but degenerate (a constant column, duplicated
  rows, 2 samples...): a finite result, equal to the result on the same data
  with the stimuli permuted when the entry is invariant to that order, or a
  clear error.

A clear error is a ValueError, TypeError, skrep exception or NotFittedError
(not a LinAlgError) whose message names the argument. Anything else (an
IndexError, a torch RuntimeError, a NaN, a wrong number) is *silent or raw*.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import re
import warnings
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse
from robustness_entries import Data, Entry
from scipy.spatial.distance import squareform

#: Roles whose first axis (``trials``: second) runs over stimuli.
STIMULUS_ROLES = ("data", "responses", "trials", "rdms", "square", "squares", "labels")
#: Roles that hold measured numbers (scaled, offset, cast together by the "all" kinds).
MEASURED_ROLES = ("data", "responses", "trials", "rdms", "square", "squares", "vector")
TWO_D = ("data", "rdms", "square", "matrix")

SILENT = ("raw", "unnamed", "nonfinite", "wrong", "accepted", "inconsistent")
#: "equal" kinds that may be refused with a clear error (sparse: unless documented).
REFUSABLE = ("sparse", "scale_1e300", "scale_1e-300", "float32_offset_1e4")


@dataclasses.dataclass(frozen=True)
class Kind:
    """One kind of bad input."""

    name: str
    expect: str  # "error", "equal" or "any"
    spoil: Callable[[np.ndarray, str], Any] | None = None  # None: not for this role
    route: Callable[[np.ndarray, str], Any] | None = None  # the clean second route
    scope: str = "arg"
    roles: tuple[str, ...] = (
        "data",
        "responses",
        "trials",
        "rdms",
        "square",
        "squares",
        "matrix",
        "vector",
    )
    rtol: float = 1e-6
    n: int | None = None  # rows kinds: build the clean data with n stimuli


def _set_flat(A: np.ndarray, value: float) -> np.ndarray:
    out = np.array(A, dtype=np.float64, copy=True)
    out.flat[1 if out.size > 1 else 0] = value
    return out


def _n_pairs(n: int) -> int:
    return n * (n - 1) // 2


def _conditions(n_pairs: int) -> int:
    return int(round((1 + np.sqrt(1 + 8 * n_pairs)) / 2))


def _on_squares(rdms: np.ndarray, change: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    return np.stack([squareform(change(squareform(v)), checks=False) for v in rdms])


def _permute_stimuli(A: Any, role: str, order: np.ndarray) -> Any:
    if role in ("data", "responses", "labels"):
        return A[order]
    if role == "trials":
        return A[:, order]
    if role == "rdms":
        return _on_squares(A, lambda S: S[np.ix_(order, order)])
    if role == "square":
        return A[np.ix_(order, order)]
    if role == "squares":
        return A[:, order][:, :, order]
    return A


def _drop_stimulus(A: np.ndarray, role: str) -> np.ndarray | None:
    if role in ("data", "responses"):
        return A[:-1]
    if role == "trials":
        return A[:, :-1]
    if role == "rdms":
        return A[:, : _n_pairs(_conditions(A.shape[1]) - 1)]
    if role == "square":
        return A[:-1, :-1]
    if role == "squares":
        return A[:, :-1, :-1]
    return None


def _duplicate_stimulus(A: np.ndarray, role: str) -> np.ndarray | None:
    def square(S: np.ndarray) -> np.ndarray:
        S = S.copy()
        S[1, :], S[:, 1] = S[0, :], S[:, 0]
        S[1, 1] = S[0, 1] = S[1, 0] = S[0, 0]
        return S

    A = A.copy()
    if role in ("data", "responses", "matrix"):
        A[1] = A[0]
    elif role == "trials":
        A[:, 1] = A[:, 0]
    elif role == "rdms":
        return _on_squares(A, square)
    elif role == "square":
        return square(A)
    elif role == "squares":
        return np.stack([square(S) for S in A])
    else:
        return None
    return A


def _column(value: float) -> Callable[[np.ndarray, str], np.ndarray | None]:
    def spoil(A: np.ndarray, role: str) -> np.ndarray | None:
        A = A.copy()
        if role in ("data", "responses", "trials", "matrix"):
            A[..., 0] = value
        elif role == "rdms":
            A[0] = value  # a constant (or all-zero) RDM
        else:
            return None
        return A

    return spoil


def _rank_deficient(A: np.ndarray, role: str) -> np.ndarray | None:
    A = A.copy()
    if role in ("data", "responses", "trials", "matrix"):
        A[..., -1] = A[..., 0] - A[..., 1]
    elif role == "rdms":
        A[-1] = 0.5 * (A[0] + A[1])
    else:
        return None
    return A


def _wide(A: np.ndarray, role: str) -> np.ndarray | None:
    if role not in ("data", "responses"):
        return None
    mixing = np.random.default_rng(3).standard_normal((A.shape[-1], 3 * max(A.shape[0], 4)))
    return np.concatenate([A, A @ mixing], axis=-1)


def _one_dimensional(A: np.ndarray, role: str) -> np.ndarray | None:
    if role == "vector":
        return None
    return A[0] if role == "rdms" else A.ravel()


def _masked(A: np.ndarray, role: str) -> np.ma.MaskedArray:
    mask = np.zeros(A.shape, dtype=bool)
    mask.flat[1 if A.size > 1 else 0] = True
    return np.ma.masked_array(A, mask=mask)


def _read_only(A: np.ndarray, role: str) -> np.ndarray:
    A = A.copy()
    A.flags.writeable = False
    return A


def _dataframe(A: np.ndarray, role: str) -> Any:
    import pandas as pd

    return pd.DataFrame(A, columns=[f"c{i}" for i in range(A.shape[1])])


def _torch(A: Any, *, grad: bool = False) -> Any:
    import torch

    return torch.tensor(np.asarray(A, dtype=np.float64), requires_grad=grad)


def _float16(A: np.ndarray, role: str) -> np.ndarray:
    return A.astype(np.float16)


def _boolean(A: np.ndarray, role: str) -> np.ndarray:
    return A > np.median(A)


def _integer(A: np.ndarray, role: str) -> np.ndarray:
    return np.round(3 * A).astype(np.int64)


def _as_float(spoil: Callable[[np.ndarray, str], Any]) -> Callable[[np.ndarray, str], Any]:
    return lambda A, role: np.asarray(spoil(A, role), dtype=np.float64)


def _same(A: np.ndarray, role: str) -> np.ndarray:
    return A


KINDS: list[Kind] = [
    Kind("nan", "error", lambda A, r: _set_flat(A, np.nan)),
    Kind("inf", "error", lambda A, r: _set_flat(A, np.inf)),
    Kind("strings", "error", lambda A, r: A.astype(str)),
    Kind("complex", "error", lambda A, r: A + 0.1j * np.ones_like(A)),
    Kind("masked", "error", _masked),
    Kind(
        "cols0",
        "error",
        lambda A, r: A[..., :0],
        roles=("data", "responses", "trials", "rdms", "matrix", "vector"),
    ),
    Kind("mismatched_rows", "error", _drop_stimulus),
    Kind("1d", "error", _one_dimensional),
    Kind("3d", "error", lambda A, r: A[..., None]),
    Kind("object", "equal", lambda A, r: A.astype(object), _same),
    Kind("bool", "equal", _boolean, _as_float(_boolean)),
    Kind("int", "equal", _integer, _as_float(_integer)),
    Kind("float16", "equal", _float16, _as_float(_float16), rtol=1e-3),
    Kind("list", "equal", lambda A, r: A.tolist(), _same),
    Kind("dataframe", "equal", _dataframe, _same, roles=TWO_D),
    Kind("fortran", "equal", lambda A, r: np.asfortranarray(A), _same),
    Kind("read_only", "equal", _read_only, _same),
    Kind("sparse", "equal", lambda A, r: scipy.sparse.csr_array(A), _same, roles=TWO_D),
    Kind("mixed_numpy_torch", "equal", lambda A, r: _torch(A), _same),
    Kind(
        "cols1",
        "any",
        lambda A, r: A[..., :1],
        roles=("data", "responses", "trials", "rdms", "matrix"),
    ),
    Kind("constant_column", "any", _column(3.0)),
    Kind("zero_column", "any", _column(0.0)),
    Kind("duplicated_rows", "any", _duplicate_stimulus),
    Kind("rank_deficient", "any", _rank_deficient),
    Kind("wide", "any", _wide),
    # every argument at once
    Kind("rows0", "error", scope="all", n=0),
    Kind("rows1", "any", scope="all", n=1),
    Kind("rows2", "any", scope="all", n=2),
    Kind("scale_1e300", "equal", scope="all"),
    Kind("scale_1e-300", "equal", scope="all"),
    Kind("float32_offset_1e4", "equal", scope="all", rtol=2e-3),
    Kind("torch_requires_grad", "equal", scope="all", rtol=1e-6),
]
#: Kinds that need an optional library (skipped without it).
NEEDS = {"mixed_numpy_torch": "torch", "torch_requires_grad": "torch", "dataframe": "pandas"}
KINDS = [kind for kind in KINDS if importlib.util.find_spec(NEEDS.get(kind.name, "numpy"))]
SCALES = {"scale_1e300": 1e300, "scale_1e-300": 1e-300}


@dataclasses.dataclass(frozen=True)
class Case:
    """One entry, one kind, one spoiled argument (None for the "all" kinds)."""

    entry: Entry
    kind: Kind
    target: Any = None

    @property
    def id(self) -> str:
        target = "" if self.target is None else f"-{_label(self.target)}"
        return f"{self.entry.name}-{self.kind.name}{target}"

    def in_sample(self, every: int) -> bool:
        """A stable 1-in-``every`` sample of the cases."""
        return zlib.crc32(self.id.encode()) % every == 0


def _label(key: Any) -> str:
    return f"{key[0]}[{key[1]}]" if isinstance(key, tuple) else str(key)


def cases(entries: list[Entry]) -> list[Case]:
    """Every applicable (entry, kind, argument) of the battery."""
    out = []
    for entry in entries:
        clean = entry.build(Data())
        for kind in KINDS:
            if kind.name in entry.skip:
                continue
            if kind.scope == "all":
                if kind.n is None or _stimulus_args(entry):  # rows need stimuli
                    out.append(Case(entry, kind))
                continue
            if kind.name == "mixed_numpy_torch" and len(entry.targets()) < 2:
                continue  # one array: nothing to mix (torch_requires_grad covers torch)
            if kind.name == "mismatched_rows" and (
                len(_stimulus_args(entry)) < 2 or not entry.paired_rows
            ):
                continue
            for target in entry.targets():
                role = entry.roles[target]
                if role in kind.roles and kind.spoil(clean[target], role) is not None:
                    out.append(Case(entry, kind, target))
    return out


def _stimulus_args(entry: Entry) -> list[Any]:
    return [key for key, role in entry.roles.items() if role in STIMULUS_ROLES]


# -- calling an entry -------------------------------------------------------------------
def _call(entry: Entry, arguments: dict[Any, Any]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if any(isinstance(key, tuple) for key in arguments):
            return entry.call(arguments)
        return entry.call(**arguments)


def invoke(entry: Entry, arguments: dict[Any, Any]) -> np.ndarray:
    """Call ``entry`` and reduce its result to numbers (warnings silenced)."""
    return entry.value(_call(entry, arguments))


@dataclasses.dataclass
class Outcome:
    """What a call did: a value, an exception, or a result that holds no real numbers."""

    value: np.ndarray | None = None
    error: BaseException | None = None
    bad_result: str | None = None


def attempt(entry: Entry, arguments: dict[Any, Any]) -> Outcome:
    """Call ``entry``; catch what it raises."""
    try:
        result = _call(entry, arguments)
    except Exception as exc:  # noqa: BLE001 - classified by the caller
        return Outcome(error=exc)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Outcome(value=entry.value(result))
    except Exception as exc:  # noqa: BLE001 - e.g. a complex or object result
        return Outcome(bad_result=f"returned a result with no real numbers ({exc})")


def is_allowed(error: BaseException) -> bool:
    """An exception type a user should get for bad input.

    ValueError and TypeError themselves, and their subclasses defined by skrep
    (:mod:`skrep.exceptions` and the like) or scikit-learn (NotFittedError);
    not the subclasses other libraries raise from deep inside (numpy's
    LinAlgError and UFuncTypeError, pandas' index errors).
    """
    if type(error) in (ValueError, TypeError):
        return True
    module = type(error).__module__.split(".")[0]
    return isinstance(error, (ValueError, TypeError)) and module in ("skrep", "sklearn")


def names_one_of(message: str, names: list[str]) -> bool:
    """Whether ``message`` contains one of ``names`` as a word."""
    return any(
        re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", message) for name in names
    )


# -- the clean routes, measured once per entry ----------------------------------------
@dataclasses.dataclass
class Reference:
    """The clean result of an entry, and its invariances."""

    value: np.ndarray
    degree: int | None  # f(s * inputs) = s**degree * f(inputs), or None
    order_invariant: bool  # same value with the stimuli permuted


_REFERENCES: dict[str, Reference] = {}


def _order(n: int) -> np.ndarray:
    """A fixed permutation of n stimuli (the same whatever ran before)."""
    return np.random.default_rng(11).permutation(n)


def _scaled(entry: Entry, arguments: dict[Any, Any], scale: float) -> dict[Any, Any]:
    return {
        key: A * scale if entry.roles[key] in MEASURED_ROLES else A for key, A in arguments.items()
    }


def _permuted(entry: Entry, arguments: dict[Any, Any], n: int) -> dict[Any, Any]:
    order = _order(n)
    return {key: _permute_stimuli(A, entry.roles[key], order) for key, A in arguments.items()}


def close(got: np.ndarray, expected: np.ndarray, rtol: float, floor: float = 0.0) -> bool:
    """Equal within ``rtol`` of the largest magnitude of ``expected`` (or of ``floor``)."""
    if got.shape != expected.shape:
        return False
    scale = max(float(np.max(np.abs(expected), initial=0.0)), floor, 1e-300)
    return bool(np.all(np.abs(got - expected) <= rtol * scale))


def reference(entry: Entry) -> Reference:
    """Clean value, homogeneity degree and order invariance of ``entry`` (cached)."""
    if entry.name in _REFERENCES:
        return _REFERENCES[entry.name]
    clean = entry.build(Data())
    value = invoke(entry, clean)
    assert np.all(np.isfinite(value)), f"{entry.name} gives non-finite values on clean data"
    degree = None
    tenfold = attempt(entry, _scaled(entry, clean, 10.0)).value
    if tenfold is not None:
        for k in (0, 1, -1, 2, -2, 3, -3, 4, -4):
            if close(
                tenfold, value * 10.0**k, 1e-8, floor=float(np.max(np.abs(tenfold), initial=0))
            ):
                degree = k
                break
    permuted = attempt(entry, _permuted(entry, clean, Data().n)).value
    invariant = permuted is not None and close(permuted, value, 1e-8, floor=1e-8)
    _REFERENCES[entry.name] = Reference(value, degree, invariant)
    return _REFERENCES[entry.name]


# -- judging a case ---------------------------------------------------------------------
def _first_rdm(A: np.ndarray, role: str) -> np.ndarray:
    return A[:1]


def expectation(case: Case) -> tuple[str, Callable[[np.ndarray, str], Any] | None]:
    """What a correct outcome is for this case, and the route of its spoiled argument.

    The kind decides, except where the entry's documented input forms make
    the spoiled input valid: a 1-D array is one condensed RDM; some entries
    take (n, ..., n_features) arrays; a format conversion passes NaN along and
    cannot tell 0 conditions from 1 in a condensed RDM.
    """
    entry, kind = case.entry, case.kind
    role = entry.roles.get(case.target)
    if kind.name == "1d" and role == "rdms":
        return "equal", _first_rdm
    if kind.name == "cols0" and role == "rdms":
        return "any", None  # 0 pairs: an RDM of one condition
    if kind.name == "3d" and entry.accepts_nd:
        return "any", None
    if kind.name in ("nan", "inf", "rows0") and entry.transparent:
        return "any", None
    return kind.expect, kind.route


def spoiled_arguments(case: Case) -> tuple[dict[Any, Any], dict[Any, Any] | None]:
    """The spoiled arguments, and those of the second route (None: no route)."""
    entry, kind = case.entry, case.kind
    data = Data(kind.n) if kind.n is not None else Data()
    clean = entry.build(data)
    if kind.scope == "arg":
        role = entry.roles[case.target]
        spoiled = dict(clean)
        spoiled[case.target] = kind.spoil(clean[case.target], role)
        expect, arg_route = expectation(case)
        if expect == "equal":
            route = dict(clean)
            route[case.target] = arg_route(clean[case.target], role)
            return spoiled, route
        return spoiled, None
    if kind.name in SCALES:
        return _scaled(entry, clean, SCALES[kind.name]), clean
    if kind.name == "float32_offset_1e4":
        spoiled = {}
        for key, A in clean.items():
            role = entry.roles[key]
            if role in ("data", "responses", "trials", "rdms"):
                A = A + 1e4
            spoiled[key] = A.astype(np.float32) if role in MEASURED_ROLES else A
        route = {
            key: np.asarray(A, dtype=np.float64) if entry.roles[key] in MEASURED_ROLES else A
            for key, A in spoiled.items()
        }
        return spoiled, route
    if kind.name == "torch_requires_grad":
        spoiled = {
            key: (_torch(A, grad=True) if entry.roles[key] not in ("labels", "fixed") else A)
            for key, A in clean.items()
        }
        return spoiled, clean
    return clean, None  # rows kinds: the data itself is the case


def _judge_error(case: Case, error: BaseException) -> tuple[str, str]:
    text = f"{type(error).__name__}: {error}"
    if not is_allowed(error):
        return "raw", text
    whole = case.kind.scope == "all" or case.kind.name == "mismatched_rows"
    names = case.entry.names(None if whole else case.target)
    if not names_one_of(str(error), names):
        return "unnamed", text
    return "error", text


def judge(case: Case) -> tuple[str, str]:
    """Classify a case: ("value" | "error" | "refused" | one of SILENT, detail).

    "refused" is a clear error for input that means numbers (a list, int data,
    a DataFrame...): not silent, but worth counting.
    """
    entry, kind = case.entry, case.kind
    ref = reference(entry)
    expect, _ = expectation(case)
    spoiled, route = spoiled_arguments(case)
    outcome = attempt(entry, spoiled)
    if outcome.error is not None:
        verdict, text = _judge_error(case, outcome.error)
        if verdict == "error" and route is not None and kind.name not in REFUSABLE:
            if attempt(entry, route).value is not None:
                return "refused", text  # clear, but the same numbers as float64 work
        return verdict, text
    if outcome.bad_result is not None:
        return ("accepted" if expect == "error" else "wrong"), outcome.bad_result
    got = outcome.value
    if expect == "error":
        return "accepted", f"returned {got[:4]} for a {kind.name} input"
    if not np.all(np.isfinite(got)):
        if entry.transparent and kind.name in ("nan", "inf"):
            return "value", "passed through, as a format conversion does"
        return "nonfinite", f"returned {got[:6]}"
    expected, floor = None, float(np.max(np.abs(ref.value)))
    if kind.name in SCALES:
        if ref.degree is None:
            return "value", "not homogeneous: no second route"
        with np.errstate(over="ignore", under="ignore"):
            factor = np.float64(SCALES[kind.name]) ** ref.degree
            expected, floor = ref.value * factor, floor * factor
        if not np.all(np.isfinite(expected)):
            return "wrong", f"returned {got[:4]}, but the exact value overflows float64"
    elif route is not None:
        second = attempt(entry, route)
        if second.value is None:
            detail = second.error or second.bad_result
            return "inconsistent", f"returned {got[:4]}; the clean route gave {detail!r}"
        expected = second.value
    elif expect == "any" and ref.order_invariant:
        n = kind.n if kind.n is not None else Data().n
        second = attempt(entry, _permuted(entry, spoiled, n))
        if second.value is None:
            detail = second.error or second.bad_result
            return "inconsistent", f"returned {got[:4]}; with the stimuli permuted: {detail!r}"
        expected = second.value
    if expected is not None and not close(got, expected, kind.rtol, floor):
        return "wrong", f"returned {got[:4]}, expected {expected[:4]}"
    return "value", ""
