"""One torch thread for loops of many tiny tensor operations, restoring the caller's setting.

Loops of small dense solves gain nothing from intra-op threads and lose up to 8x when
another process shares the cores (threads spin waiting for each other). Library code that
runs such loops wraps them in :func:`single_threaded`; it never changes the thread count
for longer than the call.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import torch

__all__ = ["single_threaded", "run_single_threaded"]

F = TypeVar("F", bound=Callable[..., Any])


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """Run the block with one torch intra-op thread; the previous count is restored on exit."""
    before = torch.get_num_threads()
    if before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run_single_threaded(fn: F) -> F:
    """Decorator form of :func:`single_threaded`."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with single_threaded():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
