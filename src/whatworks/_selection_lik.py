"""The likelihood of the selection models of :mod:`whatworks.selection` and its maximisation (internal).

``_Model`` evaluates the negative log-likelihood in x = (mu, [tau2], free deltas): exactly, with its
gradient, for the step function (sums of normal probabilities); by a fixed composite Gauss-Legendre
quadrature for the beta and half-normal selection functions. ``_maximise`` finds the maximum on the box
of the parameter bounds; ``_hessian`` gives the curvature for the standard errors.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from . import _dist

_PMIN = {"stepfun": 0.0, "beta": 1e-5, "halfnorm": 0.0}  # metafor's pval.min
_GL_X, _GL_W = np.polynomial.legendre.leggauss(16)


def _pvals(y: np.ndarray, sd: np.ndarray, alternative: str) -> np.ndarray:
    z = y / sd
    if alternative == "two.sided":
        return 2 * _dist.norm_sf(np.abs(z))
    return _dist.norm_sf(z) if alternative == "greater" else _dist.norm_cdf(z)


def _regions(sd: np.ndarray, steps: np.ndarray, alternative: str) -> tuple[np.ndarray, np.ndarray]:
    """Bounds (2, k, N) of the y-regions in which a study's p-value falls in each interval
    ``steps[j-1] < p <= steps[j]`` (the second region is empty for one-sided p-values)."""
    lower = np.concatenate([[0.0], steps[:-1]])
    if alternative == "less":
        lo, hi = special.ndtri(lower)[None, :], special.ndtri(steps)[None, :]
    elif alternative == "greater":
        lo, hi = special.ndtri(1 - steps)[None, :], special.ndtri(1 - lower)[None, :]
    else:
        lo, hi = special.ndtri(1 - steps / 2)[None, :], special.ndtri(1 - lower / 2)[None, :]
    lo, hi = sd[:, None] * lo, sd[:, None] * hi
    if alternative == "two.sided":
        return np.stack([lo, -hi]), np.stack([hi, -lo])
    return np.stack([lo, lo]), np.stack([hi, lo])


def _cdf_diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Phi(b) - Phi(a) for a <= b, from the upper tails when a > 0 (no cancellation)."""
    up = a > 0
    return np.where(up, special.ndtr(-a) - special.ndtr(-b), special.ndtr(b) - special.ndtr(a))


def _phi_terms(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """phi(a) and a phi(a), both 0 at a = +-inf."""
    fin = np.isfinite(a)
    af = np.where(fin, a, 0.0)
    ph = np.where(fin, np.exp(-0.5 * af**2) / np.sqrt(2 * np.pi), 0.0)
    return ph, af * ph


class _Model:
    """The log-likelihood of one selection model on one dataset, in x = (mu, [tau2], free deltas)."""

    def __init__(self, yi, vi, type_, steps, alternative, delta_fixed, has_tau2):
        self.y, self.v, self.sd = yi, vi, np.sqrt(vi)
        self.type, self.steps, self.alt, self.has_tau2 = type_, steps, alternative, has_tau2
        self.p = np.clip(_pvals(yi, self.sd, alternative), _PMIN[type_], 1 - _PMIN[type_])
        self.fixed = delta_fixed  # NaN where estimated
        self.free = np.flatnonzero(np.isnan(delta_fixed))
        if type_ == "stepfun":
            self.grp = np.searchsorted(steps, self.p, side="left")  # first j with p <= steps[j]
            self.counts = np.bincount(self.grp, minlength=steps.size)
            self.lo, self.hi = _regions(self.sd, steps, alternative)

    def unpack(self, x: np.ndarray) -> tuple[float, float, np.ndarray]:
        tau2 = float(x[1]) if self.has_tau2 else 0.0
        delta = self.fixed.copy()
        delta[self.free] = x[2 if self.has_tau2 else 1 :]
        return float(x[0]), tau2, delta

    def nll(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """Negative log-likelihood and its gradient (exact for stepfun, central differences otherwise)."""
        if self.type == "stepfun":
            return self._step(x)
        f0 = self._cont(x)
        h = 1e-6 * np.maximum(np.abs(x), 1e-2)
        grad = np.array([(self._cont(x + e) - self._cont(x - e)) / (2 * e[i]) for i, e in enumerate(np.diag(h))])
        return f0, grad

    def _step(self, x):
        mu, tau2, delta = self.unpack(x)
        s2 = self.v + tau2
        s = np.sqrt(s2)[None, :, None]
        a_lo, a_hi = (self.lo - mu) / s, (self.hi - mu) / s
        P = _cdf_diff(a_lo, a_hi).sum(0)  # (k, N)
        ph_lo, aph_lo = _phi_terms(a_lo)
        ph_hi, aph_hi = _phi_terms(a_hi)
        dP_mu = ((ph_lo - ph_hi) / s).sum(0)
        dP_t = ((aph_lo - aph_hi) / (2 * s**2)).sum(0)
        A = P @ delta
        e = self.y - mu
        with np.errstate(divide="ignore"):
            ll = np.sum(np.log(delta[self.grp])) - 0.5 * np.sum(np.log(2 * np.pi * s2) + e**2 / s2) - np.sum(np.log(A))
        g_mu = np.sum(e / s2) - np.sum((dP_mu @ delta) / A)
        g_t = np.sum(-0.5 / s2 + 0.5 * e**2 / s2**2) - np.sum((dP_t @ delta) / A)
        with np.errstate(divide="ignore", invalid="ignore"):
            g_d = self.counts / delta - (P / A[:, None]).sum(0)
        grad = [g_mu] + ([g_t] if self.has_tau2 else []) + list(g_d[self.free])
        return -ll, -np.array(grad)

    def weight(self, p: np.ndarray, delta: np.ndarray) -> np.ndarray:
        p = np.clip(p, _PMIN[self.type], 1 - _PMIN[self.type])
        if self.type == "beta":
            return p ** (delta[0] - 1) * (1 - p) ** (delta[1] - 1)
        return np.where(p <= self.steps[0], 1.0, np.exp(-delta[0] * (p**2 - self.steps[0] ** 2)))

    def _cont(self, x: np.ndarray) -> float:
        mu, tau2, delta = self.unpack(x)
        s = np.sqrt(self.v + tau2)
        # panels in u = Phi((y - mu) / s): uniform, plus the images of y = sd * z for z = -8, -7.5, ..., 8 and of the
        # p-value censoring points, so the steep part of w(p(y)) is resolved whatever tau2 is
        zs = np.arange(-8.0, 8.25, 0.5)
        if self.type == "beta":
            zs = np.concatenate([zs, special.ndtri([_PMIN["beta"], 1 - _PMIN["beta"]])])
        cuts = special.ndtr((self.sd[:, None] * zs[None, :] - mu) / s[:, None])
        u = np.sort(np.concatenate([np.broadcast_to(np.linspace(0, 1, 17), (self.y.size, 17)), cuts], 1), 1)
        a, b = u[:, :-1, None], u[:, 1:, None]
        nodes = a + (b - a) * (_GL_X + 1) / 2  # (k, panels, 16)
        yq = mu + s[:, None, None] * special.ndtri(np.clip(nodes, 1e-300, 1 - 1e-16))
        w = self.weight(_pvals(yq, self.sd[:, None, None], self.alt), delta)
        A = np.sum(w * (b - a) / 2 * _GL_W, axis=(1, 2))
        with np.errstate(divide="ignore"):
            ll = np.sum(np.log(self.weight(self.p, delta))) - 0.5 * np.sum(
                np.log(2 * np.pi * s**2) + (self.y - mu) ** 2 / s**2) - np.sum(np.log(A))  # fmt: skip
        return float(-ll) if np.isfinite(ll) else np.inf


def _maximise(model: _Model, x0: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Maximum of the likelihood on the box [lower, upper].

    stepfun (exact gradient): Levenberg-Marquardt-damped Newton steps with a numerical Hessian, on the
    parameters not held at a bound, projected back into the box; it converges to machine precision in a
    few steps from the ML start. The selection functions with a quadrature: L-BFGS-B.
    """
    x = np.clip(x0, lower, upper)
    if model.type != "stepfun":
        from scipy import optimize  # slow to import: only when such a model is fitted

        res = optimize.minimize(model.nll, x, jac=True, method="L-BFGS-B", bounds=list(zip(lower, upper)),
                                options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-9})  # fmt: skip
        return res.x
    f, g = model.nll(x)
    lam = 0.0
    for _ in range(500):
        free = _inner(x, g, lower, upper)
        if not free.any():
            break
        H = _hessian(model, x)[np.ix_(free, free)]
        scale = np.maximum(np.abs(np.diag(H)), 1e-12)
        while True:
            try:
                L = np.linalg.cholesky(H + lam * np.diag(scale))
                break
            except np.linalg.LinAlgError:
                lam = max(10 * lam, 1e-6)
        step = -np.linalg.solve(L.T, np.linalg.solve(L, g[free]))
        xn = x.copy()
        xn[free] += step
        xn = np.clip(xn, lower, upper)
        fn, gn = model.nll(xn)
        if not fn <= f:
            lam = max(10 * lam, 1e-6)
            if lam > 1e12:
                break
            continue
        done = np.max(np.abs(xn - x) / np.maximum(np.abs(x), 1e-3)) < 1e-12 or f - fn < 1e-15 * abs(f)
        x, f, g, lam = xn, fn, gn, lam / 10 if lam > 1e-6 else 0.0
        if done:
            break
    return x


def _inner(x: np.ndarray, g: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Parameters not held at a bound (a bound holds a parameter whose gradient pushes against it)."""
    return ~(((x <= lower + 1e-14) & (g > 0)) | ((x >= upper - 1e-14) & (g < 0)))


def _hessian(model: _Model, x: np.ndarray) -> np.ndarray:
    """Hessian of the negative log-likelihood by central differences of its gradient (the likelihood
    extends smoothly a little beyond tau2 = 0 and delta = 100, so bounds need no one-sided rule)."""
    if model.type != "stepfun":
        return _hessian_f(model, x)
    h = 1e-5 * np.maximum(np.abs(x), 1e-3)
    cols = [(model.nll(x + e)[1] - model.nll(x - e)[1]) / (2 * h[i]) for i, e in enumerate(np.diag(h))]
    H = np.array(cols).T
    return (H + H.T) / 2


def _hessian_f(model: _Model, x: np.ndarray) -> np.ndarray:
    n = x.size
    h = 1e-4 * np.maximum(np.abs(x), 1e-2)
    f = model._cont
    H = np.empty((n, n))
    for i in range(n):
        for j in range(i, n):
            ei, ej = np.eye(n)[i] * h[i], np.eye(n)[j] * h[j]
            H[i, j] = H[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * h[i] * h[j])
    return H
