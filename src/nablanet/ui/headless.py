"""Headless Chromium for driving the app: the browser tests and ``scripts/record_demo.py``.

Debian's Chromium (``apt-get install chromium``) at ``/usr/bin/chromium``, or
``$NABLANET_CHROMIUM``. The flags keep it off the network: without the background-networking
ones Chromium keeps trying to reach Google's hosts, which a closed machine refuses.

>>> "--headless" in CHROMIUM_ARGS and "--disable-background-networking" in CHROMIUM_ARGS
True
"""

from __future__ import annotations

import os

CHROMIUM = os.environ.get("NABLANET_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
