"""Element-wise work over blocks of the batch, in a few threads.

BLAS already runs the matrix products of a layer on every core. The rest of a convolutional
network's step is memory-bound NumPy work (im2col copies, pooling, ReLU masks, col2im additions)
that NumPy runs on one core. NumPy releases the GIL inside those loops, so splitting the batch
into one block per core and running the blocks in threads uses the other cores too. Blocks are
contiguous ranges of samples, each written by exactly one thread, so results do not depend on
the number of threads.

``NABLANET_NUM_THREADS`` sets the number of threads (default: the CPUs this process may use);
``1`` runs everything in the calling thread. Arrays under about 1 MiB per thread are not split.

>>> out = np.zeros(6)
>>> def fill(start, stop):
...     out[start:stop] = np.arange(start, stop)
>>> for_each_block(fill, 6, nbytes=out.nbytes)
>>> out.tolist()
[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np  # noqa: F401  (used by the doctest)

#: below this many bytes of work per thread, the work is not split
MIN_BYTES_PER_THREAD = 1 << 20

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_key: tuple[int, int] | None = None


def num_threads() -> int:
    """Threads used for element-wise work: ``NABLANET_NUM_THREADS`` or the usable CPUs."""
    env = os.environ.get("NABLANET_NUM_THREADS", "").strip()
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            return 1
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _executor(workers: int) -> ThreadPoolExecutor:
    global _pool, _pool_key
    key = (os.getpid(), workers)  # a forked child needs threads of its own
    with _lock:
        if _pool is None or _pool_key != key:
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nablanet")
            _pool_key = key
        return _pool


def for_each_block(fn: Callable[[int, int], None], n: int, nbytes: int) -> None:
    """Call ``fn(start, stop)`` on contiguous blocks that cover ``range(n)``.

    Parameters
    ----------
    fn : callable ``(start, stop) -> None``
        Works on samples ``start:stop`` only, writing into preallocated outputs; it must not
        call BLAS (which has threads of its own).
    n : int
        Number of samples (the batch axis).
    nbytes : int
        Rough size of the work, to decide whether splitting is worth a thread hand-off.
    """
    k = min(num_threads(), n, max(1, nbytes // MIN_BYTES_PER_THREAD))
    if k <= 1:
        fn(0, n)
        return
    bounds = [n * i // k for i in range(k + 1)]
    pool = _executor(k - 1)
    futures = [pool.submit(fn, bounds[i], bounds[i + 1]) for i in range(1, k)]
    try:
        fn(bounds[0], bounds[1])  # the calling thread takes the first block
    finally:
        for f in futures:
            f.result()
