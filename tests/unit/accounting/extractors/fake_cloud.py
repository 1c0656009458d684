"""A WSGI app answering with recorded OpenStack JSON shapes.

No Cinder or Neutron runs in the test environment, so their extractors
are tested at the HTTP boundary: a WSGI app serving documents shaped like
the services' own (field names and paging links as in the Cinder v3 and
Neutron v2.0 API references), reached through a real keystoneauth1
session and ``requests``, intercepted by wsgi-intercept exactly as Nova's
functional harness serves its API (no socket, no thread: some test
modules import Nova, which monkey-patches with eventlet). It pages like
the services do (``limit``, ``marker``, ``<collection>_links``) and can
refuse a path with 403.
"""

import json
import os
import urllib.parse
import uuid

import fixtures
from keystoneauth1 import noauth
from keystoneauth1 import session as ks_session
from requests import adapters
from wsgi_intercept import interceptor

from stratuslab_plugins.accounting import scopes


#: Nova's answers, recorded from the in-process Nova (Nova 34) and
#: checked against it by ``tests/functional/accounting/
#: test_nova_recordings.py``.
NOVA_RECORDINGS = os.path.join(os.path.dirname(__file__), '..', '..', '..',
                               'fixtures', 'nova')


def nova_recording(name, body_only=True):
    """Return a recorded Nova answer (its JSON body, or the whole file)."""
    with open(os.path.join(NOVA_RECORDINGS, name)) as stream:
        recorded = json.load(stream)
    return recorded['body'] if body_only else recorded


def write_nova_recording(name, answer):
    """Write a Nova answer where :func:`nova_recording` reads it."""
    with open(os.path.join(NOVA_RECORDINGS, name), 'w') as stream:
        json.dump(answer, stream, indent=1, sort_keys=True)
        stream.write('\n')


class FakeCloud(fixtures.Fixture):
    """Serve ``collections``: ``{path: (collection name, [items])}``.

    :param documents: ``{path: body}`` served as they are.
    :param forbidden: paths answered with 403.
    :param view: callable ``(item, project) -> item or None``: what a
        request scoped to ``project`` (its ``X-Project-Id`` header) sees
        of an item, as the service's policy shows a project's reader; a
        request without the header sees everything (an admin).
    """

    def __init__(self, collections, documents=None, forbidden=(),
                 view=None):
        super().__init__()
        self.collections = collections
        self.documents = documents or {}
        self.forbidden = set(forbidden)
        self.view = view
        self.requests = []

    def _setUp(self):
        self.url = 'http://%s.example.org:80' % uuid.uuid4().hex
        # keystoneauth's keep-alive adapter sets socket options the
        # intercepted connection lacks (Nova's OSAPIFixture does the same).
        self.useFixture(fixtures.MonkeyPatch(
            'keystoneauth1.session.TCPKeepAliveAdapter.init_poolmanager',
            adapters.HTTPAdapter.init_poolmanager))
        intercept = interceptor.RequestsInterceptor(lambda: self.app,
                                                    url=self.url)
        intercept.install_intercept()
        self.addCleanup(intercept.uninstall_intercept)

    def app(self, environ, start_response):
        path = environ['PATH_INFO']
        query = urllib.parse.parse_qs(environ.get('QUERY_STRING', ''))
        self.requests.append((path, query))
        if path in self.forbidden:
            return self._reply(start_response, '403 Forbidden', {
                'error': {'code': 403, 'message': 'Policy does not allow'}})
        if path in self.documents:
            return self._reply(start_response, '200 OK',
                               self.documents[path])
        if path not in self.collections:
            return self._reply(start_response, '404 Not Found', {})
        name, items = self.collections[path]
        project = environ.get('HTTP_X_PROJECT_ID')
        if project and self.view is not None:
            items = [seen for seen in (self.view(i, project) for i in items)
                     if seen is not None]
        for key in ('project_id', 'tenant_id'):
            if key in query:
                items = [i for i in items
                         if query[key][0] in (i.get('project_id'),
                                              i.get('tenant_id'),
                                              i.get('os-vol-tenant-attr:'
                                                    'tenant_id'))]
        if 'status' in query:
            items = [i for i in items if i.get('status') in query['status']]
        limit = int(query.get('limit', ['1000'])[0])
        start = 0
        if 'marker' in query:
            ids = [i['id'] for i in items]
            start = ids.index(query['marker'][0]) + 1
        page = items[start:start + limit]
        body = {name: page}
        if start + limit < len(items):
            body[name + '_links'] = [{'rel': 'next', 'href': 'ignored'}]
        return self._reply(start_response, '200 OK', body)

    def _reply(self, start_response, status, body):
        data = json.dumps(body).encode()
        start_response(status, [('Content-Type', 'application/json'),
                                ('Content-Length', str(len(data)))])
        return [data]


class FakeProjectSessions(scopes.ProjectSessions):
    """Project sessions that name their project in ``X-Project-Id``.

    The projects come from the cloud's ``/auth/projects`` as Keystone
    lists them; each session reaches the same :class:`FakeCloud`.
    """

    def __init__(self, conf, cloud):
        super().__init__(conf, ks_session.Session(auth=noauth.NoAuth(
            endpoint=cloud.url)))
        self.cloud = cloud
        self.made = []

    def make_session(self, project_id):
        self.made.append(project_id)
        return ks_session.Session(
            auth=noauth.NoAuth(endpoint=self.cloud.url),
            additional_headers={'X-Project-Id': project_id})


def keystone_projects(*project_ids):
    """``GET /v3/auth/projects`` as Keystone answers it."""
    return {'projects': [
        {'id': p, 'name': 'project %s' % p, 'domain_id': 'default',
         'enabled': True, 'is_domain': False, 'parent_id': 'default',
         'description': '', 'options': {}, 'tags': [],
         'links': {'self': 'http://keystone/v3/projects/%s' % p}}
        for p in project_ids],
        'links': {'self': 'http://keystone/v3/auth/projects',
                  'previous': None, 'next': None}}


def volume(i, project='p1', size=10, status='in-use'):
    """A volume as Cinder v3 ``GET /volumes/detail`` shows it to admin."""
    return {
        'id': 'vol-%04d' % i, 'name': 'volume %d' % i, 'status': status,
        'size': size, 'user_id': 'u1', 'volume_type': '__DEFAULT__',
        'availability_zone': 'nova', 'bootable': 'false',
        'created_at': '2026-10-15T08:30:00.000000',
        'updated_at': '2026-11-01T08:30:00.000000',
        'os-vol-tenant-attr:tenant_id': project,
        'os-vol-host-attr:host': 'cinder@lvm#lvm',
        'attachments': [], 'metadata': {}, 'encrypted': False,
        'multiattach': False, 'links': [],
    }


def floating_ip(i, address, project='p1'):
    """A floating IP as Neutron ``GET /v2.0/floatingips`` shows it."""
    return {
        'id': 'fip-%04d' % i, 'floating_ip_address': address,
        'floating_network_id': 'net-public', 'router_id': None,
        'port_id': None, 'fixed_ip_address': None, 'status': 'DOWN',
        'project_id': project, 'tenant_id': project, 'description': '',
        'tags': [], 'created_at': '2026-10-15T08:30:00Z',
        'updated_at': '2026-10-15T08:30:00Z', 'revision_number': 0,
        'port_details': None, 'qos_policy_id': None, 'dns_domain': '',
        'dns_name': '',
    }


def glance_image(image_id, **properties):
    """An image as Glance 33 ``GET /v2/images`` shows it (queued, no data).

    Extra properties (``vmcatcher_event_ad_mpuri``...) sit beside Glance's
    own fields, as in Glance's v2 API.
    """
    image = {
        'id': image_id, 'name': 'appliance', 'status': 'queued',
        'visibility': 'public', 'protected': False, 'os_hidden': False,
        'checksum': None, 'os_hash_algo': None, 'os_hash_value': None,
        'owner': '6f70656e737461636b20342065766572', 'size': None,
        'virtual_size': None, 'min_ram': 0, 'min_disk': 0,
        'disk_format': 'qcow2', 'container_format': 'bare', 'tags': [],
        'created_at': '2026-11-01T08:30:00Z',
        'updated_at': '2026-11-01T08:30:00Z',
        'self': '/v2/images/%s' % image_id,
        'file': '/v2/images/%s/file' % image_id,
        'schema': '/v2/schemas/image',
    }
    image.update(properties)
    return image
