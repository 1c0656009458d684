"""The accounting as a user holding only ``reader``, on Nova's real policy.

Starts Nova in-process (the foundation's ``NovaTestCase``: Nova 34's API
with its default policy, enforced with new defaults and scopes as Nova 34
ships them, conductor, scheduler, a fake compute) and a glance-api
process (``GlanceAPIFixture``: Glance 33 and its default policy). Servers
run in two projects on a flavor that quotes a benchmark, on a host whose
aggregate has ``grid_hepscore``; one image has an AppDB URI, another is
hidden. The nova extractor then reads as ``accounting``, a user holding
``reader`` on both projects and nothing else: Keystone's part (which
projects, a token for each) is played by plain data, as the harness has
no Keystone (``tests/unit/accounting/test_scopes.py`` tests how those
projects and credentials are chosen).

It proves that every call the extractor makes for a reader succeeds, and
lists them (the README's "minimum role"); that a reader's run needs no
admin-only call (the hosts are hidden, so the aggregates are not read:
records quote the flavor's benchmark, with one warning); that a site
whose policy shows readers the hosts but not the aggregates gets one
warning and the same records, not a failed run; and that Nova 34 refuses
a system-scoped reader, which is why each project is read with its own
token.
"""

import datetime
import re
import urllib.parse

import fixtures
from nova import context as nova_context
from nova.tests.functional.api import client as nova_api_client

from stratuslab_plugins.accounting import builders
from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting.extractors import nova
from stratuslab_plugins.accounting import scopes
from tests.functional.accounting import header_auth
from tests.functional.accounting import test_image_ids
from tests.functional import glance_fixture
from tests.functional import nova_base
from tests.unit.accounting import apel_oracle
from tests.unit.accounting import fakes

UTC = datetime.timezone.utc
OTHER_PROJECT = '2d6fb1a1aa5b4f7a9f0a0c6a0d2c9e11'
UUID = re.compile('[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-'
                  '[0-9a-f]{12}|[0-9a-f]{32}')
#: Every call the nova extractor makes as a reader, with the services'
#: default policy rule that lets it; the README lists the same.
READER_CALLS = {
    ('compute', 'GET /servers/detail?limit&status'),
    ('compute', 'GET /servers/detail?changes-since&limit'),
    # Only when a server does not embed its flavor (before 2.47).
    ('compute', 'GET /flavors/detail?is_public'),
    ('compute', 'GET /flavors/{id}/os-extra_specs'),
    ('image', 'GET /v2/images?limit&visibility'),
    # Only for an image the listing lacks (hidden).
    ('image', 'GET /v2/images/{id}'),
}


class PikeNova(nova.NovaExtractor):
    """The extractor meeting a Nova that does not embed flavors."""

    microversion = '2.46'


def system_scoped_context(env, **kwargs):
    """Nova's harness context, and the system scope keystonemiddleware sets.

    The harness builds the request context from headers and drops the
    system scope; Nova behind keystonemiddleware keeps it.
    """
    return nova_context.RequestContext(
        env['HTTP_X_AUTH_USER'], env.get('HTTP_X_AUTH_PROJECT_ID') or None,
        is_admin=env['HTTP_X_AUTH_USER'] == 'admin',
        roles=env['HTTP_X_ROLES'].split(','),
        system_scope=env.get('HTTP_OPENSTACK_SYSTEM_SCOPE'), **kwargs)


class HarnessProjectSessions(scopes.ProjectSessions):
    """Keystone's answers for a user holding ``reader`` on ``projects``."""

    def __init__(self, conf, session, endpoints, projects, calls):
        super().__init__(conf, session)
        self.endpoints = endpoints
        self.readable_projects = projects
        self.calls = calls

    def projects(self):
        return list(self.readable_projects)

    def make_session(self, project_id):
        return header_auth.header_session(
            self.endpoints, 'accounting', project_id, ['reader'],
            calls=self.calls)


class ReaderTestCase(nova_base.NovaTestCase):
    """Servers in two projects, and a reader's run over them."""

    #: Whether a real glance-api serves the images' names.
    with_glance = False

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MonkeyPatch(
            'nova.api.auth.NovaKeystoneContext._create_context',
            system_scoped_context))
        self.endpoints = {'compute': self.api.base_url}
        if self.with_glance:
            self.start_glance()
        self.start_computes('host1')
        flavor = self._create_flavor(
            name='grid', vcpu=2, memory_mb=1024, disk=3, ephemeral=2,
            extra_spec={'accounting:benchmark_type': 'HEPscore23',
                        'accounting:benchmark_value': '12.5'})
        aggregate = self.admin_api.post_aggregate(
            {'aggregate': {'name': 'fast'}})
        self.admin_api.add_host_to_aggregate(aggregate['id'], 'host1')
        self.admin_api.post_aggregate_action(aggregate['id'], {
            'set_metadata': {'metadata': {'grid_hepscore': '21.5'}}})
        other = self.api_for_project(OTHER_PROJECT)
        self.servers = {
            'running': self._create_server(
                name='running', flavor_id=flavor, networks='none',
                image_uuid=test_image_ids.WITH_URI),
            'stopped': self._create_server(
                name='stopped', flavor_id=flavor, networks='none',
                image_uuid=test_image_ids.HIDDEN),
            'deleted': self._create_server(
                name='deleted', flavor_id=flavor, networks='none'),
            'other': self._create_server(
                name='other', flavor_id=flavor, networks='none',
                image_uuid=test_image_ids.WITH_URI, api=other),
        }
        self._stop_server(self.servers['stopped'])
        self._delete_server(self.servers['deleted'])
        self.projects = [self.api.project_id, OTHER_PROJECT]
        self.calls = []

    def start_glance(self):
        """Start glance-api with the images' twins, as the sync makes them.

        One with an AppDB URI, one with a URI but hidden (retired).
        """
        self.glance = self.useFixture(glance_fixture.GlanceAPIFixture())
        self.endpoints['image'] = self.glance.url
        glance = self.glance.api.session()
        for image_id, properties in (
                (test_image_ids.WITH_URI, {
                    'vmcatcher_event_ad_mpuri': test_image_ids.URI}),
                (test_image_ids.HIDDEN, {
                    'vmcatcher_event_ad_mpuri': test_image_ids.HIDDEN_URI,
                    'os_hidden': True})):
            glance.post(self.glance.url + '/v2/images', json=dict(
                id=image_id, name='appliance', disk_format='qcow2',
                container_format='bare', visibility='public', **properties))

    def extract(self, extractor_class=nova.NovaExtractor, **accounting):
        """Run the extractor as the reader; return ``{name: record}``."""
        conf = fakes.make_conf(accounting=accounting)
        # The configured credentials: reader on the system scope, which
        # Keystone needs for users and projects.
        session = header_auth.header_session(
            self.endpoints, 'accounting', None, ['reader'], calls=self.calls)
        reach = HarnessProjectSessions(conf, session, self.endpoints,
                                       self.projects, self.calls)
        extractor = extractor_class(conf, session, project_sessions=reach)
        context = builders.RecordContext(
            site_name='TEST-SITE', vo_for_project={
                self.api.project_id: 'vo.one', OTHER_PROJECT: 'vo.two'}.get)
        since = datetime.datetime.now(UTC) - datetime.timedelta(hours=1)
        found = list(extractor.extract(since, datetime.datetime.now(UTC),
                                       context))
        return {r.machine_name: r for r in found}

    def made(self):
        """Return the calls made as ``{(service, template): statuses}``."""
        made = {}
        for method, url, status in self.calls:
            [(service, endpoint)] = [(s, e) for s, e in self.endpoints.items()
                                     if url.startswith(e)]
            parts = urllib.parse.urlsplit(url[len(endpoint):])
            query = '&'.join(sorted(urllib.parse.parse_qs(
                parts.query, keep_blank_values=True)))
            template = '%s %s%s' % (method, UUID.sub('{id}', parts.path),
                                    '?' + query if query else '')
            made.setdefault((service, template), set()).add(status)
        return made


class TestReader(ReaderTestCase):

    with_glance = True

    def test_a_reader_reads_every_project(self):
        log = self.useFixture(fixtures.FakeLogger())
        found = self.extract()

        self.assertEqual(sorted(self.servers), sorted(found))
        self.assertEqual(
            {'running': self.api.project_id, 'stopped': self.api.project_id,
             'deleted': self.api.project_id, 'other': OTHER_PROJECT},
            {name: rec.local_group_id for name, rec in found.items()})
        self.assertEqual(('completed', 'completed', 'started'), tuple(
            found[name].status for name in ('deleted', 'stopped', 'other')))
        # The hosts are the admin's: the flavor's benchmark, one warning.
        self.assertEqual({('HEPscore23', 12.5)}, {
            (r.benchmark_type, r.benchmark) for r in found.values()})
        self.assertEqual(1, log.output.count("Nova hides the servers' host"))
        self.assertEqual({(2.0, 1024, 5)}, {
            (r.cpu_count, r.memory, r.disk) for r in found.values()})
        self.assertEqual((test_image_ids.URI, test_image_ids.HIDDEN_URI),
                         (found['running'].image_id,
                          found['stopped'].image_id))
        apel_oracle.parse_cloud_records(found.values())

        # A Nova that does not embed flavors: the flavor list, as reader.
        old = self.extract(PikeNova)
        self.assertEqual({(2.0, 1024, 5, 12.5)}, {
            (r.cpu_count, r.memory, r.disk, r.benchmark)
            for r in old.values()})

        made = self.made()
        self.assertEqual(READER_CALLS, set(made))
        self.assertEqual({200}, set().union(*made.values()), made)


class TestRefusals(ReaderTestCase):
    """What Nova refuses a reader, and what the run does then."""

    def test_hosts_shown_but_aggregates_refused(self):
        # A site policy that shows readers the hosts, not the aggregates:
        # the run warns once and goes on with the flavor's benchmark.
        self.policy.set_rules({
            'os_compute_api:os-extended-server-attributes':
                'role:reader and project_id:%(project_id)s'},
            overwrite=False)
        log = self.useFixture(fixtures.FakeLogger())
        found = self.extract()

        self.assertEqual(sorted(self.servers), sorted(found))
        self.assertEqual({('HEPscore23', 12.5)}, {
            (r.benchmark_type, r.benchmark) for r in found.values()})
        # The hosts were shown, so the aggregates were asked for, once.
        self.assertEqual(1, log.output.count(
            'Nova refused GET /os-aggregates'))
        self.assertEqual({403}, self.made()[('compute',
                                            'GET /os-aggregates')])
        self.assertEqual(1, sum(1 for _, url, _ in self.calls
                                if url.endswith('/os-aggregates')))

        # And a system-scoped reader is refused by Nova 34 altogether, as
        # an all-projects listing (admin's) ...
        exc = self.assertRaises(exceptions.PermissionDenied, self.extract,
                                listing_scope='all_projects')
        self.assertIn('Nova refused GET /servers/detail?all_tenants=1',
                      str(exc))
        # ... and as a listing of its own: every rule is project-scoped.
        reader = nova_api_client.TestOpenStackClient(
            'accounting', self.api.base_url, project_id='', roles=['reader'])
        reader.microversion = '2.47'
        resp = reader.api_request(
            '/servers/detail', check_response_status=False,
            headers={'OpenStack-System-Scope': 'all'})
        self.assertEqual(403, resp.status_code)
