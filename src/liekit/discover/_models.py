r"""Models discovery can differentiate: callables as they are, fitted polynomial models as :class:`PolynomialModel`.

Private to :mod:`liekit.discover` (the public names are re-exported by
:mod:`liekit.discover.functions`). A fitted scikit-learn polynomial regressor (a ``Pipeline``
of ``PolynomialFeatures`` and a linear model, or a bare linear model) or a pysindy model with
a ``PolynomialLibrary`` becomes :math:`F(x) = C\,\phi(x)` on :class:`~liekit.lie.PolynomialBasis`
monomials, differentiated exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..lie import PolynomialBasis

__all__ = ["PolynomialModel", "as_model"]


@dataclass
class PolynomialModel:
    r"""A polynomial map :math:`F(x) = C\,\phi(x)`, ``C`` of shape ``(k, P)`` on :class:`PolynomialBasis` monomials."""

    coefficients: torch.Tensor
    basis: PolynomialBasis
    source: str = "polynomial"

    @property
    def degree(self) -> int:
        return self.basis.degree

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        c = self.coefficients.to(dtype=x.dtype, device=x.device)
        return self.basis(x) @ c.T


def _from_powers(powers: Any, coef: Any, intercept: Any, source: str) -> PolynomialModel:
    pw = np.asarray(powers, dtype=int)
    c = np.atleast_2d(np.asarray(coef, dtype=np.float64))
    if c.shape[1] != pw.shape[0]:
        raise TypeError(f"{source}: {c.shape[1]} coefficients for {pw.shape[0]} features; cannot read the polynomial")
    m = pw.shape[1]
    degree = int(pw.sum(axis=1).max()) if pw.size else 0
    basis = PolynomialBasis(m, max(degree, 1))
    C = torch.zeros(c.shape[0], basis.size, dtype=torch.float64)
    for col, e in enumerate(pw.tolist()):
        C[:, basis.index[tuple(e)]] += torch.as_tensor(c[:, col])
    b = np.broadcast_to(np.asarray(intercept, dtype=np.float64), (c.shape[0],))
    C[:, basis.index[(0,) * m]] += torch.as_tensor(np.array(b))
    return PolynomialModel(C, basis, source)


def _sklearn_polynomial(model: Any) -> PolynomialModel:
    name = type(model).__name__
    steps = [s for _, s in model.steps if s not in (None, "passthrough")] if hasattr(model, "steps") else [model]
    last = steps[-1]
    if not (hasattr(last, "coef_") and hasattr(last, "intercept_")):
        raise TypeError(
            f"scikit-learn model {name} (final step {type(last).__name__}) has no polynomial form liekit can"
            " differentiate: use a Pipeline(PolynomialFeatures, <linear model>) or wrap the model as a torch"
            " callable"
        )
    pre = steps[:-1]
    if len(pre) > 1 or (pre and type(pre[0]).__name__ != "PolynomialFeatures"):
        names = ", ".join(type(s).__name__ for s in pre)
        raise TypeError(
            f"scikit-learn pipeline steps ({names}) are not supported: liekit reads polynomial models made of"
            " one PolynomialFeatures step followed by a linear model; wrap other models as a torch callable"
        )
    if pre:
        powers = pre[0].powers_
    else:
        m = np.atleast_2d(last.coef_).shape[1]
        powers = np.eye(m, dtype=int)
    return _from_powers(powers, last.coef_, last.intercept_, f"scikit-learn {name}")


def _pysindy_polynomial(model: Any) -> PolynomialModel:
    lib = model.feature_library
    if not hasattr(lib, "powers_"):
        raise TypeError(
            f"pysindy model with feature library {type(lib).__name__}: only PolynomialLibrary models have a"
            " polynomial vector field liekit can differentiate exactly; wrap the model as a torch callable"
        )
    return _from_powers(lib.powers_, model.coefficients(), 0.0, "pysindy SINDy")


def as_model(F: Any) -> Any:
    """A torch-differentiable form of ``F``: itself (callables, torch modules) or a :class:`PolynomialModel`.

    Fitted scikit-learn polynomial regressors and pysindy models become :class:`PolynomialModel`;
    other scikit-learn models raise ``TypeError`` (they have no differentiable form).
    """
    if isinstance(F, PolynomialModel) or isinstance(F, torch.nn.Module):
        return F
    mod = type(F).__module__
    if mod.startswith("pysindy"):
        if not hasattr(F, "coefficients"):
            raise TypeError(f"pysindy object {type(F).__name__} is not a fitted SINDy model")
        try:
            return _pysindy_polynomial(F)
        except AttributeError as exc:
            raise TypeError(f"pysindy model is not fitted: {exc}") from exc
    if mod.startswith("sklearn") or (hasattr(F, "predict") and hasattr(F, "get_params")):
        try:
            return _sklearn_polynomial(F)
        except AttributeError as exc:
            raise TypeError(f"scikit-learn model {type(F).__name__} is not fitted or not polynomial: {exc}") from exc
    if not callable(F):
        raise TypeError(
            f"F must be a callable, a torch module, a fitted scikit-learn polynomial model or a fitted pysindy"
            f" model, got {type(F).__name__}"
        )
    return F
