"""``python -m nablanet.ui``: the same as ``nablanet ui``."""

from __future__ import annotations

import sys

from .launch import main

if __name__ == "__main__":
    sys.exit(main())
