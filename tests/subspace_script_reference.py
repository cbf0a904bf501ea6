"""The subspace-analysis script's geometry functions, transcribed as a reference.

``../shared/references/subspace_analysis_script.py.txt`` (Driscoll-style PCA
cross-variance, participation ratios, principal angles and the
direction-averaged variant). Only the "hidden" data type is kept (arrays whose
last axis holds the units), and the functions run exactly as in the script:
scikit-learn's randomized PCA with ``random_state=0``, scipy's subspace angles.
The tests compare skrep's exact implementation with these on data where the
randomized solver is exact to rounding (all components, or a strong spectral
gap), and with an eigendecomposition of the covariance elsewhere.
"""

import numpy as np
from scipy.linalg import subspace_angles
from sklearn.decomposition import PCA


def participation_ratio_of_covariance(cov_mat):
    eigvals = np.clip(np.linalg.eigvalsh(cov_mat), 0, None)
    s1 = np.sum(eigvals)
    s2 = np.sum(eigvals**2)
    if s1 == 0 or s2 == 0:
        return 0.0
    return (s1**2) / s2


def participation_ratio_from_data(X_c):
    n, f = X_c.shape
    M = (X_c.T @ X_c) / n if f <= n else (X_c @ X_c.T) / n
    return participation_ratio_of_covariance(M)


def principal_angles(X, Y, k):
    X2d = X.reshape(-1, X.shape[-1])
    Y2d = Y.reshape(-1, Y.shape[-1])
    k_eff = min(k, min(X2d.shape) - 1, min(Y2d.shape) - 1)
    if k_eff < 1:
        return np.array([])
    pca_X = PCA(n_components=k_eff, svd_solver="randomized", random_state=0).fit(X2d)
    pca_Y = PCA(n_components=k_eff, svd_solver="randomized", random_state=0).fit(Y2d)
    return subspace_angles(pca_X.components_.T, pca_Y.components_.T)[::-1]


def pca_cross_variance(X, Y, n_components=None, center_on="X"):
    X2d = X.reshape(-1, X.shape[-1])
    Y2d = Y.reshape(-1, Y.shape[-1])
    pca_X = PCA(n_components=n_components, svd_solver="randomized", random_state=0)
    pca_X.fit(X2d)
    evr_X = pca_X.explained_variance_ratio_
    pca_Y = PCA(n_components=n_components, svd_solver="randomized", random_state=0)
    pca_Y.fit(Y2d)
    evr_Y_self = pca_Y.explained_variance_ratio_
    if center_on == "X":
        Y_centered = Y2d - pca_X.mean_
    else:
        Y_centered = Y2d - Y2d.mean(axis=0, keepdims=True)
    Y_proj = Y_centered @ pca_X.components_.T
    var_total_Y = np.var(Y_centered, axis=0, ddof=0).sum()
    if var_total_Y == 0:
        evr_Y = np.zeros(pca_X.components_.shape[0])
    else:
        evr_Y = np.var(Y_proj, axis=0, ddof=0) / var_total_Y
    X_c = X2d - X2d.mean(axis=0, keepdims=True)
    Y_c = Y2d - Y2d.mean(axis=0, keepdims=True)
    Y_proj_c = Y_proj - Y_proj.mean(axis=0, keepdims=True)
    cov_Yp = (Y_proj_c.T @ Y_proj_c) / Y_proj_c.shape[0]
    return {
        "evr_X": evr_X,
        "cev_X": np.cumsum(evr_X),
        "evr_Y_self": evr_Y_self,
        "cev_Y_self": np.cumsum(evr_Y_self),
        "evr_Y": evr_Y,
        "cev_Y": np.cumsum(evr_Y),
        "PR_X": participation_ratio_from_data(X_c),
        "PR_Y": participation_ratio_from_data(Y_c),
        "PR_Y_in_Xbasis": participation_ratio_of_covariance(cov_Yp),
    }


def direction_averaged_cve(X_period, Y_period, dir_idxs_X, dir_idxs_Y, n_components, n_dirs=8):
    cev_Y_list, cev_Y_self_list = [], []
    for d in range(n_dirs):
        mask_X = dir_idxs_X == d
        mask_Y = dir_idxs_Y == d
        if not mask_X.any() or not mask_Y.any():
            continue
        X_d = X_period[mask_X]
        Y_d = Y_period[mask_Y]
        nX = X_d.shape[0] * X_d.shape[1]
        nY = Y_d.shape[0] * Y_d.shape[1]
        k_d = min(n_components, nX - 1, nY - 1)
        if k_d < 1:
            continue
        res_d = pca_cross_variance(X_d, Y_d, n_components=k_d)
        cev_Y_list.append(res_d["cev_Y"])
        cev_Y_self_list.append(res_d["cev_Y_self"])
    if not cev_Y_list:
        return {"cev_Y_mean": np.array([]), "cev_Y_self_mean": np.array([]), "n_dirs_used": 0}
    min_len = min(len(c) for c in cev_Y_list)
    return {
        "cev_Y_mean": np.stack([c[:min_len] for c in cev_Y_list]).mean(axis=0),
        "cev_Y_self_mean": np.stack([c[:min_len] for c in cev_Y_self_list]).mean(axis=0),
        "n_dirs_used": len(cev_Y_list),
    }
