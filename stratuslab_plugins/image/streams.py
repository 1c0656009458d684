"""The chunk iterators the ``appliance`` store returns from ``get()``.

glance-api sends what ``get()`` returns after the store call has
returned, so what happens while the data streams (a ranged read's cut,
a checked read's last chunk, a registry failing mid-download) is decided
by these wrappers around the registry client's iterator rather than by
the store's methods. Each one closes what it wraps, so the registry
connection is released however the response ends.
"""

from stratuslab_plugins.image import errors


def limited(chunks, length):
    """Yield at most ``length`` bytes of ``chunks``, then close them."""
    try:
        for chunk in chunks:
            if len(chunk) >= length:
                yield chunk[:length]
                return
            length -= len(chunk)
            yield chunk
    finally:
        chunks.close()


def last_held_back(chunks):
    """Yield ``chunks``, the last one only once the iterator ends cleanly.

    A checked read raises after its last chunk when the bytes are not the
    digest's. Yielded at once, that chunk would complete the response
    (glance-api sends Content-Length bytes), and a client that does not
    hash what it gets (curl, openstacksdk with ``stream=True``) would hold
    the whole altered image. Held back, the response stops short of its
    length and every client sees a failed download.
    """
    held = None
    try:
        for chunk in chunks:
            if held is not None:
                yield held
            held = chunk
    finally:
        chunks.close()
    if held is not None:
        yield held


def translated(chunks, action):
    """Yield ``chunks``; failures mid-stream become glance_store errors."""
    with errors.glance_errors(action):
        yield from chunks
