r"""Parameter-space symmetries of neural networks (task layer).

A parameter-space symmetry is an action :math:`a_X(g, \theta)` on a network's parameters —
possibly depending on the data batch :math:`X` — that leaves the loss :math:`L(\theta, X)`
unchanged. Infinitesimally (Theorem 3.1 of *Finding symmetry in neural network parameter
spaces*): :math:`\nabla_\theta L \cdot D_g a_X|_{I,\theta}(h) = 0`, the Lie derivative of the loss
along a parameter-space vector field — computed with the core :mod:`liekit.lie`.

* :mod:`~liekit.params.loss` — named tensors ↔ flat θ; losses as core models.
* :mod:`~liekit.params.candidates` / :mod:`~liekit.params.data_dependent` — candidate
  families (gl(p), hidden-unit gl(H), translations, data-dependent).
* :mod:`~liekit.params.linear` — the symmetries within a family: a nullspace.
* :mod:`~liekit.params.learned` — the paper's learned nonlinear actions, objective (11).
* :mod:`~liekit.params.lifting` — Proposition 4.1, Corollaries 4.2, 4.3, Proposition 4.4.
* :mod:`~liekit.params.networks` — the small losses of the paper's experiments.
"""

from .candidates import Candidate, CandidateSum, GeneralLinear, HiddenUnits, MatrixCandidate, Translations
from .data_dependent import DataDependent
from .learned import PAPER_GAMMAS, PAPER_GAMMAS_DATA_DEPENDENT, LearnedSymmetry, learn_symmetries
from .lifting import Embedding, deeper_embedding, lift, restrict_batch, wider_embedding
from .linear import ParameterSymmetries, candidate_action, find_symmetries, flow, loss_change
from .loss import ParameterLoss, ParameterSpace, loss_gradients
from .networks import mlp_loss

__all__ = [
    "ParameterSpace", "ParameterLoss", "loss_gradients", "Candidate", "CandidateSum", "GeneralLinear",
    "HiddenUnits", "MatrixCandidate", "Translations", "DataDependent", "ParameterSymmetries",
    "candidate_action", "find_symmetries", "flow", "loss_change", "LearnedSymmetry", "learn_symmetries",
    "PAPER_GAMMAS", "PAPER_GAMMAS_DATA_DEPENDENT", "Embedding", "wider_embedding", "deeper_embedding", "lift",
    "restrict_batch", "mlp_loss",
]
