"""``python -m liekit``: the same as the ``liekit`` command."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
