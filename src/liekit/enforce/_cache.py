r"""A cache of equivariant bases keyed on the representations' structure, in memory and optionally on disk.

Groups and representations are values with a stable digest (``rep.fingerprint``), so a basis solved once
is found again for any structurally equal pair — a second identical layer, a model rebuilt from a
``state_dict``, or (with a cache directory) a later process. Set the directory with
:func:`set_cache_dir` or the environment variable ``LIEKIT_CACHE_DIR``; the memory part keeps the
``MEMORY_ENTRIES`` most recently used bases.
"""

from __future__ import annotations

import math
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

import torch

__all__ = ["basis_cache", "set_cache_dir", "clear_cache", "MEMORY_ENTRIES", "MEMORY_BYTES"]

#: how many bases, and how many bytes of them, the in-memory cache keeps (least recently used dropped first)
MEMORY_ENTRIES = 512
MEMORY_BYTES = 1 << 30
_FORMAT = 1  # bump when the stored fields or the solver's conventions change


class _BasisCache:
    def __init__(self) -> None:
        self.memory: OrderedDict[Any, Any] = OrderedDict()
        self.directory: Path | None = None
        self.hits = self.misses = self.disk_hits = 0

    def _dir(self) -> Path | None:
        if self.directory is not None:
            return self.directory
        env = os.environ.get("LIEKIT_CACHE_DIR")
        return Path(env) if env else None

    @staticmethod
    def _file(directory: Path, key: tuple) -> Path:
        rep_in, rep_out, rtol, method, check = key
        name = f"{rep_in.fingerprint}-{rep_out.fingerprint}-{rtol:.3e}-{method}-{int(check)}-v{_FORMAT}.pt"
        return directory / name

    def get(self, key: tuple) -> Any:
        hit = self.memory.get(key)
        if hit is not None:
            self.memory.move_to_end(key)
            self.hits += 1
            return hit
        directory = self._dir()
        if directory is not None:
            path = self._file(directory, key)
            if path.exists():
                try:
                    state = torch.load(path, weights_only=True)
                    from .basis import EquivariantBasis

                    res = EquivariantBasis(**state)
                except Exception:  # a damaged or foreign file: solve again (and overwrite it)
                    res = None
                if res is not None:
                    self.disk_hits += 1
                    self._remember(key, res)
                    return res
        self.misses += 1
        return None

    def _remember(self, key: tuple, value: Any) -> None:
        self.memory[key] = value
        self.memory.move_to_end(key)
        total = sum(v.basis.numel() * v.basis.element_size() for v in self.memory.values())
        while len(self.memory) > 1 and (len(self.memory) > MEMORY_ENTRIES or total > MEMORY_BYTES):
            _, old = self.memory.popitem(last=False)
            total -= old.basis.numel() * old.basis.element_size()

    def put(self, key: tuple, value: Any) -> None:
        self._remember(key, value)
        directory = self._dir()
        if directory is None:
            return
        directory.mkdir(parents=True, exist_ok=True)
        path = self._file(directory, key)
        state = {"basis": value.basis.cpu(), "singular_values": value.singular_values.cpu(), "tol": value.tol,
                 "gap": value.gap, "method": value.method, "shape": tuple(value.shape),
                 "residual": value.residual if not math.isnan(value.residual) else math.nan}
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        torch.save(state, tmp)
        os.replace(tmp, path)  # atomic: a reader never sees half a file


basis_cache = _BasisCache()


def set_cache_dir(path: str | os.PathLike | None) -> None:
    """Keep solved bases in ``path`` across processes (``None``: memory only, or ``$LIEKIT_CACHE_DIR``)."""
    basis_cache.directory = None if path is None else Path(path)


def clear_cache() -> None:
    """Forget every basis held in memory (files in the cache directory stay)."""
    basis_cache.memory.clear()
    basis_cache.hits = basis_cache.misses = basis_cache.disk_hits = 0
