r"""Differentiable nuclear-norm symmetry penalties for neural networks (torch, CPU or CUDA).

* :func:`nuclear_norm_penalty` — on the model's function, sampled:

  .. math:: R(F) = \Big\| \xi \mapsto \big(\mathcal{L}_\xi F(x_n)\big)_{n} \Big\|_*,
     \quad M \in R^{Nk \times d},\; M_{(n,a), i} = (\mathcal{L}_{\xi_i}F)(x_n)_a/\sqrt N,

  computed with :func:`liekit.lie.lie_derivative`, which keeps the autograd graph over
  the parameters, so ``R`` can be added to any training loss.
* :func:`layerwise_nuclear_norm_penalty` — the paper's MLP form, on the weights of each
  linear layer :math:`W: R^{n_{in}} \to R^{n_{out}}` between representations
  :math:`\rho_{in}, \rho_{out}`:

  .. math:: \mathcal{L}_\xi W = d\rho_{out}(\xi)\,W - W\,d\rho_{in}(\xi),\qquad
     \mathcal{L}_\xi b = d\rho_{out}(\xi)\,b,

  a linear map of ξ; the penalty is :math:`\sum_l \|\xi \mapsto (\mathcal{L}_\xi W_l,
  \mathcal{L}_\xi b_l)\|_*`. It is zero exactly on layers equivariant under the identity
  component.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from ..groups import Group
from ..lie import LinearAction, as_action, lie_derivative, sylvester_residual
from ..reps import Rep, trivial

__all__ = ["nuclear_norm_penalty", "layerwise_nuclear_norm_penalty", "lie_derivative_matrix",
           "layerwise_lie_derivative_matrices"]


def _action(candidate: Any, rep_in: Rep | None, rep_out: Rep | None) -> Any:
    if rep_in is None:
        return as_action(candidate, rep_out)
    if not isinstance(rep_in, Rep):
        raise TypeError(f"rep_in must be a Rep, got {type(rep_in).__name__}")
    if isinstance(candidate, Group) and rep_in.group != candidate:
        raise ValueError(f"rep_in is a representation of {rep_in.group.name}, not of the candidate {candidate.name}")
    return LinearAction(rep_in, rep_out)


def lie_derivative_matrix(model: Any, candidate: Any, samples: Any, *, rep_in: Rep | None = None,
                          rep_out: Rep | None = None, batch_size: int | None = None) -> torch.Tensor:
    r"""The matrix ``M`` of shape ``(N·k, d)`` of :math:`\xi \mapsto \mathcal{L}_\xi F` on samples (÷√N)."""
    act = _action(candidate, rep_in, rep_out)
    L = lie_derivative(model, act, samples, batch_size=batch_size)  # (N, d, k)
    N, d, k = L.shape
    return L.permute(0, 2, 1).reshape(N * k, d) / N**0.5


def nuclear_norm_penalty(model: Any, candidate: Any, samples: Any, *, rep_in: Rep | None = None,
                         rep_out: Rep | None = None, batch_size: int | None = None,
                         weight: torch.Tensor | None = None) -> torch.Tensor:
    r"""Differentiable :math:`\|\xi\mapsto\mathcal{L}_\xi F\|_*` on ``samples`` (a torch scalar).

    Parameters
    ----------
    model : callable or torch.nn.Module
        ``(N, m) -> (N, k)``.
    candidate : Group, Rep or Action
        Candidate group (acting by its standard / affine action unless ``rep_in`` is given).
    samples : array-like (N, m)
        Points where the Lie derivative is evaluated (moved to the model's device).
    rep_in, rep_out : Rep, optional
        Representations on inputs and outputs (default: the candidate's action, trivial outputs).
    weight : Tensor (d, d), optional
        A metric on the candidate algebra: the penalty is :math:`\|M W\|_*` (see
        :func:`layerwise_nuclear_norm_penalty`).

    Returns
    -------
    Tensor, shape ()
        Sum of the singular values of ``M`` (see :func:`lie_derivative_matrix`), on the
        model's device, with gradients flowing to the model's parameters.
    """
    M = lie_derivative_matrix(model, candidate, samples, rep_in=rep_in, rep_out=rep_out, batch_size=batch_size)
    W = _check_weight(weight, M.shape[1], M)
    if W is not None:
        M = M @ W
    if M.numel() == 0:
        return M.new_zeros(())
    return torch.linalg.svdvals(M).sum()


def _linear_layers(model: Any) -> list[torch.nn.Linear]:
    if isinstance(model, torch.nn.Linear):
        return [model]
    if isinstance(model, torch.nn.Module):
        return [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    if isinstance(model, Sequence) and all(isinstance(m, torch.nn.Linear) for m in model):
        return list(model)
    raise TypeError(f"model must be a torch.nn.Module with Linear layers or a list of Linear layers, got "
                    f"{type(model).__name__}")


def layerwise_lie_derivative_matrices(model: Any, reps: Sequence[Rep], *, include_bias: bool = True
                                      ) -> list[torch.Tensor]:
    r"""Per linear layer, the matrix ``(rows, d)`` of :math:`\xi \mapsto (d\rho_{l+1}(\xi)W_l - W_l d\rho_l(\xi),
    d\rho_{l+1}(\xi) b_l)` (differentiable in the weights); ``reps`` as in :func:`layerwise_nuclear_norm_penalty`."""
    layers = _linear_layers(model)
    reps = list(reps)
    if len(reps) != len(layers) + 1:
        raise ValueError(f"reps must have one representation per layer boundary: {len(layers) + 1}, got {len(reps)}")
    for r in reps:
        if not isinstance(r, Rep):
            raise TypeError(f"reps must hold Rep objects, got {type(r).__name__}")
        reps[0]._check_same_group(r)
    out = []
    for i, layer in enumerate(layers):
        W = layer.weight
        if reps[i].size != W.shape[1] or reps[i + 1].size != W.shape[0]:
            raise ValueError(
                f"layer {i} maps R^{W.shape[1]} -> R^{W.shape[0]} but reps[{i}], reps[{i + 1}] have sizes"
                f" {reps[i].size}, {reps[i + 1].size}"
            )
        LW = sylvester_residual(reps[i], reps[i + 1], W, discrete=False)  # (d, out, in): dρ_out W − W dρ_in
        cols = [LW.reshape(LW.shape[0], -1)]
        if include_bias and layer.bias is not None:  # the bias is a map from the trivial representation
            Lb = sylvester_residual(trivial(reps[i].group), reps[i + 1], layer.bias[:, None], discrete=False)
            cols.append(Lb.reshape(Lb.shape[0], -1))
        out.append(torch.cat(cols, dim=1).T)  # (rows, d)
    return out


def _check_weight(weight: Any, d: int, like: torch.Tensor) -> torch.Tensor | None:
    if weight is None:
        return None
    if not isinstance(weight, torch.Tensor) or weight.shape != (d, d):
        got = tuple(weight.shape) if isinstance(weight, torch.Tensor) else type(weight).__name__
        raise ValueError(f"weight must be a ({d}, {d}) tensor (a metric on the candidate algebra), got {got}")
    return weight.to(dtype=like.dtype, device=like.device)


def layerwise_nuclear_norm_penalty(model: Any, reps: Sequence[Rep], *, include_bias: bool = True,
                                   weight: torch.Tensor | None = None) -> torch.Tensor:
    r"""Sum over linear layers of :math:`\|\xi \mapsto (d\rho_{l+1}(\xi)W_l - W_l d\rho_l(\xi),\,
    d\rho_{l+1}(\xi) b_l)\|_*`.

    ``reps`` lists the representations of the spaces between layers: ``reps[0]`` on the
    input of the first :class:`torch.nn.Linear`, ``reps[l+1]`` on the output of layer
    ``l`` (so ``len(reps) = #Linear + 1``), all of the same group. ``weight`` (d, d), optional:
    a metric on the algebra, the penalty becomes :math:`\sum_l\|M_l W\|_*` — e.g. the adaptive
    metric :func:`liekit.promote.adaptive.metric_of` of the current matrices (reweighted
    nuclear norm; :mod:`liekit.promote.adaptive`).
    """
    total = None
    for M in layerwise_lie_derivative_matrices(model, reps, include_bias=include_bias):
        W = _check_weight(weight, M.shape[1], M)
        if W is not None:
            M = M @ W
        term = torch.linalg.svdvals(M).sum() if M.numel() else M.new_zeros(())
        total = term if total is None else total + term
    return total if total is not None else torch.zeros(())
