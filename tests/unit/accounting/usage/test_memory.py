"""The listener process's memory settings, in processes of their own.

The arena bound is read back from glibc itself: ``malloc_info()`` lists
one ``<heap>`` per arena. Each check runs in a fresh interpreter, since
arenas, once made, stay for the process's life.
"""

import os
import platform
import subprocess
import sys
import textwrap

import testtools

#: Eight threads, each holding allocations past pymalloc's small-object
#: size (which glibc serves) while the others start; then glibc's own
#: account of its arenas.
PROBE = textwrap.dedent('''
    import ctypes, os, sys, tempfile, threading
    from stratuslab_plugins.accounting.usage import memory
    bounded = memory.bound_malloc_arenas() if sys.argv[1] == 'bound' else None
    barrier = threading.Barrier(9)  # the eight and the main thread
    def hold():
        kept = [bytearray(4096) for _ in range(64)]
        barrier.wait()
        barrier.wait()
    threads = [threading.Thread(target=hold) for _ in range(8)]
    for thread in threads:
        thread.start()
    libc = ctypes.CDLL(None)
    libc.fdopen.restype = ctypes.c_void_p
    libc.fdopen.argtypes = (ctypes.c_int, ctypes.c_char_p)
    libc.malloc_info.argtypes = (ctypes.c_int, ctypes.c_void_p)
    libc.fclose.argtypes = (ctypes.c_void_p,)
    with tempfile.TemporaryFile() as report:
        stream = libc.fdopen(os.dup(report.fileno()), b'w')
        barrier.wait()  # every thread holds its allocations
        libc.malloc_info(0, stream)
        libc.fclose(stream)
        barrier.wait()
        report.seek(0)
        heaps = report.read().count(b'<heap nr=')
    for thread in threads:
        thread.join()
    print(bounded, heaps)
''')


@testtools.skipUnless(platform.libc_ver()[0] == 'glibc', 'glibc only')
class MallocArenasTest(testtools.TestCase):

    def probe(self, mode, **environment):
        env = {name: value for name, value in os.environ.items()
               if name != 'MALLOC_ARENA_MAX'}
        env.update(environment)
        output = subprocess.run(
            [sys.executable, '-c', PROBE, mode], env=env, check=True,
            stdout=subprocess.PIPE, universal_newlines=True).stdout
        bounded, heaps = output.split()
        return bounded, int(heaps)

    def test_the_bound_holds_the_threads_to_two_arenas(self):
        self.assertEqual(('True', 2), self.probe('bound'))

    def test_without_the_bound_threads_take_arenas_of_their_own(self):
        # What the bound is for; and proof that the probe can see it.
        bounded, heaps = self.probe('free')
        self.assertGreater(heaps, 2)

    def test_the_operators_own_setting_is_left_alone(self):
        self.assertEqual(('False', 3),
                         self.probe('bound', MALLOC_ARENA_MAX='3'))
