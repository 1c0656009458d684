"""Names of appliances: identifiers, OCI references and digests.

Everything a user or a remote document gives us as a name passes through
this module before it reaches a URL, a file name or a log line, so that a
name with path characters (``../``, ``%2F``), whitespace, control
characters or query syntax is refused with a message naming it, instead of
addressing something else. The grammars are the OCI distribution
specification's (repository names, tags, digests); the StratusLab
identifier is the Marketplace's (SHA-1 as 27 URL-safe base-64 digits).

Example::

    >>> stratuslab_identifier('c319bbd5afc0a22ba3eaed0507c39383ec28eeff')
    'MMZu9WvwKIro-rtBQfDk4PsKO7_'
    >>> parse_reference('egi.vo/ubuntu:22.04')
    Reference(repository='egi.vo/ubuntu', tag='22.04', digest=None)
"""

import collections
import re
import uuid

from stratuslab_plugins.appliance import exceptions

_B64_URL_ALPHABET = ('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
                     '0123456789-_')
STRATUSLAB_ID_LENGTH = 27

# From the OCI distribution specification ("Pulling manifests").
_COMPONENT = r'[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*'
_REPOSITORY_RE = re.compile(r'\A%s(?:/%s)*\Z' % (_COMPONENT, _COMPONENT))
_REPOSITORY_MAX = 255
_TAG_RE = re.compile(r'\A[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}\Z')
_DIGEST_RE = re.compile(r'\Asha256:[a-f0-9]{64}\Z')
_HEX_LENGTH = {'sha1': 40, 'sha256': 64, 'sha512': 128}
_HEX_RE = {algorithm: re.compile(r'\A[a-f0-9]{%d}\Z' % length)
           for algorithm, length in _HEX_LENGTH.items()}
# Appliance identifiers: UUIDs (HEPiX) or StratusLab identifiers.
_IDENTIFIER_RE = re.compile(r'\A[A-Za-z0-9][A-Za-z0-9_-]{0,127}\Z')

Reference = collections.namedtuple('Reference', 'repository tag digest')


def stratuslab_identifier(sha1_hex):
    """Return the StratusLab Marketplace identifier of a SHA-1.

    The SHA-1 is read as a 160-bit integer and written in base 64 with the
    URL-safe alphabet, most significant digit first, left-padded with
    ``A`` (zero) to 27 digits: the identifier the Marketplace gave every
    image, so that images from that era keep their name.

    :param sha1_hex: the image's SHA-1 as 40 hexadecimal digits.
    """
    check_hex_digest('sha1', sha1_hex)
    number = int(sha1_hex, 16)
    digits = []
    while number:
        number, remainder = divmod(number, 64)
        digits.append(_B64_URL_ALPHABET[remainder])
    text = ''.join(reversed(digits))
    return text.rjust(STRATUSLAB_ID_LENGTH, _B64_URL_ALPHABET[0])


def _shown(value):
    """Return ``value`` for an error message, without control characters."""
    return repr(value)[:200]


def check_hex_digest(algorithm, value):
    """Return ``value`` if it is a lowercase hex digest of ``algorithm``."""
    if not isinstance(value, str) or not _HEX_RE[algorithm].match(value):
        raise exceptions.InvalidInput(
            '%s checksum %s is not %d lowercase hexadecimal digits; copy '
            'the checksum exactly as published.'
            % (algorithm, _shown(value), _HEX_LENGTH[algorithm]))
    return value


def check_repository(name):
    """Return ``name`` if it is a valid OCI repository name.

    Lowercase components of letters and digits separated by ``.``, ``_``,
    ``__`` or dashes, joined by ``/``; no ``..``, no leading ``/``, no
    percent-encoding: a name that passes cannot leave its ``/v2/`` path.
    """
    if (not isinstance(name, str) or len(name) > _REPOSITORY_MAX
            or not _REPOSITORY_RE.match(name)):
        raise exceptions.InvalidInput(
            'Repository name %s is invalid: use lowercase letters, digits '
            'and single separators (. _ -) in components joined by "/", '
            'for example "egi.vo/ubuntu".' % _shown(name))
    return name


def check_tag(tag):
    """Return ``tag`` if it is a valid OCI tag (letters, digits, ``._-``)."""
    if not isinstance(tag, str) or not _TAG_RE.match(tag):
        raise exceptions.InvalidInput(
            'Tag %s is invalid: use up to 128 letters, digits, "_", "." '
            'or "-", not starting with "." or "-", for example "22.04".'
            % _shown(tag))
    return tag


def check_digest(digest):
    """Return ``digest`` if it is an OCI ``sha256:<64 hex>`` digest."""
    if not isinstance(digest, str) or not _DIGEST_RE.match(digest):
        raise exceptions.InvalidInput(
            'Digest %s is invalid: expected "sha256:" followed by 64 '
            'lowercase hexadecimal digits.' % _shown(digest))
    return digest


#: The largest byte count an OCI descriptor carries (an int64).
MAX_SIZE = 2 ** 63 - 1


def check_size(value, what='Size'):
    """Return ``value`` if it is a byte count: an integer, 0 to 2^63-1.

    Booleans, floats (``1e999`` is infinity) and strings are refused, so
    that no size reaches arithmetic it would overflow or mislead.
    """
    if isinstance(value, bool) or not isinstance(value, int) or \
            not 0 <= value <= MAX_SIZE:
        raise exceptions.InvalidInput(
            '%s %s is not a size in bytes (an integer from 0 to 2^63-1).'
            % (what, _shown(value)))
    return value


def check_identifier(identifier):
    """Return ``identifier`` if it is a safe appliance identifier.

    A UUID or a StratusLab identifier: letters, digits, ``-`` and ``_``,
    so that it can be a file name, a log field or a Glance property as is.
    """
    if not isinstance(identifier, str) or not _IDENTIFIER_RE.match(
            identifier):
        raise exceptions.InvalidInput(
            'Appliance identifier %s is invalid: use a UUID or a StratusLab '
            'identifier (letters, digits, "-" and "_").' % _shown(identifier))
    return identifier


def new_identifier():
    """Return a fresh appliance identifier (a random UUID, as AppDB did)."""
    return str(uuid.uuid4())


def parse_reference(text):
    """Split ``REPOSITORY[:TAG][@DIGEST]`` into a checked :class:`Reference`.

    The registry is configured separately, so a reference never carries a
    host: a reference naming one (``host:5000/repo``) is refused rather
    than silently sent to the configured registry. Without tag or digest
    the tag is ``latest``, as with every OCI client.
    """
    if not isinstance(text, str) or not text:
        raise exceptions.InvalidInput(
            'Reference %s is empty; give REPOSITORY:TAG or '
            'REPOSITORY@sha256:DIGEST.' % _shown(text))
    try:
        name, tag, digest = _split_reference(text)
    except exceptions.InvalidInput as error:
        raise exceptions.InvalidInput(
            'Reference %s: %s' % (_shown(text), error)) from None
    if tag is None and digest is None:
        tag = 'latest'
    return Reference(name, tag, digest)


def _split_reference(text):
    name, digest = text, None
    if '@' in text:
        name, digest = text.split('@', 1)
        check_digest(digest)
    tag = None
    last = name.rsplit('/', 1)[-1]
    if ':' in last:
        name, tag = name.rsplit(':', 1)
        check_tag(tag)
    if ':' in name:
        raise exceptions.InvalidInput(
            'it names a registry host; configure the registry with '
            '--os-appliance-registry and give only REPOSITORY:TAG.')
    check_repository(name)
    return name, tag, digest


def format_reference(reference):
    """Return the text form of a :class:`Reference`."""
    text = reference.repository
    if reference.tag:
        text += ':' + reference.tag
    if reference.digest:
        text += '@' + reference.digest
    return text
