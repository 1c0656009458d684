"""``openstack appliance`` as users run it, against a real registry.

Runs python-openstackclient's ``openstack`` command in a subprocess with
no Keystone settings at all (the appliance commands must not need them),
against Debian's docker-registry (registry_fixture), with a CA, an
endorser and an untrusted signer generated for the test.
"""

import json
import os
import subprocess
import sys

from cryptography import x509
import fixtures
import testtools
import yaml

from tests.fixtures import appdb
from tests.functional.appliance import file_server
from tests.functional import registry_fixture
from tests import pki

REF = 'vo.example.org/ubuntu:22.04'


class ApplianceCLITest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.registry = self.useFixture(registry_fixture.RegistryFixture())
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.ca = pki.make_ca()
        self.ca_path = pki.write_ca_dir(os.path.join(self.dir, 'cas'),
                                        self.ca)
        self.jane = pki.issue(self.ca, 'Jane Endorser',
                              email='jane@example.org')
        self.cert, self.key = self.jane.write(self.dir, 'jane')
        self.rogue_cert, self.rogue_key = pki.issue(
            pki.make_ca('Rogue CA'), 'Mallory').write(self.dir, 'mallory')
        self.image = self.path('disk.qcow2')
        with open(self.image, 'wb') as f:
            f.write(os.urandom(150000))

    def path(self, name):
        return os.path.join(self.dir, name)

    def openstack(self, *args, expect=0):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith('OS_')}
        env['OS_APPLIANCE_REGISTRY'] = self.registry.url
        result = subprocess.run(
            [sys.executable, '-m', 'openstackclient.shell', 'appliance']
            + list(args), capture_output=True, text=True, env=env,
            cwd=self.dir, timeout=120)
        self.assertEqual(expect, result.returncode,
                         'stdout: %s\nstderr: %s' % (result.stdout,
                                                     result.stderr))
        return result

    def create(self):
        return json.loads(self.openstack(
            'create', self.image, '--reference', REF, '--title', 'Ubuntu',
            '--distro', 'ubuntu', '--vo', 'vo.example.org',
            '--property', 'org.openstack.glance.os_type=linux',
            '-f', 'json').stdout)

    def test_publish_endorse_verify(self):
        created = self.create()
        self.assertEqual(150000, created['size'])
        self.assertEqual('linux',
                         created['properties']['org.openstack.glance.os_type'])
        listed = json.loads(self.openstack('list', '-f', 'json').stdout)
        self.assertEqual([REF], [row['reference'] for row in listed])
        shown = json.loads(self.openstack('show', REF, '-f', 'json').stdout)
        self.assertEqual(created['sha512'], shown['sha512'])

        self.openstack('endorse', REF, '--certificate', self.cert, '--key',
                       self.key, '--output', 'site.list', '--vo',
                       'vo.example.org', '-f', 'json')
        result = self.openstack('verify', '--ca-path', self.ca_path,
                                '--check-content', 'site.list', '-f', 'json')
        verdicts = json.loads(result.stdout)
        self.assertEqual([True, True], [v['trusted'] for v in verdicts])
        self.assertIn('content size and checksums verified',
                      verdicts[1]['reason'])
        # What we write verifies with the CLI sites use.
        subprocess.run(['openssl', 'smime', '-verify', '-CApath',
                        self.ca_path, '-in', self.path('site.list')],
                       check=True, capture_output=True)

        # A policy denying the endorser: exit 1 and the reason.
        with open(self.path('policy.yaml'), 'w') as f:
            yaml.safe_dump({'endorsers': {'deny': ['jane@example.org']}}, f)
        result = self.openstack('verify', '--ca-path', self.ca_path,
                                '--policy', 'policy.yaml', 'site.list',
                                expect=1)
        self.assertIn('endorsers.deny', result.stderr)

        # Altered content in the registry: the content check fails.
        with open(self.registry.blob_path('sha256:' + created['sha256']),
                  'r+b') as f:
            f.write(b'evil')
        result = self.openstack('verify', '--ca-path', self.ca_path,
                                '--check-content', 'site.list', expect=1)
        self.assertIn('content check failed', result.stderr)
        self.assertNotIn('site.list.partial', os.listdir(self.dir))

    def test_untrusted_signer_and_tampered_list(self):
        self.create()
        self.openstack('endorse', REF, '--certificate', self.rogue_cert,
                       '--key', self.rogue_key, '--output', 'rogue.list')
        result = self.openstack('verify', '--ca-path', self.ca_path,
                                'rogue.list', expect=1)
        self.assertIn('CA is not in', result.stderr)
        self.openstack('endorse', REF, '--certificate', self.cert, '--key',
                       self.key, '--output', 'site.list')
        with open(self.path('site.list'), 'rb') as f:
            document = f.read()
        with open(self.path('site.list'), 'wb') as f:
            f.write(document.replace(b'Ubuntu', b'Ubuntx'))
        result = self.openstack('verify', '--ca-path', self.ca_path,
                                'site.list', expect=1)
        self.assertIn('altered', result.stderr)

    def test_revoked_endorser(self):
        # The CA revokes Jane after she endorsed: her list is refused,
        # as openssl smime -verify -crl_check_all refuses it.
        self.create()
        self.openstack('endorse', REF, '--certificate', self.cert, '--key',
                       self.key, '--output', 'site.list')
        self.openstack('verify', '--ca-path', self.ca_path, 'site.list')
        pki.write_crl(self.ca_path, self.ca, pki.make_crl(
            self.ca, revoked=[self.jane],
            reason=x509.ReasonFlags.key_compromise))
        result = self.openstack('verify', '--ca-path', self.ca_path,
                                'site.list', expect=1)
        self.assertIn('revoked', result.stderr)
        self.assertIn('keyCompromise', result.stderr)
        openssl = subprocess.run(
            ['openssl', 'smime', '-verify', '-crl_check_all', '-CApath',
             self.ca_path, '-in', self.path('site.list')],
            capture_output=True, text=True)
        self.assertEqual(4, openssl.returncode)
        self.assertIn('certificate revoked', openssl.stderr)

    def test_deprecate_save_delete_and_bad_input(self):
        self.create()
        deprecated = json.loads(self.openstack(
            'deprecate', REF, '--reason', 'CVE-2026-0001', '-f',
            'json').stdout)
        self.assertEqual('CVE-2026-0001', deprecated['deprecated'])
        self.openstack('save', REF, '--file', 'copy.qcow2')
        with open(self.path('copy.qcow2'), 'rb') as a, \
                open(self.image, 'rb') as b:
            self.assertEqual(b.read(), a.read())
        result = self.openstack('show', 'vo/../../etc:passwd', expect=1)
        self.assertIn("Reference 'vo/../../etc:passwd'", result.stderr)
        self.openstack('delete', REF)
        result = self.openstack('save', REF, '--file', 'gone.qcow2',
                                expect=1)
        self.assertIn('404', result.stderr)
        self.assertEqual([], [n for n in os.listdir(self.dir)
                              if n.startswith(('gone', '.gone'))])

    def test_verify_an_appdb_list(self):
        # A list in AppDB's own spelling (tests/fixtures/appdb): QCOW2,
        # OVA and RAW in capitals, numbers as strings, sl:osname.
        ca = pki.make_ca('AppDB Test CA')
        robot = pki.issue(ca, 'AppDB Robot', email='appdb@example.org')
        ca_path = pki.write_ca_dir(self.path('appdb-cas'), ca)
        with open(self.path('appdb.list'), 'wb') as f:
            f.write(appdb.sign(appdb.document(), robot))
        verdicts = json.loads(self.openstack(
            'verify', '--ca-path', ca_path, 'appdb.list', '-f',
            'json').stdout)
        self.assertEqual([True] * 5, [v['trusted'] for v in verdicts])
        self.assertIn('Image for CentOS 7 minimal', verdicts[2]['subject'])

    def test_check_content_of_appdb_files(self):
        # Classic AppDB entries: plain HTTPS files, read once and checked.
        good, bad = os.urandom(120000), os.urandom(80000)
        files = self.useFixture(file_server.FileServer(
            {'good.qcow2': good, 'bad.ova': bad}))
        doc = appdb.document()
        images = doc['hv:imagelist']['hv:images']
        appdb.point_at(images[appdb.UBUNTU]['hv:image'], good,
                       files.url('good.qcow2'))
        appdb.point_at(images[appdb.CENTOS_OVA]['hv:image'], good[:80000],
                       files.url('bad.ova'))
        doc['hv:imagelist']['hv:images'] = images[:2]
        ca = pki.make_ca('AppDB Test CA')
        robot = pki.issue(ca, 'AppDB Robot', email='appdb@example.org')
        ca_path = pki.write_ca_dir(self.path('appdb-cas'), ca)
        with open(self.path('appdb.list'), 'wb') as f:
            f.write(appdb.sign(doc, robot))
        self.useFixture(fixtures.EnvironmentVariable('REQUESTS_CA_BUNDLE',
                                                     files.ca_file))
        result = self.openstack('verify', '--ca-path', ca_path,
                                '--check-content', 'appdb.list', '-f',
                                'json', expect=1)
        verdicts = json.loads(result.stdout)
        self.assertEqual([True, True, False],
                         [v['trusted'] for v in verdicts])
        self.assertIn('content size and checksums verified',
                      verdicts[1]['reason'])
        self.assertIn('has SHA-512', verdicts[2]['reason'])
