"""Reference values of himalaya's BandedRidgeCV for tests/test_banded_ridge.py.

Run with the reference environment (himalaya 0.4.11, numpy backend)::

    /tmp/rsaenv/bin/python benchmarks/reference_banded.py

It writes ``tests/data/himalaya_banded.npz``; ``tests/data/himalaya_banded.md``
lists the calls. Each case stores its inputs next to himalaya's outputs.
"""

from pathlib import Path

import himalaya
import numpy as np
from himalaya.backend import set_backend
from himalaya.kernel_ridge import generate_dirichlet_samples
from himalaya.ridge import BandedRidgeCV
from himalaya.scoring import l2_neg_loss, r2_score

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "himalaya_banded.npz"


def problem(rng, sizes, n_train, n_test, n_targets, interleave, offset):
    """Features whose bands drive the targets with target-specific strengths."""
    p = sum(sizes)
    labels = np.repeat(np.arange(len(sizes)), sizes)
    if interleave:
        labels = rng.permutation(labels)
    X = rng.standard_normal((n_train + n_test, p)) + 0.3 * offset
    strengths = rng.dirichlet(np.full(len(sizes), 0.5), n_targets).T  # (n_bands, n_targets)
    W = rng.standard_normal((p, n_targets)) * np.sqrt(
        strengths[labels] / np.bincount(labels)[labels, None]
    )
    Y = X @ W + 0.8 * rng.standard_normal((n_train + n_test, n_targets)) + 2.0 * offset
    return X[:n_train], Y[:n_train], X[n_train:], Y[n_train:], labels


def fit_case(
    out,
    name,
    X,
    Y,
    X_test,
    Y_test,
    labels,
    n_iter,
    alphas,
    fit_intercept,
    score_func,
    random_state=None,
    **extra,
):
    model = BandedRidgeCV(
        groups=labels,
        solver="random_search",
        solver_params=dict(
            n_iter=n_iter, alphas=alphas, score_func=score_func, progress_bar=False, **extra
        ),
        fit_intercept=fit_intercept,
        cv=5,
        random_state=random_state,
    ).fit(X, Y)
    # himalaya's coef_ rows follow the bands concatenated in label order; put them back
    # in the order of the columns of X.
    order = np.concatenate([np.flatnonzero(labels == u) for u in np.unique(labels)])
    coef = np.empty_like(model.coef_)
    coef[order] = model.coef_
    out[f"{name}__deltas"] = model.deltas_
    out[f"{name}__best_alphas"] = model.best_alphas_
    out[f"{name}__coef"] = coef
    out[f"{name}__cv_scores"] = model.cv_scores_
    out[f"{name}__predict"] = model.predict(X_test)
    out[f"{name}__score"] = model.score(X_test, Y_test)
    if fit_intercept:
        out[f"{name}__intercept"] = model.intercept_


def main():
    set_backend("numpy")
    rng = np.random.default_rng(20250523)
    out = {}
    alphas = np.logspace(-2, 3, 6)
    out["alphas"] = alphas
    # No exact zeros: BandedRidgeCV scales each band by sqrt(gamma) and then divides
    # by it again, so a zero weight turns the features into NaN.
    near_one_hot = 0.98 * np.eye(3) + 0.01 * (1 - np.eye(3))
    gammas = np.vstack([near_one_hot, np.full((1, 3), 1 / 3), rng.dirichlet(np.full(3, 0.7), 8)])
    out["gammas"] = gammas
    # Primal case (centred data): 21 features < 48 training samples per fold, contiguous bands.
    X, Y, X_test, Y_test, labels = problem(rng, (4, 7, 10), 60, 25, 6, interleave=False, offset=0)
    out.update(
        primal__X=X,
        primal__Y=Y,
        primal__X_test=X_test,
        primal__Y_test=Y_test,
        primal__labels=labels,
    )
    fit_case(out, "primal_r2", X, Y, X_test, Y_test, labels, gammas, alphas, False, r2_score)
    fit_case(out, "primal_neg_mse", X, Y, X_test, Y_test, labels, gammas, alphas, True, l2_neg_loss)
    # Dirichlet samples drawn by himalaya itself (n_iter an int, seeded).
    fit_case(
        out,
        "dirichlet",
        X,
        Y,
        X_test,
        Y_test,
        labels,
        15,
        alphas,
        False,
        r2_score,
        concentration=[0.1, 1.0],
        random_state=7,
    )
    # BandedRidgeCV passes random_state to the solver; it draws with
    # check_random_state(7) and sets the first candidate to equal weights.
    drawn = generate_dirichlet_samples(15, 3, concentration=[0.1, 1.0], random_state=7)
    drawn[0] = 1 / 3
    out["dirichlet__gammas"] = drawn
    # Kernel case: 105 features > 48 training samples, interleaved bands, intercept.
    X, Y, X_test, Y_test, labels = problem(rng, (20, 35, 50), 60, 25, 6, interleave=True, offset=1)
    out.update(
        kernel__X=X,
        kernel__Y=Y,
        kernel__X_test=X_test,
        kernel__Y_test=Y_test,
        kernel__labels=labels,
    )
    fit_case(out, "kernel_r2", X, Y, X_test, Y_test, labels, gammas, alphas, True, r2_score)
    out["himalaya_version"] = np.array(himalaya.__version__)
    np.savez(OUT, **out)
    print(f"wrote {OUT} ({len(out)} arrays)")


if __name__ == "__main__":
    main()
