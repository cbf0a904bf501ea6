"""Second implementations of the similarity measures, written directly from the papers.

Deliberately naive (explicit Gram matrices, explicit centering matrix,
scipy/scikit-learn building blocks), so that they share no code and no
shortcut with skrep.functional.kernel / cca / neighbors / regression.
"""

import numpy as np
import scipy.linalg
from scipy.spatial.distance import cdist
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score
from sklearn.neighbors import NearestNeighbors


def centering_matrix(n):
    return np.eye(n) - np.ones((n, n)) / n


def linear_gram(X):
    return X @ X.T


def rbf_gram(X, threshold=None, sigma=None):
    D = cdist(X, X, "sqeuclidean")
    if sigma is None:
        sigma = threshold * np.sqrt(np.median(D))  # all n^2 entries, diagonal included
    return np.exp(-D / (2 * sigma**2))


def hsic_biased(K, L):
    n = K.shape[0]
    H = centering_matrix(n)
    return np.trace(K @ H @ L @ H) / (n - 1) ** 2


def hsic_unbiased(K, L):
    """Song et al. (2012), eq. 5, term by term."""
    n = K.shape[0]
    Kt = K - np.diag(np.diag(K))
    Lt = L - np.diag(np.diag(L))
    ones = np.ones(n)
    term1 = np.trace(Kt @ Lt)
    term2 = (ones @ Kt @ ones) * (ones @ Lt @ ones) / ((n - 1) * (n - 2))
    term3 = 2.0 / (n - 2) * (ones @ Kt @ Lt @ ones)
    return (term1 + term2 - term3) / (n * (n - 3))


def cka_from_grams(K, L, debiased=False):
    h = hsic_unbiased if debiased else hsic_biased
    return h(K, L) / np.sqrt(h(K, K) * h(L, L))


def canonical_correlations(X, Y):
    """Singular values of Sxx^-1/2 Sxy Syy^-1/2 (full-rank inputs)."""
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    Sxx, Syy, Sxy = Xc.T @ Xc, Yc.T @ Yc, Xc.T @ Yc
    Wx = np.linalg.inv(np.real(scipy.linalg.sqrtm(Sxx)))
    Wy = np.linalg.inv(np.real(scipy.linalg.sqrtm(Syy)))
    return np.linalg.svd(Wx @ Sxy @ Wy, compute_uv=False)


def neighbour_sets(X, k):
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    _, idx = NearestNeighbors(n_neighbors=k + 1).fit(Xn).kneighbors(Xn)
    return [set(row[1:]) for row in idx]  # first neighbour is the row itself


def mutual_knn(X, Y, k):
    a, b = neighbour_sets(X, k), neighbour_sets(Y, k)
    return np.mean([len(s & t) / k for s, t in zip(a, b, strict=True)])


def jaccard_knn(X, Y, k):
    a, b = neighbour_sets(X, k), neighbour_sets(Y, k)
    return np.mean([len(s & t) / len(s | t) for s, t in zip(a, b, strict=True)])


def regression_r2(X, Y):
    """R^2 of X predicted from Y, pooled over X's columns (variance-weighted)."""
    prediction = LinearRegression().fit(Y, X).predict(Y)
    return r2_score(X, prediction, multioutput="variance_weighted")
