"""A throw-away PKI: a CA, an endorser, an untrusted signer.

The sandbox endorses its appliance with it, and the tests build their
trusted and untrusted signers with it. Never a site's PKI: keys are made
fresh, kept in memory and written only where asked.

Built with ``cryptography`` in memory (EC keys: fast), written to a
directory on demand. ``write_ca_dir`` lays the CA out as IGTF sites do
(``/etc/grid-security/certificates``): PEM files with their OpenSSL
subject-hash links, made by ``openssl rehash``, and each CA's CRL as
``<hash>.r0``, where IGTF's fetch-crl writes it.
"""

import datetime
import ipaddress
import os
import subprocess

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.oid import NameOID


def _name(common_name, org='StratusLab Test'):
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, 'EU'),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def one_line(name):
    """The OpenSSL one-line form of a name: ``/C=EU/O=.../CN=...``."""
    return ''.join('/%s=%s' % (attr.rfc4514_attribute_name, attr.value)
                   for attr in name)


class Identity:
    """A key and its certificate, with PEM accessors."""

    def __init__(self, key, certificate):
        self.key = key
        self.certificate = certificate

    @property
    def dn(self):
        return one_line(self.certificate.subject)

    @property
    def issuer_dn(self):
        return one_line(self.certificate.issuer)

    def cert_pem(self):
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def key_pem(self):
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())

    def write(self, directory, stem):
        """Write ``stem.pem`` and ``stem.key``; return their paths."""
        cert = os.path.join(directory, stem + '.pem')
        key = os.path.join(directory, stem + '.key')
        with open(cert, 'wb') as f:
            f.write(self.cert_pem())
        with open(key, 'wb') as f:
            f.write(self.key_pem())
        return cert, key


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def make_ca(common_name='StratusLab Test CA', issuer=None):
    """Return a CA: self-signed, or an intermediate signed by ``issuer``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name)
    signer = issuer.key if issuer else key
    cert = (x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(issuer.certificate.subject if issuer else name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_now() - datetime.timedelta(days=1))
            .not_valid_after(_now() + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                           critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False,
                key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(
                key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                signer.public_key()), critical=False)
            .sign(signer, hashes.SHA256()))
    return Identity(key, cert)


def issue(ca, common_name, email=None, dns_name=None, days=30):
    """Return an Identity signed by ``ca`` (a person, or a server)."""
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (x509.CertificateBuilder()
               .subject_name(_name(common_name))
               .issuer_name(ca.certificate.subject)
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(_now() - datetime.timedelta(days=1))
               .not_valid_after(_now() + datetime.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=False,
                                                    path_length=None),
                              critical=True)
               .add_extension(x509.AuthorityKeyIdentifier.
                              from_issuer_public_key(ca.key.public_key()),
                              critical=False))
    if dns_name:
        san = x509.SubjectAlternativeName(
            [x509.DNSName(dns_name),
             x509.IPAddress(ipaddress.ip_address('127.0.0.1'))])
        builder = builder.add_extension(san, critical=False).add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
            critical=False)
    if email:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.RFC822Name(email)]), critical=False).add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]),
            critical=False)
    return Identity(key, builder.sign(ca.key, hashes.SHA256()))


def make_crl(ca, revoked=(), reason=None, age=datetime.timedelta(days=1),
             lifetime=datetime.timedelta(days=7)):
    """Return a CRL of ``ca`` revoking the ``revoked`` identities.

    :param reason: a ``x509.ReasonFlags`` given for each, or None.
    :param age: how long ago it was issued (thisUpdate).
    :param lifetime: from thisUpdate to nextUpdate; a CRL whose age
        exceeds it has expired.
    """
    issued = _now() - age
    builder = (x509.CertificateRevocationListBuilder()
               .issuer_name(ca.certificate.subject)
               .last_update(issued).next_update(issued + lifetime))
    for identity in revoked:
        entry = (x509.RevokedCertificateBuilder()
                 .serial_number(identity.certificate.serial_number)
                 .revocation_date(issued))
        if reason is not None:
            entry = entry.add_extension(x509.CRLReason(reason),
                                        critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(ca.key, hashes.SHA256())


def subject_hash(identity):
    """The OpenSSL subject hash naming ``identity``'s files in a CA dir."""
    return subprocess.run(
        ['openssl', 'x509', '-noout', '-subject_hash'],
        input=identity.cert_pem(), check=True,
        capture_output=True).stdout.decode().strip()


def write_crl(directory, ca, crl, index=0):
    """Write ``crl`` as ``<hash of ca>.r<index>``, as fetch-crl does."""
    path = os.path.join(directory, '%s.r%d' % (subject_hash(ca), index))
    with open(path, 'wb') as f:
        f.write(crl.public_bytes(serialization.Encoding.PEM))
    return path


def write_ca_dir(directory, *cas, crls=True):
    """Write CA certificates into ``directory`` with their hash links.

    :param crls: also write a current CRL revoking nothing for each CA
        (IGTF sites keep one per CA, refreshed by fetch-crl).
    """
    os.makedirs(directory, exist_ok=True)
    for index, ca in enumerate(cas):
        with open(os.path.join(directory, 'ca%d.pem' % index), 'wb') as f:
            f.write(ca.cert_pem())
    subprocess.run(['openssl', 'rehash', directory], check=True,
                   capture_output=True)
    if crls:
        for ca in cas:
            write_crl(directory, ca, make_crl(ca))
    return directory
