r"""Value semantics shared by :class:`~liekit.groups.Group` and :class:`~liekit.reps.Rep`.

Groups and representations are *values*: they copy the arrays they are given, compare by
structure, hash stably (the same number in every process, so it may key a cache on disk) and
pickle. Their tensors are not meant to be modified; torch cannot forbid an in-place change, so
each object records the tensors' version counters at construction and :func:`check_unchanged`
(called by ``__eq__`` / ``__hash__``) raises if one moved.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterable
from typing import Any

import torch

__all__ = ["tensor_digest", "combine_digests", "tensor_versions", "check_unchanged", "digest_to_hash",
           "portable_state", "portable_tensor", "restore_tensor", "ValueObject"]


def tensor_digest(tensors: Iterable[torch.Tensor], *tags: object) -> bytes:
    r"""A 16-byte BLAKE2b digest of ``tags``, the shapes and the float64 bytes of ``tensors``.

    ``-0.0`` and ``0.0`` give the same digest (``torch.equal`` treats them as equal), so that
    equal tensors always have equal digests.
    """
    h = hashlib.blake2b(digest_size=16)
    h.update(repr(tags).encode())
    for t in tensors:
        h.update(repr(tuple(t.shape)).encode())
        arr = (t.detach().to(device="cpu", dtype=torch.float64) + 0.0).contiguous().numpy()
        h.update(arr.tobytes())
    return h.digest()


def combine_digests(tag: str, digests: Iterable[bytes]) -> bytes:
    """Digest of a tagged sequence of digests (for sums, tensor products, duals)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(tag.encode())
    for d in digests:
        h.update(d)
    return h.digest()


def digest_to_hash(digest: bytes) -> int:
    """A Python ``int`` hash from a digest (stable across processes, unlike ``hash(str)``)."""
    return int.from_bytes(digest[:8], "little", signed=True)


def _version(t: torch.Tensor) -> int | None:
    try:
        return int(t._version)
    except RuntimeError:  # inference-mode tensors carry no version counter
        return None


def tensor_versions(tensors: Iterable[torch.Tensor]) -> tuple[int | None, ...]:
    """The version counters of ``tensors`` (bumped by every in-place operation, views included)."""
    return tuple(_version(t) for t in tensors)


def check_unchanged(owner: object, tensors: Iterable[torch.Tensor], versions: tuple[int | None, ...]) -> None:
    """Raise ``RuntimeError`` if one of ``tensors`` was modified in place since ``versions`` was taken."""
    if tensor_versions(tensors) != versions:
        raise RuntimeError(
            f"the matrices of {owner!r} were modified in place after construction; groups and"
            " representations are immutable values (their hash and equality depend on the matrices):"
            " build a new one from modified copies instead"
        )


def restore_tensor(array: object, dtype: str, device: str) -> torch.Tensor:
    """Inverse of :func:`portable_tensor`: the tensor of ``dtype`` on ``device`` (the device if it exists here)."""
    t = torch.as_tensor(array).to(getattr(torch, dtype))
    try:
        return t.to(device)
    except (RuntimeError, AssertionError):  # pickled on a GPU, loaded where there is none
        return t


class _PortableTensor:
    """Pickles as a NumPy array (plus dtype and device) and unpickles as the tensor.

    Torch pickles a tensor through its storage, whose bytes carry per-process ids, so two equal
    tensors pickle differently and ``joblib.hash`` (scikit-learn's check that an estimator did not
    change its parameters) sees a change where there is none. NumPy arrays pickle by value.
    """

    __slots__ = ("t",)

    def __init__(self, t: torch.Tensor) -> None:
        self.t = t

    def __reduce__(self) -> tuple[object, ...]:
        t = self.t.detach()
        return (restore_tensor, (t.cpu().numpy(), str(t.dtype).removeprefix("torch."), str(t.device)))


def portable_tensor(t: torch.Tensor) -> object:
    """``t`` wrapped to pickle by value (a NumPy array), or ``t`` itself where NumPy has no such dtype."""
    return _PortableTensor(t) if t.dtype not in (torch.bfloat16,) and not t.is_sparse else t


def portable_state(state: dict[str, object], transient: Iterable[str]) -> dict[str, object]:
    """An object's ``__dict__`` for pickling: tensors by value, the ``transient`` keys (caches) left out."""
    drop = set(transient)
    return {k: (portable_tensor(v) if isinstance(v, torch.Tensor) else v)
            for k, v in state.items() if k not in drop}


class ValueObject:
    """Mixin of immutable values kept in ``__dict__``: ``copy`` is the object itself, ``deepcopy`` clones its
    tensors, pickling stores tensors by value; the ``_transient`` keys (caches) are rebuilt, never stored."""

    _transient: tuple[str, ...] = ()

    def __copy__(self) -> Any:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        new = object.__new__(type(self))
        memo[id(self)] = new  # cycles (a complex representation and its realification) stay cycles
        new.__setstate__(copy.deepcopy({k: v for k, v in self.__dict__.items() if k not in self._transient}, memo))
        return new

    def __getstate__(self) -> dict[str, Any]:
        return portable_state(self.__dict__, self._transient)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
