"""Batches of meta-analyses and the weighted sums every estimator is built from (internal).

A batch holds ``m`` datasets (meta-analyses). Every quantity of the random-effects model at a given
tau² -- the weighted least-squares fit, Q, the (restricted) likelihood, its score and information, the
traces behind the DL/HS/HE/SJ standard errors -- is a function of the cross-products

    T_r^(q)(t) = sum_j v_j^q (v_j + t)^-r z_j z_j',   z_j = (1, x_j, y_j),   r = 0..3, q = 0..2,

and of ``sum_j log(v_j + t)``, summed over the effects j of each dataset, with ``t`` one tau² per
dataset. :meth:`Batch.moments` and :meth:`Batch.logsum` are therefore the only places that touch the
individual effects; :mod:`whatworks.estimators` works on these small ``(d, d)`` matrices (d = p + 2)
and never forms a ``k x k`` matrix.

Two layouts:

- :class:`DenseBatch` (``Batch.make``): datasets given as ``(m, k)`` arrays and a ``present`` mask;
  the sums are computed exactly, in O(m k) memory.
- :class:`SharedBatch` (``Batch.leave_one_out``, ``Batch.prefixes``): every dataset is a subset of one
  set of ``k`` effects -- all but one (leave-one-out, influence) or the first ``n`` (cumulative). The
  sums at a dataset's own tau² come from a Taylor expansion of ``(v + t)^-r`` around a few centres
  ``c`` (``|t - c| <= RHO (c + min v)``, truncated after ``TERMS`` terms: error below 1e-16 of the
  sum), so a batch of ``k`` datasets of ``k - 1`` effects costs O(k) time and memory per distinct
  centre instead of O(k²). A leave-one-out sum is the full sum minus the left-out term, computed
  exactly; where that term is nearly the whole sum (cancellation) the dataset is summed exactly.

``y`` is centred once (``y - X b0`` with ``b0`` the inverse-variance fit, :attr:`Batch.offset`), which
changes no estimate (WLS is equivariant) and keeps the one-pass formulas ``y'Wy - h'b`` accurate.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from math import comb

import numpy as np

#: Radius of each expansion, relative to ``c + min v``: every term ``|t - c| / (v + c) <= RHO``.
RHO = 0.1
#: Terms of each expansion: RHO**TERMS * comb(TERMS + 2, 2) < 1e-16 (r <= 3).
TERMS = 19
#: A leave-one-out sum whose left-out term is more than this share of the full sum is summed exactly.
CANCEL = 0.99
#: Datasets summed exactly at a time by :class:`SharedBatch` (bounds memory to CHUNK x k).
CHUNK = 256
#: A dataset whose residual sum of squares is below this share of its sum of squares about the shared
#: centre is summed about its own centre (one-pass sums would keep only -log10(eps * 1/ILL) digits).
ILL = 1e-4


def _zz(z: np.ndarray) -> np.ndarray:
    """Flattened outer products z_j z_j' over the last axis: (..., d) -> (..., d*d)."""
    return (z[..., :, None] * z[..., None, :]).reshape(*z.shape[:-1], -1)


def _z(xs: np.ndarray | None, yc: np.ndarray) -> np.ndarray:
    """z = (1, y) for intercept only (``xs`` None), else (1, x, y); last axis."""
    ones = np.ones(yc.shape + (1,))
    parts = [ones, yc[..., None]] if xs is None else [ones, xs, yc[..., None]]
    return np.concatenate(parts, axis=-1)


def _yscale(yc: np.ndarray, axis: int | None) -> np.ndarray:
    """A power of two that brings the centred effects near 1 when they are extreme (|y| < 2^-100 or >
    2^100), else 1: their squares would be subnormal (6 digits) or overflow. Exact to apply and undo."""
    with np.errstate(divide="ignore", invalid="ignore"):
        top = np.max(np.abs(yc), axis=axis)
        e = np.where((top > 0) & np.isfinite(top) & ((top < 2.0**-100) | (top > 2.0**100)), -np.floor(np.log2(top)), 0.0)
    return np.ldexp(1.0, np.clip(e, -1000, 1000).astype(int))  # 2^1024 would overflow (a subnormal y)


#: Taylor coefficients of (1 + x)^-r: (-1)^j C(r + j - 1, j), for r = 1..3 and j = 0..TERMS.
_COEF = {r: np.array([(-1) ** j * comb(r + j - 1, j) for j in range(TERMS + 1)], dtype=float) for r in (1, 2, 3)}


@dataclass(frozen=True)
class Batch:
    """Effects of ``m`` meta-analyses prepared for estimation (see the module docstring).

    ``p`` is the number of coefficients (1 for intercept only) and ``d`` the size of the cross-product
    matrices: 2 for intercept only (z = (1, y), the coefficient column is the 1), else p + 2.
    """

    p: int
    d: int
    m: int

    @staticmethod
    def make(yi, vi, present=None, X=None) -> "DenseBatch":  # noqa: ANN001
        """``m`` datasets as ``(m, k)`` arrays (1-D: one dataset); ``present`` marks which effects take
        part in each; ``X`` is ``(k, p)`` shared or ``(m, k, p)``, ``None`` for intercept only."""
        return DenseBatch.build(yi, vi, present, X)

    @staticmethod
    def leave_one_out(yi, vi, X=None) -> "SharedBatch":  # noqa: ANN001
        """The ``k`` datasets "all effects but effect i" of one set of ``k`` effects."""
        return SharedBatch.build(yi, vi, X, "loo", np.arange(np.size(yi)))

    @staticmethod
    def prefixes(yi, vi, sizes, X=None) -> "SharedBatch":  # noqa: ANN001
        """The datasets "the first ``n`` effects" for each ``n`` in ``sizes`` (cumulative analyses)."""
        return SharedBatch.build(yi, vi, X, "prefix", np.asarray(sizes, dtype=int))

    @property
    def ix(self) -> np.ndarray:
        """Rows/columns of the coefficients in the cross-product matrices."""
        return np.arange(1, self.p + 1) if self.has_x else np.arange(1)

    @property
    def iy(self) -> int:
        """Row/column of y in the cross-product matrices."""
        return self.d - 1

    @property
    def has_x(self) -> bool:
        return self.d == self.p + 2

    def repeat(self, times: int) -> "Batch":
        """The datasets ``times`` times over (to solve several equations per dataset in one batch)."""
        return self.subset(np.tile(np.arange(self.m), times))

    # implemented by the layouts
    @property
    def k(self) -> np.ndarray:  # pragma: no cover - abstract
        """Number of effects of each dataset (float)."""
        raise NotImplementedError

    @property
    def vmin(self) -> np.ndarray:  # pragma: no cover - abstract
        """Smallest sampling variance of each dataset."""
        raise NotImplementedError

    @property
    def vmax(self) -> np.ndarray:  # pragma: no cover - abstract
        """Largest sampling variance of each dataset."""
        raise NotImplementedError

    @property
    def offset(self) -> np.ndarray:  # pragma: no cover - abstract
        """The coefficients b0 by which y was centred (m, p): estimates are b0 + the centred fit."""
        raise NotImplementedError

    @property
    def yscale(self) -> np.ndarray:  # pragma: no cover - abstract
        """The power of two (m,) by which the centred y of the cross-products is multiplied."""
        raise NotImplementedError

    def subset(self, rows: np.ndarray) -> "Batch":  # pragma: no cover - abstract
        """The datasets at ``rows`` (indices into the datasets)."""
        raise NotImplementedError

    def moments(self, t: np.ndarray, rs: tuple[int, ...], q: int = 0) -> np.ndarray:  # pragma: no cover
        """``T_r^(q)(t)`` for each ``r`` in ``rs``: array (len(rs), m, d, d)."""
        raise NotImplementedError

    def logsum(self, t: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        """``sum_j log(v_j + t)`` over each dataset's effects: (m,)."""
        raise NotImplementedError


@dataclass(frozen=True)
class DenseBatch(Batch):
    """Datasets as rows of ``(m, k)`` arrays with a ``present`` mask (absent: y = 0, v = 1)."""

    yi: np.ndarray
    vi: np.ndarray
    present: np.ndarray  # (m, k) float 0/1
    X: np.ndarray | None  # (m, k, p) (a broadcast view when shared), or None for intercept only
    zz: np.ndarray  # (m, d*d, k): z z' with z = (1, [x,] s (y - x b0)), zero where absent
    b0: np.ndarray  # (m, p)
    ys: np.ndarray  # (m,): s, see _yscale

    @classmethod
    def build(cls, yi, vi, present, X) -> "DenseBatch":  # noqa: ANN001
        yi = np.atleast_2d(np.asarray(yi, dtype=float))
        vi = np.atleast_2d(np.asarray(vi, dtype=float))
        m, k = yi.shape
        pres = np.ones((m, k)) if present is None else np.atleast_2d(present).astype(float)
        on = pres > 0
        yi, vi = np.where(on, yi, 0.0), np.where(on, vi, 1.0)
        if X is not None:
            X = np.asarray(X, dtype=float)
            X = np.broadcast_to(X, (m,) + X.shape[-2:]) if X.ndim == 2 else X
        xs = np.ones((m, k, 1)) if X is None else X
        p = xs.shape[-1]
        w = pres / vi  # b0: the inverse-variance fit; a pseudo-inverse so a degenerate dataset still centres
        with np.errstate(all="ignore"):
            G = np.einsum("mki,mk,mkj->mij", xs, w, xs)
            b0 = np.einsum("mij,mj->mi", np.linalg.pinv(G), np.einsum("mki,mk->mi", xs, w * yi))
        b0 = np.where(np.isfinite(b0), b0, 0.0)
        yc = (yi - np.einsum("mki,mi->mk", xs, b0)) * pres
        ys = _yscale(yc, axis=1)
        zz = np.ascontiguousarray((_zz(_z(X, yc * ys[:, None])) * pres[..., None]).transpose(0, 2, 1))  # fast sums
        return cls(p=p, d=2 if X is None else p + 2, m=m, yi=yi, vi=vi, present=pres, X=X, zz=zz, b0=b0, ys=ys)

    @property
    def k(self) -> np.ndarray:
        return self.present.sum(axis=-1)

    @property
    def offset(self) -> np.ndarray:
        return self.b0

    @property
    def yscale(self) -> np.ndarray:
        return self.ys

    @property
    def vmin(self) -> np.ndarray:
        return np.where(self.present > 0, self.vi, np.inf).min(axis=-1)

    @property
    def vmax(self) -> np.ndarray:
        return np.where(self.present > 0, self.vi, -np.inf).max(axis=-1)

    def subset(self, rows: np.ndarray) -> "DenseBatch":
        rows = np.asarray(rows)
        if rows.size == self.m and (rows == np.arange(self.m)).all():
            return self  # every dataset still iterating: no copy
        X = None if self.X is None else self.X[rows]
        return DenseBatch(p=self.p, d=self.d, m=len(rows), yi=self.yi[rows], vi=self.vi[rows],
                          present=self.present[rows], X=X, zz=self.zz[rows], b0=self.b0[rows], ys=self.ys[rows])

    def moments(self, t: np.ndarray, rs: tuple[int, ...], q: int = 0) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        base = self.present * self.vi**q if q else self.present
        w = 1.0 / (self.vi + t[:, None]) if max(rs) > 0 else None
        out = np.empty((len(rs), self.m, self.d * self.d))
        c, power = base, 0
        for n, r in sorted(enumerate(rs), key=lambda nr: nr[1]):  # w, w², w³ by multiplication
            while power < r:
                c = c * w  # type: ignore[operator]
                power += 1
            out[n] = np.matmul(self.zz, c[:, :, None])[:, :, 0]
        return out.reshape(len(rs), self.m, self.d, self.d)

    def logsum(self, t: np.ndarray) -> np.ndarray:
        return (self.present * np.log(self.vi + np.asarray(t, dtype=float)[:, None])).sum(axis=-1)

    def weights(self, t: np.ndarray) -> np.ndarray:
        """Inverse-variance weights ``1 / (v + t)`` (zero where absent): (m, k)."""
        return self.present / (self.vi + np.asarray(t, dtype=float)[:, None])


@dataclass(frozen=True)
class SharedBatch(Batch):
    """Datasets that are subsets of one set of ``K`` effects: ``kind`` "loo" (dataset i = all but effect
    ``rows[i]``) or "prefix" (dataset i = the first ``rows[i]`` effects)."""

    kind: str
    rows: np.ndarray
    y: np.ndarray  # (K,)
    v: np.ndarray  # (K,)
    xs: np.ndarray | None  # (K, p), None for intercept only
    zz: np.ndarray  # (K, d*d) cross-products of (1, [x,] y - x b0)
    b0: np.ndarray  # (p,): the inverse-variance fit of all K effects
    lo: np.ndarray  # prefix: running min of v; loo: the two smallest
    hi: np.ndarray  # prefix: running max of v; loo: the two largest
    own: np.ndarray  # (m,) bool: datasets summed exactly about their own centre own_b0
    own_b0: np.ndarray  # (m, p)
    ys: float  # the scale of y in zz (see _yscale), also used for the datasets summed about their own centre

    @classmethod
    def build(cls, yi, vi, X, kind: str, rows: np.ndarray) -> "SharedBatch":  # noqa: ANN001
        y = np.asarray(yi, dtype=float)
        v = np.asarray(vi, dtype=float)
        xs = np.ones((y.size, 1)) if X is None else np.asarray(X, dtype=float)
        sw = 1 / np.sqrt(v)
        b0 = np.linalg.lstsq(xs * sw[:, None], y * sw, rcond=None)[0]
        ys = float(_yscale(y - xs @ b0, axis=None))
        zz = _zz(_z(None if X is None else xs, (y - xs @ b0) * ys))
        if kind == "prefix":
            lo, hi = np.minimum.accumulate(v), np.maximum.accumulate(v)
        else:
            srt = np.sort(v)
            lo, hi = srt[:2], srt[::-1][:2]
        p, m = xs.shape[1], len(rows)
        batch = cls(p=p, d=2 if X is None else p + 2, m=m, kind=kind, rows=rows, y=y, v=v,
                    xs=None if X is None else xs, zz=zz, b0=b0, lo=lo, hi=hi, own=np.zeros(m, bool),
                    own_b0=np.broadcast_to(b0, (m, p)).copy(), ys=ys)
        return batch._recentre()

    def _recentre(self) -> "SharedBatch":
        """Flag the datasets whose residual sum of squares (at tau2 = 0) is below ILL of their sum of
        squares about the shared centre b0: one-pass sums would lose its digits, so they are summed
        exactly about their own inverse-variance fit."""
        (T,) = self.moments(np.zeros(self.m), (1,))
        T = T.reshape(self.m, self.d, self.d)
        ix = np.arange(1, self.p + 1) if self.xs is not None else np.arange(1)
        G, h, c = T[:, ix[:, None], ix[None, :]], T[:, ix, self.d - 1], T[:, self.d - 1, self.d - 1]
        with np.errstate(all="ignore"):
            beta = np.einsum("mij,mj->mi", np.linalg.pinv(G), h)
            ill = (c - np.einsum("mi,mi->m", h, beta) < ILL * c) & (c > 0) & np.isfinite(beta).all(axis=1)
        if not ill.any():
            return self
        own_b0 = self.own_b0.copy()
        xs = np.ones((self.K, 1)) if self.xs is None else self.xs
        for part in _chunks(np.flatnonzero(ill)):  # each one's own fit, from its raw effects
            pw = self._mask(part) / self.v[None, :]
            G = np.einsum("nk,ka,kb->nab", pw, xs, xs)
            own_b0[part] = np.einsum("nab,nb->na", np.linalg.pinv(G), np.einsum("nk,ka,k->na", pw, xs, self.y))
        return replace(self, own=ill, own_b0=own_b0)

    @property
    def K(self) -> int:
        return self.v.size

    @property
    def k(self) -> np.ndarray:
        return np.full(self.m, self.K - 1.0) if self.kind == "loo" else self.rows.astype(float)

    @property
    def offset(self) -> np.ndarray:
        return self.own_b0

    @property
    def yscale(self) -> np.ndarray:
        return np.full(self.m, self.ys)

    def _extreme(self, run: np.ndarray) -> np.ndarray:
        if self.kind == "prefix":
            return run[self.rows - 1]
        # leave-one-out: the extreme unless it is the left-out effect, then the runner-up
        return np.where(self.v[self.rows] == run[0], run[1], run[0])

    @property
    def vmin(self) -> np.ndarray:
        return self._extreme(self.lo)

    @property
    def vmax(self) -> np.ndarray:
        return self._extreme(self.hi)

    def subset(self, rows: np.ndarray) -> "SharedBatch":
        rows = np.asarray(rows)
        if rows.size == self.m and (rows == np.arange(self.m)).all():
            return self
        return replace(self, m=len(rows), rows=self.rows[rows], own=self.own[rows], own_b0=self.own_b0[rows])

    def _mask(self, sel: np.ndarray) -> np.ndarray:
        """Dense membership (len(sel), K) of the datasets ``sel``."""
        ar = np.arange(self.K)[None, :]
        keep = ar < self.rows[sel, None] if self.kind == "prefix" else ar != self.rows[sel, None]
        return keep.astype(float)

    def _sums(self, U: np.ndarray, sel: np.ndarray, zz: bool = True) -> np.ndarray:
        """Sums over the effects of each dataset in ``sel`` of ``U[P, j] * zz[j]`` (``zz=False``: of
        ``U[P, j]``): (P, len(sel), d*d) or (P, len(sel)); for "loo" over all K effects (the caller
        removes the left-out one)."""
        if self.kind == "prefix":
            n = int(self.rows[sel].max())
            E = U[:, None, :n] * self.zz[:n].T[None] if zz else U[:, None, :n]  # (P, d*d, n): contiguous in j
            return np.moveaxis(np.cumsum(E, axis=-1)[..., self.rows[sel] - 1], 1, -1) if zz else \
                np.cumsum(E, axis=-1)[:, 0, self.rows[sel] - 1]
        tot = U @ self.zz if zz else U.sum(axis=-1)
        return np.broadcast_to(tot[:, None], (U.shape[0], sel.size) + tot.shape[1:])

    def _centres(self, t: np.ndarray) -> np.ndarray:
        """Expansion centre index of each dataset's ``t`` (-1: sum exactly)."""
        v0 = self.v.min()
        with np.errstate(all="ignore"):
            raw = np.floor(np.log((t + v0) / (v0 * (1 - RHO))) / np.log((1 + RHO) / (1 - RHO)))
        ok = np.isfinite(t) & (t >= 0) & (raw < 5000)
        return np.where(ok, np.nan_to_num(raw), -1).astype(int)

    def _centre(self, b: int) -> tuple[float, float, np.ndarray]:
        """Centre ``c`` of expansion ``b``, its scale ``A = c + min v`` and ``u_j = A / (v_j + c)``."""
        v0 = self.v.min()
        A = v0 * ((1 + RHO) / (1 - RHO)) ** b
        c = A - v0
        return A, c, A / (self.v + c)

    def moments(self, t: np.ndarray, rs: tuple[int, ...], q: int = 0) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        out = np.zeros((len(rs), self.m, self.d * self.d))
        base = self.v**q if q else np.ones(self.K)
        b = self._centres(t)
        exact = b < 0
        pos = [r for r in rs if r > 0]
        if 0 in rs:
            out[rs.index(0)] = self._sums(base[None], np.arange(self.m))[0]
        for bc in np.unique(b[b >= 0]) if pos else ():
            sel = np.flatnonzero(b == bc)
            A, c, u = self._centre(int(bc))
            rmin = min(pos)
            U = base * u**rmin * np.cumprod(np.vstack([np.ones(self.K), np.broadcast_to(u, (max(pos) + TERMS - rmin,
                                                                                            self.K))]), axis=0)
            F = self._sums(U, sel)  # (P, n_sel, dd): sums of v^q u^P z z'
            powers = (((t[sel] - c) / A)[:, None]) ** np.arange(TERMS + 1)[None, :]
            for n, r in enumerate(rs):
                if r > 0:
                    F_r = F[r - rmin: r - rmin + TERMS + 1]
                    out[n, sel] = np.einsum("sj,jsq->sq", powers * _COEF[r][None, :], F_r) / A**r
        if self.kind == "loo":
            i = self.rows
            diag = np.arange(self.d) * (self.d + 1)
            with np.errstate(all="ignore"):
                own_w = 1.0 / (self.v[i] + t)
                for n, r in enumerate(rs):
                    own = (base[i] * own_w**r)[:, None] * self.zz[i]
                    if r > 0:  # cancellation: the left-out effect carries nearly all of a diagonal sum
                        exact |= (own[:, diag] > CANCEL * out[n][:, diag]).any(axis=1)
                    out[n] -= own
        for part in _chunks(np.flatnonzero(exact & ~self.own)):
            pres = self._mask(part) * base
            w = 1.0 / (self.v[None, :] + t[part, None])
            for n, r in enumerate(rs):
                out[n, part] = (pres if r == 0 else pres * w**r) @ self.zz
        for part in _chunks(np.flatnonzero(self.own), CHUNK // 8):  # about their own centre
            pres = self._mask(part) * base
            w = 1.0 / (self.v[None, :] + t[part, None])
            xs = np.ones((self.K, 1)) if self.xs is None else self.xs
            yc = (self.y[None, :] - self.own_b0[part] @ xs.T) * self.ys
            Z = _z(None if self.xs is None else np.broadcast_to(xs, (part.size,) + xs.shape), yc)
            for n, r in enumerate(rs):
                c = pres if r == 0 else pres * w**r
                out[n, part] = np.einsum("nk,nka,nkb->nab", c, Z, Z).reshape(part.size, -1)
        return out.reshape(len(rs), self.m, self.d, self.d)

    def logsum(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        out = np.zeros(self.m)
        b = self._centres(t)
        powers = np.arange(1, TERMS + 1)
        coef = (-1.0) ** (powers + 1) / powers  # log(1 + x) = sum (-1)^(j+1) x^j / j
        for bc in np.unique(b[b >= 0]):
            sel = np.flatnonzero(b == bc)
            A, c, u = self._centre(int(bc))
            E = np.vstack([np.log(self.v + c)[None], np.cumprod(np.broadcast_to(u, (TERMS, self.K)), axis=0)])
            F = self._sums(E, sel, zz=False)  # (1 + TERMS, n_sel)
            dl = ((t[sel] - c) / A)[:, None] ** powers[None, :]
            out[sel] = F[0] + (coef[None, :] * dl * F[1:].T).sum(-1)
        if self.kind == "loo":
            with np.errstate(all="ignore"):
                out -= np.log(self.v[self.rows] + t)
        for part in _chunks(np.flatnonzero(b < 0)):
            out[part] = (self._mask(part) * np.log(self.v[None, :] + t[part, None])).sum(-1)
        return out


def _chunks(idx: np.ndarray, size: int = CHUNK):  # noqa: ANN202
    return (idx[s:s + size] for s in range(0, idx.size, size))
