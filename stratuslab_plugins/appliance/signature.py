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

Example::

    document = sign(json_bytes, cert_pem, key_pem)
    content, signer = verify(document, '/etc/grid-security/certificates')
    signer.dn, signer.ca
"""

import collections
import os
import subprocess
import tempfile

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography import x509

from stratuslab_plugins.appliance import exceptions

OPENSSL = 'openssl'
TIMEOUT = 60

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


def certificate_names(cert_pem):
    """Return the :class:`Signer` (DN, CA DN, e-mail) of a certificate."""
    result = _openssl(['x509', '-noout', '-subject', '-issuer', '-email',
                       '-nameopt', 'compat'], 'read a certificate',
                      input=cert_pem)
    if result.returncode:
        raise exceptions.InvalidInput(
            'Certificate is not readable: %s'
            % result.stderr.decode(errors='replace').strip()[:300])
    fields = {}
    emails = []
    for line in result.stdout.decode().splitlines():
        key, sep, value = line.partition('=')
        if sep and key in ('subject', 'issuer'):
            fields[key] = value.strip()
        elif line.strip():
            emails.append(line.strip())
    return Signer(fields['subject'], fields['issuer'],
                  emails[0] if emails else None)


def _reason(stderr, ca_path):
    text = stderr.decode(errors='replace')
    for needle, reason in _REASONS:
        if needle in text:
            return reason % {'ca_path': ca_path}
    lines = [line for line in text.splitlines() if line.strip()]
    return 'openssl says: %s' % (' / '.join(lines[-3:])[:400] or 'nothing')


def verify(document, ca_path, source='image list'):
    """Verify an S/MIME document; return ``(content, Signer)``.

    :param document: the multipart/signed bytes.
    :param ca_path: directory of hashed CA certificates (``openssl rehash``).
    :param source: what the document is, for messages (a path, a URL).
    :raises SignatureError: naming ``source`` and what to do.
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
            signer = certificate_names(f.read())
    return result.stdout, signer
