"""S/MIME signatures of image lists: sign with cryptography, verify with
OpenSSL.

HEPiX image lists are S/MIME ``multipart/signed`` documents (detached
PKCS#7, SHA-256). Signing uses ``cryptography``'s
``PKCS7SignatureBuilder``; verification runs ``openssl smime -verify
-CApath DIR``, the command EGI's image-list tools and SSM use, against a
directory of hashed CA certificates (``/etc/grid-security/certificates``):
``cryptography`` does not verify PKCS#7 chains, and we write no crypto.
The signer's names are read back with ``openssl x509 -nameopt compat`` so
that they have the ``/C=../O=../CN=..`` form grid DNs are written in.

Once OpenSSL has verified the signature and the chain, every certificate
of the signer's chain is checked against the CRLs of the CA directory
(:mod:`.revocation`, with the site's :class:`revocation.CrlPolicy`): the
chain is rebuilt from the signer up, each issuer found as OpenSSL finds
it (``<issuer hash>.N`` in the directory, else among the certificates
the signature carries) and proven by its signature on the certificate.

Example::

    document = sign(json_bytes, cert_pem, key_pem)
    content, signer = verify(document, '/etc/grid-security/certificates')
    signer.dn, signer.ca
"""

import collections
import os
import re
import subprocess
import tempfile

from cryptography import exceptions as crypto_exceptions
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography import x509

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import revocation

OPENSSL = 'openssl'
TIMEOUT = 60
# Certificates between a signer and its trust anchor, anchor included;
# IGTF chains have two or three.
MAX_CHAIN = 10
MAX_CERTIFICATE_BYTES = 1024 * 1024
_HASH_RE = re.compile(r'^[0-9a-f]{8}$')

Signer = collections.namedtuple('Signer', 'dn ca email')

# OpenSSL's reasons, turned into what the reader should do about them.
_REASONS = (
    ('unable to get local issuer certificate',
     'it is signed by a certificate whose CA is not in %(ca_path)s; '
     'install that CA or do not trust this list'),
    ('self signed certificate',
     'it is signed by a self-signed certificate not in %(ca_path)s'),
    ('certificate has expired',
     'the signer\'s certificate has expired; ask the endorser to re-sign'),
    ('digest failure',
     'the signed content was altered after signing; get a fresh copy'),
    ('signature failure',
     'the signature does not match the content; get a fresh copy'),
    ('no content type', 'it is not an S/MIME document'),
    ('no multipart boundary', 'it is not an S/MIME multipart document'),
    ('invalid mime type', 'it is not an S/MIME signed document'),
    ('unsupported certificate purpose',
     'the signer\'s certificate may not sign e-mail (S/MIME)'),
)


def _openssl(args, what, **kwargs):
    try:
        return subprocess.run([OPENSSL] + args, capture_output=True,
                              timeout=TIMEOUT, **kwargs)
    except FileNotFoundError:
        raise exceptions.SignatureError(
            'Cannot %s: the openssl command is missing; install the '
            'openssl package.' % what) from None


def sign(data, cert_pem, key_pem, chain_pem=b''):
    """Return ``data`` signed as an S/MIME multipart/signed document.

    :param data: the bytes to sign (the image list's JSON).
    :param cert_pem: the endorser's certificate (PEM).
    :param key_pem: its private key (PEM, unencrypted).
    :param chain_pem: intermediate CA certificates to include, if any.
    """
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as error:
        raise exceptions.InvalidInput(
            'Endorser certificate or key is not usable PEM: %s.'
            % error) from None
    builder = pkcs7.PKCS7SignatureBuilder().set_data(data).add_signer(
        cert, key, hashes.SHA256())
    for extra in x509.load_pem_x509_certificates(chain_pem) if chain_pem \
            else []:
        builder = builder.add_certificate(extra)
    try:
        return builder.sign(serialization.Encoding.SMIME,
                            [pkcs7.PKCS7Options.DetachedSignature])
    except ValueError as error:
        raise exceptions.InvalidInput(
            'Cannot sign with this certificate and key: %s.'
            % error) from None


def _x509_fields(cert_pem):
    """Return ``(Signer, issuer hash)`` of a PEM certificate."""
    result = _openssl(['x509', '-noout', '-issuer_hash', '-subject',
                       '-issuer', '-email', '-nameopt', 'compat'],
                      'read a certificate', input=cert_pem)
    if result.returncode:
        raise exceptions.InvalidInput(
            'Certificate is not readable: %s'
            % result.stderr.decode(errors='replace').strip()[:300])
    lines = result.stdout.decode(errors='replace').splitlines()
    issuer_hash = lines[0].strip() if lines else ''
    fields = {}
    emails = []
    for line in lines[1:]:
        key, sep, value = line.partition('=')
        if sep and key in ('subject', 'issuer') and key not in fields:
            fields[key] = value.strip()
        elif line.strip():
            emails.append(line.strip())
    if not _HASH_RE.match(issuer_hash) or len(fields) != 2:
        raise exceptions.InvalidInput(
            'Certificate is not readable: openssl x509 printed %r.'
            % result.stdout[:300])
    return Signer(fields['subject'], fields['issuer'],
                  emails[0] if emails else None), issuer_hash


def certificate_names(cert_pem):
    """Return the :class:`Signer` (DN, CA DN, e-mail) of a certificate."""
    return _x509_fields(cert_pem)[0]


def _issued_by(certificate, candidate):
    if candidate.subject != certificate.issuer:
        return False
    try:
        certificate.verify_directly_issued_by(candidate)
    except (ValueError, TypeError, crypto_exceptions.InvalidSignature,
            crypto_exceptions.UnsupportedAlgorithm):
        return False
    return True


def _directory_candidates(ca_path, issuer_hash):
    """Certificates stored as ``<issuer_hash>.N``, OpenSSL's lookup."""
    for index in range(MAX_CHAIN):
        path = os.path.join(ca_path, '%s.%d' % (issuer_hash, index))
        try:
            with open(path, 'rb') as f:
                data = f.read(MAX_CERTIFICATE_BYTES)
        except OSError:
            return
        try:
            yield x509.load_pem_x509_certificate(data)
        except ValueError:
            continue


def _carried_certificates(document, source):
    """The certificates the S/MIME signature carries (intermediates)."""
    result = _openssl(['smime', '-pk7out'], 'read %s' % source,
                      input=document)
    try:
        return pkcs7.load_pem_pkcs7_certificates(result.stdout)
    except ValueError:
        return []


def _signer_chain(signer_pem, issuer_hash, ca_path, document, source):
    """Rebuild the signer's verified chain as :class:`revocation.Link`s.

    :param issuer_hash: OpenSSL's hash of the signer's issuer.
    """
    certificate = x509.load_pem_x509_certificate(signer_pem)
    carried = None
    links = []
    while len(links) < MAX_CHAIN:
        issuer = next((c for c in _directory_candidates(ca_path,
                                                        issuer_hash)
                       if _issued_by(certificate, c)), None)
        if issuer is None:
            if carried is None:
                carried = _carried_certificates(document, source)
            issuer = next((c for c in carried
                           if _issued_by(certificate, c)), None)
        if issuer is None:
            raise exceptions.SignatureError(
                'Signature of %s: the issuer of %s is neither in %s nor in '
                'the signature, although openssl verified the chain.'
                % (source, revocation.describe(certificate.issuer),
                   ca_path))
        links.append(revocation.Link(certificate, issuer, issuer_hash))
        if issuer == certificate:
            return links
        certificate = issuer
        if certificate.issuer != certificate.subject:
            issuer_hash = _x509_fields(certificate.public_bytes(
                serialization.Encoding.PEM))[1]
    raise exceptions.SignatureError(
        'Signature of %s: the signer\'s chain is longer than %d '
        'certificates.' % (source, MAX_CHAIN))


def _reason(stderr, ca_path):
    text = stderr.decode(errors='replace')
    for needle, reason in _REASONS:
        if needle in text:
            return reason % {'ca_path': ca_path}
    lines = [line for line in text.splitlines() if line.strip()]
    return 'openssl says: %s' % (' / '.join(lines[-3:])[:400] or 'nothing')


def verify(document, ca_path, source='image list', crls=None):
    """Verify an S/MIME document; return ``(content, Signer)``.

    :param document: the multipart/signed bytes.
    :param ca_path: directory of hashed CA certificates (``openssl
        rehash``) and their CRLs (``<hash>.r0``, as fetch-crl writes).
    :param source: what the document is, for messages (a path, a URL).
    :param crls: the site's :class:`revocation.CrlPolicy`; by default
        every CA of the chain must have a current CRL, as with
        ``openssl smime -verify -crl_check_all``.
    :raises SignatureError: naming ``source`` and what to do
        (``RevocationError`` when the chain is revoked or its CRLs are
        missing or stale).
    """
    if not os.path.isdir(ca_path):
        raise exceptions.InvalidInput(
            'CA directory %s does not exist; give the directory of trusted '
            'CA certificates (for example /etc/grid-security/certificates).'
            % ca_path)
    with tempfile.TemporaryDirectory(prefix='sl-smime-') as tmp:
        signer_file = os.path.join(tmp, 'signer.pem')
        result = _openssl(['smime', '-verify', '-CApath', ca_path,
                           '-signer', signer_file],
                          'verify %s' % source, input=document)
        if result.returncode:
            raise exceptions.SignatureError(
                'Signature of %s is not valid: %s.'
                % (source, _reason(result.stderr, ca_path)))
        with open(signer_file, 'rb') as f:
            signer_pem = f.read()
    signer, issuer_hash = _x509_fields(signer_pem)
    revocation.check_chain(
        _signer_chain(signer_pem, issuer_hash, ca_path, document, source),
        ca_path, crls or revocation.CrlPolicy(), source=source)
    return result.stdout, signer
