"""The appliance pillar's exceptions: one hierarchy, messages that act.

Every error names the input it is about (a file, a reference, a URL, an
image-list entry) and says what the user can do, because these messages
reach operators through ``openstack appliance`` and glance-api logs.
Callers catch :class:`ApplianceError` to handle every failure of the
pillar, or a subclass to handle one kind.
"""


class ApplianceError(Exception):
    """Base class of every error raised by ``stratuslab_plugins.appliance``."""


class InvalidInput(ApplianceError, ValueError):
    """A name, reference, identifier, field or file given to us is invalid."""


class RegistryNotAllowed(InvalidInput):
    """A location names a registry the site has not allowed."""


class IntegrityError(ApplianceError):
    """Content does not match what its metadata promises (size, digest)."""


class RegistryError(ApplianceError):
    """The OCI registry refused a request or could not be reached."""

    def __init__(self, message, status=None, url=None):
        super().__init__(message)
        self.status = status
        self.url = url


class RegistryAuthError(RegistryError):
    """The registry answered 401/403: credentials missing or refused."""


class RegistryNotFound(RegistryError):
    """The registry has no such repository, tag, manifest or blob."""


class RegistryUnavailable(RegistryError):
    """The registry failed (5xx) or disappeared, after retries."""


class SignatureError(ApplianceError):
    """An image list's S/MIME signature is missing, invalid or untrusted."""


class RevocationError(SignatureError):
    """The signer's chain is revoked, or the CRLs that would tell are not.

    Raised when a certificate of the chain is on its CA's CRL, and when
    a CRL is missing, expired, not yet valid or not signed by its CA
    (each as the trust policy's ``require_crls`` and
    ``accept_expired_crls`` decide).
    """


class NotTrusted(ApplianceError):
    """The site's trust policy rejects an image list or an appliance."""
