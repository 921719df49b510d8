r"""Real eigenspaces of a (nearly) normal operator, grouped by eigenvalue — for the Casimir and weight splits."""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["eigenspaces"]


def eigenspaces(omega: torch.Tensor, tol_rel: float = 1e-7) -> list[tuple[complex, torch.Tensor]] | None:
    """Eigenspaces of ``omega`` grouped by eigenvalue: [(λ, real basis (p, m))]; None if unreliable."""
    p = omega.shape[0]
    scale = float(omega.abs().max()) if p else 0.0
    if p == 0:
        return []
    if scale == 0:
        return [(0.0, torch.eye(p, dtype=omega.dtype, device=omega.device))]
    sym = bool(torch.allclose(omega, omega.T, rtol=0, atol=1e-12 * scale))
    skew = not sym and bool(torch.allclose(omega, -omega.T, rtol=0, atol=1e-12 * scale))
    if sym:
        ev, vec = torch.linalg.eigh(0.5 * (omega + omega.T))
        ev_c = ev.to(torch.complex128).cpu().numpy()
    elif skew:  # iΩ is Hermitian: Ω v = −iμ v for its eigenpairs (μ, v) — eigh, not eig
        mu, vecc = torch.linalg.eigh((0.5j * (omega - omega.T)).to(torch.complex128))
        ev_c = -1j * mu.cpu().numpy()
    else:
        evc, vecc = torch.linalg.eig(omega)
        ev_c = evc.cpu().numpy()
    tol = tol_rel * max(scale, 1.0) * max(p, 1) ** 0.5
    order = np.lexsort((ev_c.imag, ev_c.real))
    groups: list[list[int]] = []
    centers: list[complex] = []
    for i in order:
        lam = ev_c[i]
        # real (symmetric) or imaginary (skew) spectra are sorted on a line: only the last centre can match
        near = centers[-1:] if (sym or skew) else centers
        for gi, c in enumerate(near, start=len(centers) - len(near)):
            if abs(lam - c) <= tol:
                groups[gi].append(int(i))
                break
        else:
            centers.append(complex(lam))
            groups.append([int(i)])
    out: list[tuple[complex, torch.Tensor]] = []
    for c, idx in zip(centers, groups):
        if sym:
            out.append((c.real, vec[:, idx]))
            continue
        if c.imag < -tol:
            continue  # represented by its conjugate
        V = vecc[:, idx]
        if abs(c.imag) <= tol:
            # real eigenvalue: a real basis of the (complex) eigenspace
            M = torch.cat([V.real, V.imag], dim=1)
        else:
            M = torch.cat([V.real, V.imag], dim=1)
            c = complex(c.real, abs(c.imag))
        u, s, _ = torch.linalg.svd(M, full_matrices=False)
        rank = int((s > 1e-9 * s[0]).sum()) if s.numel() else 0
        basis = u[:, :rank].to(omega.dtype)
        want = len(idx) * (2 if abs(c.imag) > tol else 1)
        if rank != want:
            return None
        out.append((c, basis))
    return out
