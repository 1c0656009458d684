"""The appliance CLI plugin: options, lazy client, credentials scope."""

import argparse
import types

import fixtures
import testtools

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.osc import appliance
from stratuslab_plugins.osc import plugin


def instance(**config):
    return types.SimpleNamespace(
        _cli_options=types.SimpleNamespace(config=config))


class PluginTest(testtools.TestCase):

    def test_options_default_from_environment(self):
        self.useFixture(fixtures.EnvironmentVariable(
            'OS_APPLIANCE_REGISTRY', 'https://registry.example'))
        parser = plugin.build_option_parser(argparse.ArgumentParser())
        options = parser.parse_args(['--os-appliance-registry-username',
                                     'robot'])
        self.assertEqual('https://registry.example',
                         options.os_appliance_registry)
        self.assertEqual('robot', options.os_appliance_registry_username)
        self.assertFalse(options.os_appliance_registry_insecure)

    def test_client_is_built_only_when_used(self):
        client = plugin.make_client(instance())
        e = self.assertRaises(exceptions.InvalidInput,
                              lambda: client.registry)
        self.assertIn('--os-appliance-registry', str(e))

    def test_credentials_go_only_to_the_configured_registry(self):
        client = plugin.make_client(instance(
            appliance_registry='https://registry.example/',
            appliance_registry_username='robot',
            appliance_registry_password='secret'))
        own = client.registry
        self.assertEqual('https://registry.example', own.url)
        self.assertEqual('robot', own.session.auth.username)
        other = client.client_for('https://elsewhere.example')
        self.assertIsNone(other.session.auth.username)

    def test_token_realms_reach_only_our_registry(self):
        self.useFixture(fixtures.EnvironmentVariable(
            'OS_APPLIANCE_REGISTRY_TOKEN_REALM',
            'https://auth.example, https://idp.example:8443'))
        parser = plugin.build_option_parser(argparse.ArgumentParser())
        realms = parser.parse_args([]).os_appliance_registry_token_realm
        client = plugin.make_client(instance(
            appliance_registry='https://registry.example',
            appliance_registry_username='robot',
            appliance_registry_token_realm=realms))
        self.assertTrue(client.registry.session.auth.realm_allowed(
            'https://idp.example:8443/token'))
        other = client.client_for('https://elsewhere.example')
        self.assertFalse(other.session.auth.realm_allowed(
            'https://idp.example:8443/token'))

    def test_commands_need_no_keystone(self):
        for name in dir(appliance):
            cls = getattr(appliance, name)
            if isinstance(cls, type) and hasattr(cls, 'act'):
                self.assertFalse(cls.auth_required, name)
