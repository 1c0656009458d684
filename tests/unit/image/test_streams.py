"""The chunk streams ``get()`` returns: a ranged read's cut."""

import testtools

from stratuslab_plugins.image import streams


class LimitedTest(testtools.TestCase):

    def test_cuts_and_closes(self):
        closed = []

        def chunks():
            try:
                yield b'abc'
                yield b'defg'
                yield b'hij'
            finally:
                closed.append(True)

        self.assertEqual(b'abcde',
                         b''.join(streams.limited(chunks(), 5)))
        self.assertEqual([True], closed)
