"""``python -m descentlab``: the same command line as the ``descentlab`` script."""

from .cli import main

raise SystemExit(main())
