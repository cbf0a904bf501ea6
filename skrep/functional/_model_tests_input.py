"""Checks of the inputs of the model-comparison tests, read into one layout.

Every kind of evaluation is read into an array of shape
(n_kinds, n_rows, n_models): one kind (the subjects of fixed evaluations, or
the resamples of one bootstrap) or three (the resamples of a dual bootstrap:
over both factors, over subjects only, over stimuli only).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from .._typing import ArrayLike
from .._validation import _shape_str, check_real_array
from ..exceptions import InvalidParameterError

BOOTSTRAPS = (None, "stimuli", "subjects", "both", "dual")
TESTS = ("t-test", "signed-rank", "bootstrap")
CORRECTIONS = (None, "fdr", "bonferroni")
ALTERNATIVES = ("two-sided", "greater", "less")
#: The tests each kind of evaluation supports.
TESTS_OF = {
    None: ("t-test", "signed-rank"),
    "stimuli": ("t-test", "bootstrap"),
    "subjects": ("t-test", "bootstrap"),
    "both": ("t-test", "bootstrap"),
    "dual": ("t-test",),
}
_SHAPES = {
    None: "(n_models, n_subjects): one evaluation per model and subject",
    "stimuli": "(n_bootstrap, n_models), as bootstrap_comparisons returns it",
    "subjects": "(n_bootstrap, n_models)",
    "both": "(n_bootstrap, n_models)",
    "dual": "(3, n_bootstrap, n_models): resamples of both factors, of the subjects only "
    "and of the stimuli only, drawn with the same indices",
}


@dataclass(frozen=True)
class Evaluations:
    """Checked evaluations and how their sampling variance is estimated.

    Attributes
    ----------
    values : ndarray of shape (n_kinds, n_rows, n_models)
        Finite evaluations; rows are subjects (fixed) or resamples.
    bootstrap : str or None
        What was resampled (None: fixed evaluations).
    n_subjects, n_stimuli : int or None
        The sizes of the resampled factors (None where not used).
    dof : int
        Degrees of freedom of the t-tests.
    ceiling : float, ndarray of shape (n_kinds, n_rows) or None
        The lower bound of the noise ceiling, fixed or per resample.
    upper : float or None
        The mean upper bound of the noise ceiling, where given.
    """

    values: np.ndarray
    bootstrap: str | None
    n_subjects: int | None
    n_stimuli: int | None
    dof: int
    ceiling: float | np.ndarray | None = None
    upper: float | None = None

    @property
    def n_models(self) -> int:
        """The number of models."""
        return self.values.shape[2]

    @property
    def n_rows(self) -> int:
        """Subjects (fixed evaluations) or resamples kept."""
        return self.values.shape[1]


def check_choice(value: object, name: str, owner: str, choices: tuple) -> None:
    """Raise an InvalidParameterError unless ``value`` is one of ``choices``."""
    if not any(value is c or (isinstance(value, str) and value == c) for c in choices):
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must be one of "
            f"{', '.join(repr(c) for c in choices)}; got {value!r}."
        )


def check_alpha_level(alpha: object, owner: str) -> float:
    """The significance level: a number strictly between 0 and 1."""
    if (
        isinstance(alpha, (bool, np.bool_))
        or not isinstance(alpha, numbers.Real)
        or not 0.0 < float(alpha) < 1.0
    ):
        raise InvalidParameterError(
            f"The 'alpha' parameter of {owner} must be a number in (0, 1), the significance "
            f"level; got {alpha!r}."
        )
    return float(alpha)


def _check_size(value: object, name: str, owner: str, bootstrap: str) -> int:
    if value is None:
        raise InvalidParameterError(
            f"{owner} with bootstrap={bootstrap!r} needs {name}, the number of "
            f"{name[2:]} that were resampled (for the small-sample variance correction and "
            "the degrees of freedom); got None."
        )
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 2:
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must be an integer >= 2; got {value!r}."
        )
    return int(value)


def _dof(bootstrap: str | None, n_subjects: int | None, n_stimuli: int | None) -> int:
    if bootstrap == "stimuli":
        return n_stimuli - 1
    if bootstrap == "subjects" or bootstrap is None:
        return n_subjects - 1
    return min(n_subjects, n_stimuli) - 1


def check_evaluations(
    evaluations: ArrayLike,
    bootstrap: str | None,
    n_subjects: object,
    n_stimuli: object,
    test: str,
    owner: str,
    *,
    noise_ceiling: ArrayLike | float | None = None,
    min_models: int = 1,
) -> Evaluations:
    """Read and check the evaluations (and the noise ceiling) of a model test.

    Fixed evaluations must be finite. Resamples in which a model (or the
    noise ceiling) is NaN are left out, as rsatoolbox leaves out the
    resamples it could not evaluate; an error is raised if that leaves fewer
    than half of them, or fewer than 2.
    """
    check_choice(bootstrap, "bootstrap", owner, BOOTSTRAPS)
    check_choice(test, "test", owner, TESTS)
    if test not in TESTS_OF[bootstrap]:
        hint = {
            "signed-rank": " The signed-rank test needs one evaluation per subject "
            "(bootstrap=None).",
            "bootstrap": " The bootstrap test needs resamples: bootstrap='stimuli', "
            "'subjects' or 'both' (for a dual bootstrap, pass its resamples over both "
            "factors, evaluations[0], with bootstrap='both').",
        }.get(test, "")
        raise InvalidParameterError(
            f"{owner}: test={test!r} does not apply to bootstrap={bootstrap!r}; expected one "
            f"of {', '.join(repr(t) for t in TESTS_OF[bootstrap])}.{hint}"
        )
    ndim = 3 if bootstrap == "dual" else 2
    expected = f"an array of shape {_SHAPES[bootstrap]}"
    values = check_real_array(evaluations, "evaluations", expected)
    if values.ndim != ndim or (bootstrap == "dual" and values.shape[0] != 3):
        raise ValueError(
            f"evaluations has shape {_shape_str(values.shape)}; with bootstrap={bootstrap!r} "
            f"expected {expected}."
        )
    if bootstrap is None:
        values = values.T[None]  # (1, n_subjects, n_models)
    elif bootstrap != "dual":
        values = values[None]
    n_models = values.shape[2]
    if n_models < min_models:
        raise ValueError(
            f"{owner} compares pairs of models, but evaluations has shape "
            f"{_shape_str(np.shape(evaluations))}: {n_models} model; expected at least 2 "
            f"models ({_SHAPES[bootstrap]})."
        )
    if bootstrap is None:
        n_subjects = _fixed_subjects(values, n_subjects, owner)
    else:
        if bootstrap in ("subjects", "both", "dual"):
            n_subjects = _check_size(n_subjects, "n_subjects", owner, bootstrap)
        if bootstrap in ("stimuli", "both", "dual"):
            n_stimuli = _check_size(n_stimuli, "n_stimuli", owner, bootstrap)
    infinite = np.isinf(values)
    if infinite.any():
        raise ValueError(
            f"evaluations contains {int(infinite.sum())} infinite value(s) (shape "
            f"{_shape_str(np.shape(evaluations))}); expected finite evaluations."
        )
    ceiling, upper = _read_ceiling(noise_ceiling, values.shape, bootstrap)
    if bootstrap is None:
        if np.isnan(values).any():
            model, subject = np.argwhere(np.isnan(values[0]))[0][::-1]
            raise ValueError(
                f"evaluations contains {int(np.isnan(values).sum())} NaN value(s), the first "
                f"for model {model} and subject {subject} (shape "
                f"{_shape_str(np.shape(evaluations))}); expected finite evaluations. Leave out "
                "the subjects that could not be evaluated."
            )
    else:
        values, ceiling = _drop_undefined(values, ceiling)
    return Evaluations(
        values,
        bootstrap,
        n_subjects if bootstrap in (None, "subjects", "both", "dual") else None,
        n_stimuli if bootstrap in ("stimuli", "both", "dual") else None,
        _dof(bootstrap, n_subjects, n_stimuli),
        ceiling,
        upper,
    )


def _fixed_subjects(values: np.ndarray, n_subjects: object, owner: str) -> int:
    n_rows = values.shape[1]
    if n_rows < 2:
        raise ValueError(
            f"evaluations has {n_rows} subject{'' if n_rows == 1 else 's'} (shape "
            f"(n_models, n_subjects) = "
            f"{_shape_str(values.shape[:0:-1])}); a test across subjects needs at least 2. "
            "With one subject, bootstrap the stimuli (bootstrap_comparisons) and pass "
            "bootstrap='stimuli'."
        )
    if n_subjects is not None and n_subjects != n_rows:
        raise ValueError(
            f"n_subjects={n_subjects!r} but evaluations holds {n_rows} subjects (shape "
            f"{_shape_str(values.shape[:0:-1])}); leave n_subjects out for fixed evaluations."
        )
    return n_rows


def _read_ceiling(
    noise_ceiling: ArrayLike | float | None, shape: tuple[int, ...], bootstrap: str | None
) -> tuple[float | np.ndarray | None, float | None]:
    """The lower bound (fixed or per resample) and the mean upper bound, if given."""
    if noise_ceiling is None:
        return None, None
    expected = "a lower bound, a (lower, upper) pair" + (
        "" if bootstrap is None else f", or one per resample of shape {_ceiling_shapes(shape)}"
    )
    ceiling = check_real_array(noise_ceiling, "noise_ceiling", expected)
    n_kinds, n_rows = shape[:2]
    rows = (n_rows,) if bootstrap != "dual" else (n_kinds, n_rows)
    if ceiling.ndim == 0 or ceiling.shape == (2,):
        if not np.isfinite(ceiling).all():
            raise ValueError(
                f"noise_ceiling is {ceiling.tolist()!r}; expected finite bounds (lower, upper)."
            )
        if ceiling.ndim == 0:
            return float(ceiling), None
        return float(ceiling[0]), float(ceiling[1])
    if bootstrap is not None and ceiling.shape in (rows, (*rows, 2)):
        if np.isinf(ceiling).any():
            raise ValueError("noise_ceiling contains infinite values; expected finite bounds.")
        samples = ceiling.reshape(n_kinds, n_rows, -1)
        upper = None
        if samples.shape[2] == 2:
            upper = float(np.nanmean(samples[..., 1]))
        return samples[..., 0], upper
    raise ValueError(f"noise_ceiling has shape {_shape_str(ceiling.shape)}; expected {expected}.")


def _ceiling_shapes(shape: tuple[int, ...]) -> str:
    rows = f"({shape[1]},)" if shape[0] == 1 else f"({shape[0]}, {shape[1]})"
    both = f"({shape[1]}, 2)" if shape[0] == 1 else f"({shape[0]}, {shape[1]}, 2)"
    return f"{rows} or {both}"


def _drop_undefined(
    values: np.ndarray, ceiling: float | np.ndarray | None
) -> tuple[np.ndarray, float | np.ndarray | None]:
    """Leave out the resamples in which a model (or the noise ceiling) is NaN."""
    undefined = np.isnan(values).any(axis=(0, 2))
    if isinstance(ceiling, np.ndarray):
        undefined |= np.isnan(ceiling).any(axis=0)
    n_rows = values.shape[1]
    if n_rows < 2:
        raise ValueError(
            f"evaluations has {n_rows} resample{'' if n_rows == 1 else 's'} (shape "
            f"{_shape_str(values.shape[1:] if values.shape[0] == 1 else values.shape)}); a "
            "bootstrap test needs at least 2 (hundreds for its p-values)."
        )
    kept = n_rows - int(undefined.sum())
    if kept < 2 or kept < n_rows / 2:
        raise ValueError(
            f"evaluations (or noise_ceiling) is NaN in {n_rows - kept} of {n_rows} resamples; "
            "expected at least half of them, and at least 2, defined. Resample more, or use "
            "a comparison method that is defined on more resamples."
        )
    if kept < n_rows:
        values = values[:, ~undefined]
        if isinstance(ceiling, np.ndarray):
            ceiling = ceiling[:, ~undefined]
    return values, ceiling
