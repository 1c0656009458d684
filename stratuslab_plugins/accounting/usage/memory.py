"""The listener process's memory: its start-up heap and its allocator.

Two settings of the process, made once, both measured with ``tox -e
bench -- listener``:

* glibc's allocator is held to :data:`ARENA_MAX` arenas (memory), by
  the listener command before its first thread;
* the objects of start-up are frozen out of the garbage collector's
  passes (CPU), by :func:`~.listener.serve` once everything is built.
"""

import ctypes
import gc
import os

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

#: glibc's ``mallopt()`` parameter number for the arena count
#: (``M_ARENA_MAX`` in ``<malloc.h>``).
M_ARENA_MAX = -8

#: Arenas the listener's allocator may use. One is the main arena; the
#: second lets the receiving thread and a batch's thread allocate without
#: waiting for each other.
ARENA_MAX = 2


def freeze_start_up_heap():
    """Keep the objects of start-up out of the garbage collector's passes.

    The listener is CPU-bound, and a third of its garbage collection
    time (about 0.8 s per 20,000 notifications) went to full passes
    over the ~120,000 objects of the modules it imports (oslo.messaging,
    kombu, SQLAlchemy), none of which is ever garbage. ``gc.freeze()``
    moves them to the permanent generation, which the collector skips;
    what is allocated later, the notifications included, is collected
    as before (measured: the listener's CPU per 100 events from 53.5 to
    47.7 ms). Called once, when everything is imported and built.
    """
    gc.collect()
    gc.freeze()


def bound_malloc_arenas(limit=ARENA_MAX):
    """Hold glibc's allocator to ``limit`` arenas; return whether it was.

    oslo.messaging's threading executor hands each batch to a thread of
    its pool (up to ``executor_thread_pool_size``, 64), and glibc gives
    each new thread an arena of its own, up to eight per core. Each
    arena keeps the high-water mark of what its thread once held (a
    batch of notifications and its pickled copy), so a fresh listener's
    resident memory climbed by 30-40 MiB over its first drain of 20,000
    notifications and stayed there, while Python's own heap held 1-4 MiB
    (``tracemalloc``). With two arenas it stays flat from the first
    batch on, at the same drain rate.

    Left alone when ``MALLOC_ARENA_MAX`` is in the environment (glibc
    has read the operator's own setting) and where the C library is not
    glibc. No maintained Python library wraps ``mallopt()``; this is the
    one call, through :mod:`ctypes`.
    """
    if 'MALLOC_ARENA_MAX' in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    bounded = bool(mallopt(M_ARENA_MAX, limit))
    LOG.debug('malloc arenas bounded to %d: %s', limit, bounded)
    return bounded
