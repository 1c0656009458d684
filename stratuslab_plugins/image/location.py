"""Locations of the ``appliance`` store: what Glance keeps of an image.

``appliance://HOST[:PORT]/REPOSITORY[:TAG]@sha256:HEX`` names a registry,
a repository, the manifest's tag (none for a read-only location) and the
content's digest. Glance stores this text and hands it back to the store
on every read and delete, and accepts it from users through its locations
API, so parsing it is where untrusted input meets the store: the grammar
of references lives in :mod:`stratuslab_plugins.appliance.identifiers`,
and this module only adds the URI's registry part and glance_store's
error.

Apart from :class:`~stratuslab_plugins.image.appliance.Store` because a
location is a value with its own rules, read without any registry; the
store module re-exports it, where glance_store looks it up.
"""

import urllib.parse

from glance_store import exceptions
import glance_store.location

from stratuslab_plugins.appliance import exceptions as appliance_exceptions
from stratuslab_plugins.appliance import identifiers

SCHEME = 'appliance'


class StoreLocation(glance_store.location.StoreLocation):
    """``appliance://HOST[:PORT]/REPOSITORY[:TAG]@sha256:HEX``.

    Specs: ``netloc`` (registry host and port), ``repository``, ``tag``
    (None for a read-only location) and ``digest`` of the content.
    """

    def process_specs(self):
        self.netloc = self.specs['netloc']
        self.repository = self.specs['repository']
        self.tag = self.specs.get('tag')
        self.digest = self.specs['digest']

    def get_uri(self):
        return '%s://%s/%s' % (SCHEME, self.netloc,
                               identifiers.format_reference(
                                   identifiers.Reference(self.repository,
                                                         self.tag,
                                                         self.digest)))

    def parse_uri(self, uri):
        self.validate_schemas(uri, valid_schemas=(SCHEME + '://',))
        problem = None
        try:
            parts = urllib.parse.urlsplit(uri)
        except ValueError:
            parts = urllib.parse.SplitResult(SCHEME, '', '', '', '')
            problem = 'its host is not valid'
        try:
            parts.port
        except ValueError:
            problem = 'its port is not a number'
        if problem is None and (not parts.hostname or '@' in parts.netloc):
            problem = 'it names no registry host (or carries credentials)'
        elif problem is None and (parts.query or parts.fragment):
            problem = 'it has a query or fragment'
        if problem is None:
            try:
                reference = identifiers.parse_reference(parts.path[1:])
            except appliance_exceptions.InvalidInput as error:
                problem = str(error)
            else:
                if reference.digest is None:
                    problem = 'it names no content digest (@sha256:HEX)'
        if problem:
            raise exceptions.BadStoreUri(
                message='Location %s is not an appliance location '
                        '(appliance://HOST[:PORT]/REPOSITORY[:TAG]@sha256:'
                        'HEX): %s.' % (uri, problem))
        self.netloc = parts.netloc
        self.repository = reference.repository
        self.tag = reference.tag
        self.digest = reference.digest
