"""Weighted least squares, Q, the likelihood and the traces of P on a batch's cross-products (internal).

Every function takes the matrices ``T = sum_j d_j z_j z_j'`` (``z = (1, [x,] y)``, see
:mod:`whatworks._batch`) of ``m`` datasets and does ``p x p`` algebra on them. With W = diag(w) and
P = W - W X (X'WX)^-1 X'W:  beta = (X'WX)^-1 X'Wy;  sum w e² = y'Wy - (X'Wy)' beta;
tr(P D) = sum w d - tr((X'WX)^-1 X'W²DX);  tr(P A P C) = sum w²ac - 2 tr(M X'W³ACX) + tr(M X'W²AX M X'W²CX).
"""

from __future__ import annotations

import numpy as np

from ._batch import Batch, DenseBatch

def _split(b: Batch, T: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """X'DX (m, p, p), X'Dy (m, p), y'Dy (m,) and sum(d) (m,) from one cross-product matrix (views)."""
    lo = 1 if b.has_x else 0  # the coefficient rows: 0 (the 1 of intercept only) or 1..p
    iy, s = b.iy, b.yscale  # y was multiplied by s (a power of two, usually 1): undone exactly here
    h, c = T[:, lo:lo + b.p, iy], T[:, iy, iy]
    if (s != 1).any():
        h, c = h / s[:, None], c / s / s  # (s**2 itself may overflow)
    return T[:, lo:lo + b.p, lo:lo + b.p], h, c, T[:, 0, 0]


def _inv(G: np.ndarray) -> np.ndarray:
    return 1.0 / G if G.shape[-1] == 1 else np.linalg.inv(G)


def _tr(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """tr(A B) per dataset."""
    return A[:, 0, 0] * B[:, 0, 0] if A.shape[-1] == 1 else np.einsum("mij,mji->m", A, B)


def _quad(a: np.ndarray, G: np.ndarray, c: np.ndarray | None = None) -> np.ndarray:
    """a' G c per dataset (c = a by default)."""
    c = a if c is None else c
    return a[:, 0] * G[:, 0, 0] * c[:, 0] if a.shape[-1] == 1 else np.einsum("mi,mij,mj->m", a, G, c)


def _mv(M: np.ndarray, a: np.ndarray) -> np.ndarray:
    return M[:, :, 0] * a if a.shape[-1] == 1 else np.einsum("mij,mj->mi", M, a)


def _dot(a: np.ndarray, c: np.ndarray) -> np.ndarray:
    return a[:, 0] * c[:, 0] if a.shape[-1] == 1 else np.einsum("mi,mi->m", a, c)


#: A residual sum of squares below this share of y'Dy (the sum it is computed from) is rounding noise
#: and is 0: identical effects give Q = 0 exactly, not 1e-17 (which a 1-df p-value would turn into
#: 1 - 3e-9).
NOISE = 64 * np.finfo(float).eps


def _floor(value: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return np.where(value > NOISE * np.abs(scale), value, 0.0)


def _wls(b: Batch, T1: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted least squares from T_1: centred coefficients (m, p), inv(X'WX) (m, p, p) and the
    weighted residual sum of squares sum w e² (m,)."""
    G, h, c, _ = _split(b, T1)
    M = _inv(G)
    beta = _mv(M, h)
    return beta, M, _floor(c - _dot(h, beta), c)


def _e2(b: Batch, T: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """sum d e² and X'D e for the residuals e = y - X beta, from T = sum d z z'."""
    G, h, c, _ = _split(b, T)
    return _floor(c - 2 * _dot(beta, h) + _quad(beta, G), c), h - _mv(G, beta)


def wls_fit(b: Batch, tau2: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coefficients (m, p), inv(X'WX) (m, p, p) and sum w e² (m,) at ``tau2``, W = diag(1/(vi + tau2))."""
    beta, M, rss = _wls(b, b.moments(np.asarray(tau2, dtype=float), (1,))[0])
    beta = beta + b.offset  # a coefficient below the rounding noise of b0 + centred fit is 0
    return np.where(np.abs(beta) > NOISE * np.abs(b.offset), beta, 0.0), M, rss


def heterogeneity(b: Batch) -> tuple[np.ndarray, np.ndarray]:
    """Cochran's Q (inverse-variance weights) and tr(P) at tau2 = 0, for I² and H² as metafor."""
    T1, T2 = b.moments(np.zeros(b.m), (1, 2))
    _, M, q = _wls(b, T1)
    G2, _, _, _ = _split(b, T2)
    return q, T1[:, 0, 0] - _tr(M, G2)


def q_stat(b: Batch, tau2: np.ndarray) -> np.ndarray:
    """Generalised Q: sum of w (y - X beta_w)² with w = 1 / (vi + tau2)."""
    return _wls(b, b.moments(np.asarray(tau2, dtype=float), (1,))[0])[2]


def loglik(b: Batch, tau2: np.ndarray, *, reml: bool) -> np.ndarray:
    """(Restricted) log-likelihood of the random-effects model at ``tau2`` (metafor's ``ll``)."""
    tau2 = np.asarray(tau2, dtype=float)
    _, M, rss = _wls(b, b.moments(tau2, (1,))[0])
    ll = -0.5 * b.logsum(tau2) - 0.5 * rss
    if reml:
        return ll - 0.5 * (b.k - b.p) * np.log(2 * np.pi) + 0.5 * np.linalg.slogdet(M)[1]
    return ll - 0.5 * b.k * np.log(2 * np.pi)


def _trp(b: Batch, M: np.ndarray, Ta: np.ndarray, Tb: np.ndarray) -> np.ndarray:
    """tr(P D) = sum w d - tr(M X'W²DX), with Ta = sum w d z z' and Tb = sum w² d z z'."""
    return Ta[:, 0, 0] - _tr(M, _split(b, Tb)[0])


def _trpp(b: Batch, M: np.ndarray, Tac: np.ndarray, Tac3: np.ndarray, Ta: np.ndarray, Tc: np.ndarray) -> np.ndarray:
    """tr(P A P C) for diagonal A, C = sum w²ac - 2 tr(M X'W³ACX) + tr(M X'W²AX M X'W²CX), from the
    cross-products Tac = sum w² a c z z', Tac3 = sum w³ a c z z', Ta = sum w² a z z', Tc = sum w² c z z'."""
    Ga, Gc = _split(b, Ta)[0], _split(b, Tc)[0]
    return Tac[:, 0, 0] - 2 * _tr(M, _split(b, Tac3)[0]) + _tr(M @ Ga, M @ Gc)


def wls(b: DenseBatch, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted least squares per dataset of a dense batch with weights ``w`` (m, k): coefficients
    (m, p), residuals (m, k), inv(X'WX) (m, p, p)."""
    w = w * b.present
    xs = np.ones(b.yi.shape + (1,)) if b.X is None else b.X
    M = _inv(np.einsum("mki,mk,mkj->mij", xs, w, xs))
    beta = _mv(M, np.einsum("mki,mk->mi", xs, w * b.yi))
    return beta, (b.yi - np.einsum("mki,mi->mk", xs, beta)) * b.present, M
