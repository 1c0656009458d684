"""The ``openstack`` CLI plugin of the appliance repository.

python-openstackclient loads this module through the
``openstack.cli.extension`` entry point (``appliance``), adds the options
below to its parser, and builds :class:`ApplianceClient` when a command
first uses ``client_manager.appliance``. The commands live in
``stratuslab_plugins.osc.appliance`` (entry points
``openstack.appliance.v1``).

The appliance commands talk to an OCI registry, not to a Keystone-backed
service: they run without any ``OS_AUTH_*`` setting. The registry is
given with::

    --os-appliance-registry URL            (OS_APPLIANCE_REGISTRY)
    --os-appliance-registry-username NAME  (OS_APPLIANCE_REGISTRY_USERNAME)
    --os-appliance-registry-password PW    (OS_APPLIANCE_REGISTRY_PASSWORD)
    --os-appliance-registry-cacert FILE    (OS_APPLIANCE_REGISTRY_CACERT)
    --os-appliance-registry-insecure       (OS_APPLIANCE_REGISTRY_INSECURE)
    --os-appliance-registry-token-realm ORIGIN[,ORIGIN]
                                           (OS_APPLIANCE_REGISTRY_TOKEN_REALM)

or the same keys without ``os_`` in a ``clouds.yaml`` cloud
(``appliance_registry: https://...``).

The password and the registry's tokens go only to the registry's own
origin; a Bearer token realm off the registry's host receives the
password only when its origin is given with
``--os-appliance-registry-token-realm`` (see
``stratuslab_plugins.appliance.registry.auth``).
"""


from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance import registry
from stratuslab_plugins.appliance import repository
from stratuslab_plugins.osc import options

API_NAME = 'appliance'
API_VERSION_OPTION = 'os_appliance_api_version'
DEFAULT_API_VERSION = '1'
API_VERSIONS = ('1',)

_OPTIONS = ('registry', 'registry_username', 'registry_password',
            'registry_cacert', 'registry_insecure', 'registry_token_realm')


class ApplianceClient:
    """What the commands use: a registry client and its repository.

    Built lazily, so that commands that read only local files (``verify``
    of an image list) need no registry setting.

    :param settings: ``{option: value}`` for the names in ``_OPTIONS``.
    """

    def __init__(self, settings):
        self.settings = settings
        self._registry = None

    @property
    def registry(self):
        if self._registry is None:
            url = self.settings.get('registry')
            if not url:
                raise exceptions.InvalidInput(
                    'No appliance registry given: use '
                    '--os-appliance-registry URL or set '
                    'OS_APPLIANCE_REGISTRY.')
            self._registry = self.client_for(url)
        return self._registry

    def client_for(self, url):
        """A registry client for ``url`` with this client's settings.

        Credentials are only sent to the configured registry.
        """
        own = url.rstrip('/') == (self.settings.get('registry')
                                  or '').rstrip('/')
        return registry.RegistryClient(
            url,
            username=self.settings.get('registry_username') if own else None,
            password=self.settings.get('registry_password') if own else None,
            ca_file=self.settings.get('registry_cacert'),
            insecure=bool(self.settings.get('registry_insecure')),
            token_realms=self._token_realms() if own else ())

    def _token_realms(self):
        value = self.settings.get('registry_token_realm') or ()
        if isinstance(value, str):
            value = value.split(',')
        return [realm.strip() for realm in value if realm.strip()]

    @property
    def repository(self):
        return repository.ApplianceRepository(self.registry)


def make_client(instance):
    """Return the :class:`ApplianceClient` for an OSC ClientManager."""
    config = getattr(instance, '_cli_options', None)
    config = getattr(config, 'config', None) or {}
    return ApplianceClient({name: config.get('appliance_' + name)
                            for name in _OPTIONS})


def build_option_parser(parser):
    """Add the appliance registry options to OSC's global parser."""
    options.add_env_option(
        parser, '--os-appliance-api-version', metavar='<version>',
        help='Appliance commands version, default=%s' % DEFAULT_API_VERSION)
    options.add_env_option(
        parser, '--os-appliance-registry', metavar='<url>',
        help='Base URL of the OCI registry holding appliances')
    options.add_env_option(
        parser, '--os-appliance-registry-username', metavar='<user>',
        help='Registry user or robot account; anonymous when unset')
    options.add_env_option(
        parser, '--os-appliance-registry-password', metavar='<password>',
        help='Registry password or robot secret')
    options.add_env_option(
        parser, '--os-appliance-registry-cacert', metavar='<ca-file>',
        help='PEM file of the CAs that sign the registry certificate')
    options.add_env_option(
        parser, '--os-appliance-registry-insecure', flag=True,
        help='Do not verify the registry TLS certificate (testing only)')
    options.add_env_option(
        parser, '--os-appliance-registry-token-realm',
        metavar='<origin>[,<origin>]',
        help='Origins (https://HOST[:PORT]) of token services off the '
             'registry host that may receive the registry password')
    return parser
