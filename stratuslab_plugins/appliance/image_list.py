"""HEPiX image lists: the signed catalogue grid sites subscribe to.

An image list is JSON ``{"hv:imagelist": {...}}`` with one
``{"hv:image": {...}}`` entry per endorsed appliance, signed by the
endorser as an S/MIME document (see ``signature``). This module writes
and signs lists (:meth:`ImageList.sign`), and reads them back
(:func:`read`) with every check a subscriber must make before believing
one: the signature verifies against the site's CA directory, the signer's
DN and CA are the list's ``hv:endorser``, and (unless the caller's policy
says otherwise) neither the list nor any entry has expired.

Example::

    image_list = ImageList.new('Ubuntu images', endorser, appliances,
                               expires=now + timedelta(days=30))
    document = image_list.sign(cert_pem, key_pem)   # S/MIME bytes
    same = read(document, '/etc/grid-security/certificates')
"""

import dataclasses
import datetime
import email
import json

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import hepix
from stratuslab_plugins.appliance import identifiers
from stratuslab_plugins.appliance import model
from stratuslab_plugins.appliance import signature

DEFAULT_VALIDITY = datetime.timedelta(days=30)
# Lists are metadata: bound what we parse.
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024


@dataclasses.dataclass
class ImageList:
    """An image list: who endorses which appliances, until when."""

    identifier: str
    title: str
    endorser: model.Endorser
    appliances: list = dataclasses.field(default_factory=list)
    description: str = ''
    source: str = ''
    version: str = '1'
    uri: str = ''
    vo: str = None
    created: datetime.datetime = None
    expires: datetime.datetime = None
    signer: signature.Signer = None

    @classmethod
    def new(cls, title, endorser, appliances=(), validity=DEFAULT_VALIDITY,
            **fields):
        """Return a new list created now, expiring after ``validity``."""
        created = model.now()
        fields.setdefault('identifier', identifiers.new_identifier())
        fields.setdefault('expires', created + validity)
        return cls(title=title, endorser=endorser,
                   appliances=list(appliances), created=created, **fields)

    def find(self, identifier):
        """Return the appliance with ``identifier``, or None."""
        for appliance in self.appliances:
            if appliance.identifier == identifier:
                return appliance
        return None

    def add(self, appliance):
        """Add ``appliance``, replacing the entry with its identifier."""
        self.appliances = [a for a in self.appliances
                           if a.identifier != appliance.identifier]
        self.appliances.append(appliance)

    def to_document(self):
        body = {
            'dc:identifier': self.identifier,
            'dc:title': self.title,
            'dc:description': self.description or '',
            'dc:source': self.source or '',
            'dc:date:created': model.format_time(self.created),
            'dc:date:expires': model.format_time(self.expires),
            'hv:version': self.version,
            'hv:uri': self.uri or '',
            'hv:endorser': hepix.endorser_entry(self.endorser),
            'hv:images': [hepix.to_entry(a) for a in self.appliances],
        }
        if self.vo:
            body['ad:vo'] = self.vo
        return {'hv:imagelist': body}

    def to_json(self):
        return json.dumps(self.to_document(), indent=2,
                          sort_keys=True).encode('utf-8') + b'\n'

    def sign(self, cert_pem, key_pem, chain_pem=b''):
        """Return this list signed by the endorser, as S/MIME bytes.

        The list's endorser is taken from the certificate, so that a list
        we write always names the person who signed it.
        """
        names = signature.certificate_names(cert_pem)
        self.endorser = dataclasses.replace(
            self.endorser, dn=names.dn, ca=names.ca,
            email=self.endorser.email or names.email)
        for appliance in self.appliances:
            appliance.endorser = self.endorser
        return signature.sign(self.to_json(), cert_pem, key_pem, chain_pem)

    @classmethod
    def from_document(cls, document, source='image list'):
        """Build a list from its parsed JSON, validating every entry.

        :raises InvalidInput: naming ``source``, the entry index and the
            field (see :mod:`.hepix`).
        """
        return cls(**hepix.read_list(document, source))

    def check_signer(self, signer, source='image list'):
        """Raise NotTrusted unless ``signer`` is this list's endorser."""
        if (signer.dn, signer.ca) != (self.endorser.dn, self.endorser.ca):
            raise exceptions.NotTrusted(
                '%s is signed by %s (CA %s) but its hv:endorser is %s (CA %s);'
                ' someone re-signed or edited it, do not trust it.'
                % (source, signer.dn, signer.ca, self.endorser.dn,
                   self.endorser.ca))

    def check_expiry(self, at=None, source='image list'):
        """Raise NotTrusted naming the list or first entry that expired."""
        at = at or model.now()
        if self.expires is None or self.expires <= at:
            raise exceptions.NotTrusted(
                '%s %s expired on %s; ask its endorser (%s) for a fresh '
                'list.' % (source, self.identifier,
                           model.format_time(self.expires) or '(no date)',
                           self.endorser.email or self.endorser.dn))
        for appliance in self.appliances:
            if appliance.is_expired(at):
                raise exceptions.NotTrusted(
                    '%s: appliance %s (%s) expired on %s; its endorser must '
                    'renew or remove it.'
                    % (source, appliance.identifier, appliance.title,
                       model.format_time(appliance.expires)))


def parse_json(content, source):
    """Parse a list's JSON strictly (:func:`hepix.loads`)."""
    return hepix.loads(content, source)


def signed_content(document, source='image list'):
    """Return the signed part of an S/MIME document, *without* verifying.

    For an endorser re-signing their own list; never for trusting one.
    """
    message = email.message_from_bytes(document)
    if message.get_content_type() != 'multipart/signed' or \
            not message.is_multipart():
        raise exceptions.InvalidInput(
            '%s is not an S/MIME multipart/signed document.' % source)
    return message.get_payload(0).get_payload(decode=True)


def is_signed(document):
    """True if ``document`` looks like S/MIME rather than bare JSON."""
    return document.lstrip()[:1] not in (b'{', b'[')


def read(document, ca_path=None, require_signature=True, check_expiry=True,
         at=None, source='image list', crls=None):
    """Read an image list, verifying what a subscriber must verify.

    :param document: the list as fetched (S/MIME bytes, or JSON when
        ``require_signature`` is False).
    :param ca_path: directory of hashed trusted CA certificates.
    :param require_signature: refuse an unsigned list.
    :param check_expiry: refuse an expired list or entry.
    :param at: the time to check expiry at (now by default).
    :param source: what the document is (path, URL), for messages.
    :param crls: the :class:`revocation.CrlPolicy` of the signer's chain
        (by default every CA of the chain needs a current CRL).
    :raises SignatureError, NotTrusted, InvalidInput: naming ``source``.
    """
    if len(document) > MAX_DOCUMENT_BYTES:
        raise exceptions.InvalidInput(
            '%s is larger than %d bytes; it is not an image list.'
            % (source, MAX_DOCUMENT_BYTES))
    signer = None
    if is_signed(document):
        if not ca_path:
            raise exceptions.InvalidInput(
                'A CA directory is needed to verify %s; give --ca-path.'
                % source)
        content, signer = signature.verify(document, ca_path, source,
                                           crls=crls)
    elif require_signature:
        raise exceptions.SignatureError(
            '%s is not signed, and the policy requires signed lists; ask '
            'its endorser for the S/MIME signed list.' % source)
    else:
        content = document
    image_list = ImageList.from_document(parse_json(content, source),
                                         source)
    if signer is not None:
        image_list.check_signer(signer, source)
        image_list.signer = signer
    if check_expiry:
        image_list.check_expiry(at, source)
    return image_list
