"""Reading a subscription's sources into verified offers.

A source is believed only after every check a subscriber must make: an
image list's S/MIME signature against the subscription's CA directory,
its signer against its ``hv:endorser``, and the site's trust policy on
the list and on each entry (:func:`trust.evaluate`); a registry
project's appliances against the trust policy (the registry's own
access control vouches for who pushed them). A source that cannot be
read or fails verification raises :class:`SourceError`, and the runner
then changes nothing for that VO.

What comes out, per subscription (:class:`Catalogue`):

* ``offers``: trusted appliances, each with the ``appliance://`` location
  the Glance store reads it from (:class:`Offer`). An entry whose
  ``hv:uri`` is a plain HTTPS (or HTTP) file, as in classic AppDB lists,
  is offered for adoption when the subscription says where (``adopt``):
  :func:`prepare` copies it into the site's registry
  (:mod:`stratuslab_plugins.appliance.adoption`) when it is registered,
  and it is then registered like any registry appliance;
* ``rejected``: ``{identifier: reason}`` of appliances the list still
  names but the site must not run (expired, deprecated, denied, format
  not accepted): their images are retired;
* ``skipped``: ``{identifier: reason}`` of trusted appliances the sync
  cannot register (no registry location, or a file and no ``adopt``):
  their images are left alone.
"""

import dataclasses
import urllib.parse

import requests

from stratuslab_plugins.appliance import adoption
from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import hashing
from stratuslab_plugins.appliance import image_list
from stratuslab_plugins.appliance import registry
from stratuslab_plugins.appliance import repository as repository_mod
from stratuslab_plugins.appliance import trust

#: Scheme of the locations the Glance ``appliance`` store reads.
LOCATION_SCHEME = 'appliance'
FETCH_TIMEOUT = 60
ADOPT_HINT = ('; it is a plain file: set adopt in the subscription to '
              'adopt it into the site\'s registry')


class SourceError(exceptions.ApplianceError):
    """A source could not be read or failed verification."""


@dataclasses.dataclass
class Offer:
    """A trusted appliance and where its content is.

    :param location: ``appliance://HOST[:PORT]/REPOSITORY[:TAG]@DIGEST``.
    :param blob: ``(registry URL, repository, digest)`` to read it from.
    :param source: the source's label, for the image's provenance.
    :param list_id: the image list's identifier, or None.
    :param entry: the list's own ``hv:image`` object, as signed (fields
        the model does not keep, such as ``ad:mpuri``, included).
    :param download: the URL of a file to adopt; ``location`` is then
        that URL and ``blob`` None until :func:`prepare` adopted it.
    :param fetched: bytes :func:`prepare` fetched from ``download``.
    """

    appliance: object
    location: str
    blob: tuple
    source: str
    list_id: str = None
    entry: dict = None
    download: str = None
    fetched: int = 0


@dataclasses.dataclass
class Catalogue:
    """Everything a subscription's sources say (module docstring)."""

    offers: list = dataclasses.field(default_factory=list)
    rejected: dict = dataclasses.field(default_factory=dict)
    skipped: dict = dataclasses.field(default_factory=dict)


def appliance_location(registry_url, repository, digest, tag=None):
    """Return the Glance ``appliance`` store location of a blob."""
    netloc = urllib.parse.urlsplit(registry_url).netloc
    return '%s://%s/%s%s@%s' % (LOCATION_SCHEME, netloc, repository,
                                ':' + tag if tag else '', digest)


def fetch(source):
    """Return the bytes of an image list (URL or path), bounded in size."""
    limit = image_list.MAX_DOCUMENT_BYTES + 1
    try:
        if source.is_url:
            with requests.get(source.location, timeout=FETCH_TIMEOUT,
                              stream=True) as response:
                response.raise_for_status()
                return response.raw.read(limit, decode_content=True)
        with open(source.location, 'rb') as stream:
            return stream.read(limit)
    except (requests.RequestException, OSError) as error:
        raise SourceError('Cannot read %s: %s; the VO is left as it is '
                          'until it can be read.' % (source.label, error)
                          ) from None


def _raw_entries(document, source):
    """Return ``{identifier: hv:image object}`` of a *verified* document.

    Called only after :func:`trust.evaluate` verified ``document``, so
    the signed part read again here is the part that was verified.
    """
    content = (image_list.signed_content(document, source.label)
               if image_list.is_signed(document) else document)
    body = image_list.parse_json(content, source.label)['hv:imagelist']
    return {entry['hv:image'].get('dc:identifier'): entry['hv:image']
            for entry in body.get('hv:images') or ()}


def _read_list(source, subscription, catalogue, at):
    document = fetch(source)
    listed, verdicts = trust.evaluate(document, subscription.ca_path,
                                      subscription.policy, at=at,
                                      source=source.label)
    if listed is None or not verdicts[0].trusted:
        reason = verdicts[0].reason.rstrip('.')
        raise SourceError('%s failed verification: %s; nothing changes in '
                          'Glance for VO %s.' % (source.label, reason,
                                                 subscription.vo))
    entries = _raw_entries(document, source)
    for appliance, verdict in zip(listed.appliances, verdicts[1:]):
        if not verdict.trusted:
            catalogue.rejected[appliance.identifier] = verdict.reason
            continue
        uri = appliance.locations[0] if appliance.locations else ''
        common = dict(source=source.label, list_id=listed.identifier,
                      entry=entries.get(appliance.identifier))
        try:
            blob = registry.parse_blob_url(uri)
        except exceptions.InvalidInput as error:
            if not adoption.is_file_url(uri):
                catalogue.skipped[appliance.identifier] = str(error)
            elif not subscription.adopt:
                catalogue.skipped[appliance.identifier] = (
                    str(error).rstrip('.') + ADOPT_HINT)
            else:
                catalogue.offers.append(Offer(appliance, uri, None,
                                              download=uri, **common))
            continue
        catalogue.offers.append(Offer(
            appliance, appliance_location(*blob), blob, **common))


def prepare(offer, spec, subscription, client_for, progress=None):
    """Adopt the offer's file if it has one; return the spec to register.

    Called by the runner just before it registers ``offer``: a file is
    fetched only for an appliance that gets an image (never in a dry
    run, never for one Glance has). Afterwards the offer is a registry
    offer: ``blob`` and ``location`` name the adopted blob, ``fetched``
    the bytes it cost.

    :param progress: makes the progress display of one download:
        ``progress(label, total)`` returns a callable taking byte counts,
        with a ``close()``.
    :raises ApplianceError: the adoption failed; nothing was published.
    """
    if offer.download is None:
        return spec
    target = subscription.adopt
    client = client_for(target.registry)
    bar = progress('adopt %s (%s)' % (offer.appliance.title,
                                      offer.appliance.identifier),
                   offer.appliance.size) if progress else None
    session = adoption.download_session(target.ca_file)
    try:
        adopted = adoption.adopt(client, target.repository, offer.appliance,
                                 offer.download, session, progress=bar)
    except exceptions.ApplianceError as error:
        offer.fetched += getattr(error, 'fetched', 0)
        raise
    finally:
        session.close()
        if bar is not None:
            bar.close()
    offer.fetched += adopted.fetched
    offer.blob = (client.url, target.repository, adopted.digest)
    offer.location = appliance_location(*offer.blob, tag=adopted.tag)
    offer.download = None
    return dataclasses.replace(spec, location=offer.location)


def _read_registry(source, subscription, catalogue, at, client_for):
    repo = repository_mod.ApplianceRepository(client_for(source.location))
    try:
        for name in repo.client.list_project_repositories(source.project):
            for tag in sorted(repo.client.list_tags(name)):
                if not source.wants_tag(tag):
                    continue
                try:
                    appliance = repo.show('%s:%s' % (name, tag))
                except exceptions.InvalidInput as error:
                    catalogue.skipped['%s:%s' % (name, tag)] = str(error)
                    continue
                verdict = subscription.policy.check_appliance(
                    appliance, at=at, list_vo=subscription.vo)
                if not verdict.trusted:
                    catalogue.rejected[appliance.identifier] = verdict.reason
                    continue
                blob = (source.location, name, appliance.digest)
                catalogue.offers.append(Offer(
                    appliance, appliance_location(*blob, tag=tag), blob,
                    source.label))
    except exceptions.RegistryError as error:
        raise SourceError('Cannot read %s: %s; nothing changes in Glance '
                          'for VO %s.' % (source.label, error,
                                          subscription.vo)) from None


def read(subscription, client_for, at=None):
    """Read and verify every source of ``subscription``.

    :param client_for: returns the :class:`registry.RegistryClient` for a
        registry URL (with the site's credentials for its own registry).
    :param at: the time expiry is judged at (now by default).
    :raises SourceError: naming the first source that failed; the caller
        must then change nothing for the VO.
    """
    catalogue = Catalogue()
    for source in subscription.sources:
        if source.kind == 'registry':
            _read_registry(source, subscription, catalogue, at, client_for)
        else:
            _read_list(source, subscription, catalogue, at)
    accepted = []
    for offer in catalogue.offers:
        appliance = offer.appliance
        if subscription.accepts_format(appliance.file_extension):
            accepted.append(offer)
        else:
            catalogue.rejected[appliance.identifier] = (
                'its disk format %s is not in disk_formats of the '
                'subscription of VO %s' % (appliance.file_extension,
                                           subscription.vo))
    catalogue.offers = accepted
    return catalogue


def content(offer, client_for):
    """Yield the offer's bytes from its registry, verified at the end.

    Size, SHA-256 (the digest) and the endorsed SHA-512 are checked after
    the last chunk; :class:`IntegrityError` then tells the caller to
    discard what it stored.
    """
    base, repository, digest = offer.blob
    hasher = hashing.ContentHasher(('sha256', 'sha512'))
    client = client_for(base)
    yield from client.iter_blob(repository, digest,
                                size=offer.appliance.size, hasher=hasher)
    offer.appliance.check_content(hasher.result(), offer.location)
