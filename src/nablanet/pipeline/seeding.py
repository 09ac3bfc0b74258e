"""The one lock around the library's global random generator.

``nn.set_seed`` resets a process-wide generator from which every layer built afterwards spawns
its own. Two threads that build models at once (a training run and the UI's model preview,
two runs of a served UI) would interleave their draws and lose reproducibility, so every
"set the seed, then build" goes through :data:`SEED_LOCK`.

>>> with SEED_LOCK:
...     pass
"""

from __future__ import annotations

import threading

__all__ = ["SEED_LOCK"]

#: held while the global seed is set and the layers (and the trainer's generator) drawn from it
SEED_LOCK = threading.Lock()
