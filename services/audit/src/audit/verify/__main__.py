"""Entry point for ``python -m audit.verify``."""

import sys

from .cli import main

sys.exit(main())
