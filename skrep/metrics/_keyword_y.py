"""``y=`` as a keyword alias of ``Y`` in every estimator's pair methods.

skrep names the second representation ``Y`` (netrep's name, and a matrix),
while scikit-learn's own code and its users' habits pass it as ``y=``
(``est.score(X, y=y)``, ``partial(est.fit, y=y)``). :class:`KeywordYMixin`
lets both spellings reach the same argument, in one place: every subclass's
``fit``, ``score``, ``distance``, ``transform`` (and their combined forms)
whose second parameter is named ``Y`` is wrapped when the class is created,
so estimators written later get it too.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

__all__ = ["KeywordYMixin", "PAIR_METHODS"]

#: The methods whose second argument is the second representation.
PAIR_METHODS = (
    "fit",
    "score",
    "distance",
    "transform",
    "fit_score",
    "fit_transform",
    "score_targets",
    "partial_fit",
)


def _takes_Y(method: Callable[..., Any]) -> bool:
    try:
        parameters = list(inspect.signature(method).parameters.values())
    except (TypeError, ValueError):  # pragma: no cover - builtins have no signature
        return False
    return (
        len(parameters) >= 3
        and parameters[2].name == "Y"
        and parameters[2].kind
        in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        and not any(p.name == "y" for p in parameters)
    )


def _accepting_y(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def with_y_alias(self: object, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        if "y" in kwargs:
            y = kwargs.pop("y")
            if len(args) >= 2 or "Y" in kwargs:
                raise TypeError(
                    f"{type(self).__name__}.{method.__name__}() got the second "
                    "representation twice, as Y and as y; pass it once (y= is an alias of Y)."
                )
            kwargs["Y"] = y
        return method(self, *args, **kwargs)

    with_y_alias.accepts_y_keyword = True  # type: ignore[attr-defined]
    return with_y_alias


class KeywordYMixin:
    """Accept ``y=`` wherever a pair method takes the second representation ``Y``.

    ``est.fit(X, y=Y)``, ``est.score(X, y=Y)``, ``est.distance(X, y=Y)`` and
    ``est.transform(X, y=Y)`` mean ``est.fit(X, Y)`` and so on; passing both
    ``Y`` and ``y`` is a :class:`TypeError`. Positional calls, as made by
    ``cross_validate``, ``GridSearchCV`` and pipelines, are unchanged.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:  # noqa: ANN401
        """Wrap the pair methods ``cls`` has (see :data:`PAIR_METHODS`).

        Methods that ``cls`` inherits from a class outside this mixin's
        family (a plain mixin ahead of it in the MRO) are wrapped too.
        """
        super().__init_subclass__(**kwargs)
        for name in PAIR_METHODS:
            method = inspect.getattr_static(cls, name, None)
            if (
                callable(method)
                and not getattr(method, "accepts_y_keyword", False)
                and _takes_Y(method)
            ):
                setattr(cls, name, _accepting_y(method))
