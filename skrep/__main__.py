"""``python -m skrep``: the ``skrep`` command (see :mod:`skrep.cli`)."""

import sys

from .cli import main

sys.exit(main())
