"""Revocation: each certificate of an endorser's chain against its CRL.

IGTF relying parties keep each CA's certificate revocation list in the CA
directory beside the CA's certificate, as ``<hash>.r0`` (``<hash>`` is
``openssl x509 -subject_hash`` of the CA), where fetch-crl writes it and
refreshes it every few hours. :func:`check_chain` looks each
certificate's CRLs up there, as OpenSSL's ``-CApath`` lookup does, and
applies the rules of ``openssl smime -verify -crl_check_all`` (the tests
check that both answer alike on the same lists):

* every certificate of the chain, up to and including the trust anchor,
  is looked up in the CRLs of its issuer;
* a CRL counts when it names that issuer; one that does but is not
  signed by the issuer's key, is signed by a CA whose key usage forbids
  CRLs, or whose ``thisUpdate`` is still to come, refuses the chain;
* a certificate on a current CRL is revoked, and the chain refused with
  the certificate, the date, the reason and the CRL file.

The site decides two things, in its trust policy
(:class:`CrlPolicy`, from :mod:`.trust`):

* ``require_crls`` (default true, as ``-crl_check_all``): a CA of the
  chain without a CRL refuses the chain. False accepts chains whose CA
  publishes none (still checking those that do).
* ``accept_expired_crls`` (default false, as ``-crl_check_all``): a CRL
  past its ``nextUpdate`` refuses the chain, naming the file: fetch-crl
  has stopped refreshing it. True uses it anyway (a certificate it lists
  is still revoked) and logs a warning, for sites that prefer running
  with a stale CRL to stopping when a CA's CRL server is down.

Parsing and signature checks are ``cryptography``'s; only the lookup and
the decision are here, because OpenSSL's CLI cannot relax one of these
rules without dropping CRL checks altogether.

Example::

    links = [Link(endorser_cert, ca_cert, '9c265cd1'),
             Link(ca_cert, ca_cert, '9c265cd1')]
    check_chain(links, '/etc/grid-security/certificates', CrlPolicy())
"""

import dataclasses
import datetime
import os
import re

from cryptography import exceptions as crypto_exceptions
from cryptography import x509
from oslo_log import log as logging

from stratuslab_plugins.appliance import exceptions

LOG = logging.getLogger(__name__)

# fetch-crl writes a few MiB for the largest IGTF CAs; a file past this
# is not a CRL we can afford to parse on every verification.
MAX_CRL_BYTES = 64 * 1024 * 1024
# CRLs one CA may have in the directory (<hash>.r0, .r1, ...).
MAX_CRLS_PER_CA = 16
_CRL_NAME = r'^%s\.r\d{1,3}$'


@dataclasses.dataclass(frozen=True)
class CrlPolicy:
    """What the site accepts when a CRL is missing or stale.

    :param require_crls: refuse a chain one of whose CAs has no CRL in
        the CA directory.
    :param accept_expired_crls: use a CRL past its ``nextUpdate`` (with a
        warning) instead of refusing the chain.
    """

    require_crls: bool = True
    accept_expired_crls: bool = False


@dataclasses.dataclass(frozen=True)
class Link:
    """One certificate of a chain, its issuer, and where its CRLs are.

    :param certificate: the certificate checked.
    :param issuer: the certificate of the CA that issued it (itself for
        a self-signed trust anchor).
    :param issuer_hash: OpenSSL's subject hash of the issuer, the stem of
        the issuer's files in the CA directory.
    """

    certificate: x509.Certificate
    issuer: x509.Certificate
    issuer_hash: str


def describe(name):
    """A name in the ``/C=../O=../CN=..`` form grid DNs are written in."""
    return ''.join('/%s=%s' % (attr.rfc4514_attribute_name, attr.value)
                   for attr in name)


def _utc(value):
    return value.strftime('%Y-%m-%dT%H:%M:%SZ') if value else 'never'


def _read_crl(path):
    """Parse one CRL file: PEM, as fetch-crl writes and OpenSSL reads."""
    try:
        with open(path, 'rb') as f:
            # Python allocates what read() is asked for before reading:
            # ask for what the file holds (past the cap: refused below).
            size = os.fstat(f.fileno()).st_size
            data = f.read(min(size, MAX_CRL_BYTES) + 1)
    except OSError as error:
        raise exceptions.RevocationError(
            'CRL %s cannot be read: %s.' % (path, error.strerror)) from None
    if len(data) > MAX_CRL_BYTES:
        raise exceptions.RevocationError(
            'CRL %s is larger than %d bytes; it is not a CRL this site '
            'can use. Remove it and run fetch-crl.' % (path, MAX_CRL_BYTES))
    try:
        return x509.load_pem_x509_crl(data)
    except ValueError as error:
        raise exceptions.RevocationError(
            'CRL %s is not a readable CRL (%s). Remove it and run '
            'fetch-crl.' % (path, error)) from None


def _crl_files(ca_path, issuer_hash):
    pattern = re.compile(_CRL_NAME % re.escape(issuer_hash))
    try:
        names = sorted(n for n in os.listdir(ca_path) if pattern.match(n))
    except OSError as error:
        raise exceptions.RevocationError(
            'CA directory %s cannot be read: %s.'
            % (ca_path, error.strerror)) from None
    return [os.path.join(ca_path, n) for n in names[:MAX_CRLS_PER_CA]]


def _check_signed_by(crl, path, issuer):
    try:
        usage = issuer.extensions.get_extension_for_class(x509.KeyUsage)
    except x509.ExtensionNotFound:
        usage = None
    if usage is not None and not usage.value.crl_sign:
        raise exceptions.RevocationError(
            'CRL %s is issued by CA %s, whose certificate may not sign '
            'CRLs (key usage); remove it and run fetch-crl.'
            % (path, describe(issuer.subject)))
    try:
        valid = crl.is_signature_valid(issuer.public_key())
    except (TypeError, ValueError, crypto_exceptions.UnsupportedAlgorithm):
        valid = False
    if not valid:
        raise exceptions.RevocationError(
            'CRL %s names CA %s but is not signed by its key: it was '
            'altered or replaced. Remove it and run fetch-crl.'
            % (path, describe(issuer.subject)))


def _crls_of(link, ca_path, at):
    """Return ``(current, expired)`` lists of ``(path, crl)`` of an issuer.

    CRLs naming another CA (a hash collision) are skipped, as OpenSSL
    skips them; every other problem refuses.
    """
    current, expired = [], []
    for path in _crl_files(ca_path, link.issuer_hash):
        crl = _read_crl(path)
        if crl.issuer != link.issuer.subject:
            continue
        if crl.extensions and _is_delta(crl):
            continue
        _check_signed_by(crl, path, link.issuer)
        if crl.last_update_utc > at:
            raise exceptions.RevocationError(
                'CRL %s of CA %s is not valid before %s; check this '
                'host\'s clock.' % (path, describe(link.issuer.subject),
                                    _utc(crl.last_update_utc)))
        next_update = crl.next_update_utc
        if next_update is not None and next_update < at:
            expired.append((path, crl))
        else:
            current.append((path, crl))
    return current, expired


def _is_delta(crl):
    try:
        crl.extensions.get_extension_for_class(x509.DeltaCRLIndicator)
    except x509.ExtensionNotFound:
        return False
    return True


def _usable_crls(link, ca_path, policy, at):
    """The CRLs to look ``link``'s certificate up in; refuse by policy."""
    ca = describe(link.issuer.subject)
    current, expired = _crls_of(link, ca_path, at)
    if current:
        return current
    if expired:
        path, crl = expired[0]
        if not policy.accept_expired_crls:
            raise exceptions.RevocationError(
                'CRL %s of CA %s expired on %s: its refresh (fetch-crl) '
                'has stopped. Run fetch-crl, or set accept_expired_crls: '
                'true in the trust policy to use expired CRLs.'
                % (path, ca, _utc(crl.next_update_utc)))
        LOG.warning('Using CRL %s of CA %s although it expired on %s '
                    '(accept_expired_crls); run fetch-crl.', path, ca,
                    _utc(crl.next_update_utc))
        return expired
    if policy.require_crls:
        raise exceptions.RevocationError(
            'CA directory %s has no CRL of CA %s (fetch-crl writes it as '
            '%s.r0). Run fetch-crl, or set require_crls: false in the '
            'trust policy to accept chains whose CA publishes no CRL.'
            % (ca_path, ca, link.issuer_hash))
    return []


def _reason(entry):
    try:
        return entry.extensions.get_extension_for_class(
            x509.CRLReason).value.reason.value
    except x509.ExtensionNotFound:
        return 'unspecified'


def check_chain(links, ca_path, policy=CrlPolicy(), at=None,
                source='image list'):
    """Refuse a chain a certificate of which its CA has revoked.

    :param links: the chain, signer first, each :class:`Link` naming the
        certificate's issuer (the last one is the self-signed anchor).
    :param ca_path: the CA directory holding the CRLs.
    :param policy: the site's :class:`CrlPolicy`.
    :param at: the time to check at (now by default).
    :param source: what was signed, for messages.
    :raises RevocationError: naming ``source``, the certificate, the
        CRL file and what to do.
    """
    at = at or datetime.datetime.now(datetime.timezone.utc)
    # The anchor is looked up in its own CRLs, which also hold the next
    # certificate down: read (and warn about) each issuer's CRLs once.
    by_issuer = {}
    for depth, link in enumerate(links):
        try:
            if link.issuer not in by_issuer:
                by_issuer[link.issuer] = _usable_crls(link, ca_path, policy,
                                                      at)
        except exceptions.RevocationError as error:
            raise exceptions.RevocationError(
                'Signature of %s cannot be trusted: %s' % (source, error)
            ) from None
        crls = by_issuer[link.issuer]
        serial = link.certificate.serial_number
        for path, crl in crls:
            entry = crl.get_revoked_certificate_by_serial_number(serial)
            if entry is None:
                continue
            role = ('the signer\'s certificate' if depth == 0 else
                    'the certificate of CA')
            raise exceptions.RevocationError(
                'Signature of %s is not valid: %s %s (serial %x) was '
                'revoked by %s on %s (reason: %s), per CRL %s. Do not '
                'trust what it signed; ask the endorser for a list signed '
                'with a valid certificate.'
                % (source, role, describe(link.certificate.subject),
                   serial, describe(link.issuer.subject),
                   _utc(entry.revocation_date_utc), _reason(entry), path))
