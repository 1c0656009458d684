"""Bodies read whole: every one has a size cap and a clear error past it.

Blobs are streamed (:mod:`.downloads`); everything else a registry or
its token service sends is small by nature and read into memory: error
documents, manifests, tag lists, catalog pages, token responses, Harbor
project pages. A registry that sends an endless answer must cost a
bounded amount of memory, so each is read here, from a streamed
response, at most ``limit + 1`` bytes, and refused past ``limit``.

The caps are far above what real registries send (distribution's
largest answers are catalog pages of ``n`` names; Harbor pages hold at
most 100 repositories), and each names what it bounds.
"""

import json

from stratuslab_plugins.appliance import exceptions

#: Error documents (``{"errors": [...]}``), only used for messages.
ERROR_MAX_BYTES = 64 * 1024
#: A manifest; OCI's own limit for manifests registries accept is 4 MiB.
MANIFEST_MAX_BYTES = 4 * 1024 * 1024
#: A page of tags, of the catalog, or of Harbor's project API.
LISTING_MAX_BYTES = 4 * 1024 * 1024
#: A token service's answer (a JWT of a few KiB, in JSON).
TOKEN_MAX_BYTES = 1024 * 1024
#: What is read of a body nobody uses before closing its connection.
DRAIN_MAX_BYTES = 64 * 1024


class TooLarge(exceptions.RegistryError):
    """A body past its cap; a :class:`RegistryError` naming the cap."""


def read(response, limit, what, source):
    """Return at most ``limit`` bytes of a streamed response's body.

    :param what: what the body is, for messages ("the tags of vo/x").
    :param source: who sent it (the registry's URL, a realm).
    :raises TooLarge: when the body is longer than ``limit``.
    :raises RegistryUnavailable: when the connection breaks.
    """
    try:
        body = response.raw.read(limit + 1, decode_content=True)
    except Exception as error:
        raise exceptions.RegistryUnavailable(
            '%s broke the connection while sending %s: %s.'
            % (source, what, error), url=response.url) from None
    finally:
        response.close()
    if len(body) > limit:
        raise TooLarge(
            '%s sent more than %d bytes for %s; refused (no registry '
            'sends that much here).' % (source, limit, what),
            status=response.status_code, url=response.url)
    return body


def read_json(response, limit, what, source):
    """Return the JSON document of a body read with :func:`read`.

    :raises RegistryError: when it is not JSON, naming ``what``.
    """
    body = read(response, limit, what, source)
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise exceptions.RegistryError(
            '%s sent %s that is not JSON.' % (source, what),
            status=response.status_code, url=response.url) from None


def drain(response):
    """Free a response's connection, reading little of its body.

    A short rest is read so that the connection can be reused; a longer
    one is dropped with the connection.
    """
    try:
        rest = response.raw.read(DRAIN_MAX_BYTES + 1, decode_content=False)
        if len(rest) > DRAIN_MAX_BYTES:
            response.raw.close()
    except Exception:  # the connection is dropped below either way
        pass
    finally:
        response.close()
