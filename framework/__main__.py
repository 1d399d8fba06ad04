"""``python -m framework``: see :mod:`framework.cli`."""

from .cli import main

raise SystemExit(main())
