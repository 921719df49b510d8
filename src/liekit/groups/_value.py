r"""Value semantics shared by :class:`~liekit.groups.Group` and :class:`~liekit.reps.Rep`.

Groups and representations are *values*: they copy the arrays they are given, compare by
structure, hash stably (the same number in every process, so it may key a cache on disk) and
pickle. Their tensors are not meant to be modified; torch cannot forbid an in-place change, so
each object records the tensors' version counters at construction and :func:`check_unchanged`
(called by ``__eq__`` / ``__hash__``) raises if one moved.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import torch

__all__ = ["tensor_digest", "combine_digests", "tensor_versions", "check_unchanged", "digest_to_hash"]


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
