"""Accounting part: one extraction run, ours against cASO 5.2.2.

A simulated cloud (Keystone v3, Nova v2.1, Glance v2: the endpoints and
JSON shapes both tools read, paging included) serves
``STRATUSLAB_BENCH_ACCOUNTING_SERVERS`` servers (20,000) in
``STRATUSLAB_BENCH_ACCOUNTING_PROJECTS`` projects (500) from a WSGI server
on 127.0.0.1 in this process. Both tools then make one steady-state run
(the previous run ended an hour ago) against it, each in its own process,
writing APEL messages into their own dirq outgoing queue:

* ours: ``Manager.from_conf(...).publish()`` with the ``nova`` extractor
  and the ``ssm`` messenger, a SQLite ledger whose window ended an hour
  ago;
* cASO 5.2.2, installed from PyPI into a virtualenv this bench creates
  in a temporary directory (or the one ``STRATUSLAB_BENCH_CASO_VENV``
  names, to save the install on repeated runs), ``caso-extract
  --extract-from <an hour ago>`` with its ``nova`` extractor and ``ssm``
  messenger, every project tagged ``caso``.

Figures: wall time and API calls (counted by the simulated cloud), with
cASO as the baseline; peak RSS of our run at a quarter of the servers and
at all of them (memory flat in the number of servers: records are
streamed to the queue), beside cASO's. Targets (issue 5): at least 5x
faster, at least 10x fewer API calls.
"""

import datetime
import json
import os
import re
import shutil
import socketserver
import subprocess
import sys
import tempfile
import threading
import urllib.parse
import uuid
from wsgiref import simple_server

SERVERS = int(os.environ.get('STRATUSLAB_BENCH_ACCOUNTING_SERVERS', '20000'))
PROJECTS = int(os.environ.get('STRATUSLAB_BENCH_ACCOUNTING_PROJECTS', '500'))
CASO_VERSION = '5.2.2'
TARGET_SPEEDUP = 5.0
TARGET_CALL_RATIO = 10.0
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
UTC = datetime.timezone.utc
NOVA_MAX_LIMIT = 1000


def _iso(value):
    return value.strftime('%Y-%m-%dT%H:%M:%SZ')


def _parse(value):
    value = value.replace(' ', 'T').replace('Z', '+00:00')
    parsed = datetime.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


class SimulatedCloud:
    """Keystone, Nova and Glance answering as the real ones do, from memory.

    Servers are spread over the projects (two users each); 2% are shut
    off (unchanged for weeks), 1% were deleted within the last hour, 1%
    changed within the last hour, the rest run unchanged since they
    started 60 days ago. Every request is counted.
    """

    def __init__(self, servers, projects, now):
        self.now = now
        self.calls = 0
        self.tokens = {}
        self.projects = ['%032x' % (0xa000 + p) for p in range(projects)]
        self.flavors = [{
            'id': 'flavor-%d' % f, 'name': 'm%d.bench' % f, 'vcpus': 1 + f,
            'ram': 1024 * (1 + f), 'disk': 10 * (1 + f),
            'OS-FLV-EXT-DATA:ephemeral': 0, 'swap': '', 'rxtx_factor': 1.0,
            'os-flavor-access:is_public': True, 'links': [],
            'extra_specs': {'accounting:benchmark_type': 'HEPscore23',
                            'accounting:benchmark_value': '10.0'},
        } for f in range(10)]
        self.images = [{'id': '%08x-1111-4111-8111-000000000000' % i,
                        'name': 'image %d' % i, 'status': 'active'}
                       for i in range(20)]
        self.servers = [self._server(i) for i in range(servers)]
        self.by_id = {s['id']: s for s in self.servers}
        self.by_project = {}
        for server in self.servers:
            self.by_project.setdefault(server['tenant_id'], []).append(server)

    def _server(self, i):
        project = self.projects[i % len(self.projects)]
        created = self.now - datetime.timedelta(days=60, seconds=-i)
        status, updated, terminated = 'ACTIVE', created, None
        if i % 50 == 0:
            status = 'SHUTOFF'
            updated = created + datetime.timedelta(days=1)
        elif i % 100 == 1:
            status = 'DELETED'
            terminated = self.now - datetime.timedelta(minutes=30)
            updated = terminated
        elif i % 100 == 2:
            updated = self.now - datetime.timedelta(minutes=20)
        flavor = self.flavors[i % len(self.flavors)]
        return {
            'id': '%08x-0000-4000-8000-%012x' % (i, i),
            'name': 'server-%d' % i, 'status': status,
            'tenant_id': project,
            'user_id': '%s-user-%d' % (project[-6:], (i // len(
                self.projects)) % 2),
            'created': _iso(created), 'updated': _iso(updated),
            'OS-SRV-USG:launched_at': _iso(
                created + datetime.timedelta(seconds=30)),
            'OS-SRV-USG:terminated_at': _iso(terminated)
            if terminated else None,
            'OS-EXT-SRV-ATTR:host': 'compute-%d' % (i % 40),
            'OS-EXT-STS:vm_state': status.lower(),
            'image': {'id': self.images[i % len(self.images)]['id'],
                      'links': []},
            'flavor_ref': flavor,
            'addresses': {'private': [{'addr': '10.0.%d.%d' % (
                i // 250 % 250, i % 250), 'version': 4,
                'OS-EXT-IPS:type': 'fixed'}]},
            'metadata': {}, 'key_name': None, 'hostId': 'h',
            'accessIPv4': '', 'accessIPv6': '', 'links': [],
            'security_groups': [{'name': 'default'}],
            'OS-DCF:diskConfig': 'MANUAL', 'progress': 0,
        }

    # -- views ------------------------------------------------------------

    @staticmethod
    def _microversion(environ):
        header = environ.get('HTTP_OPENSTACK_API_VERSION', '') or ''
        header = header.replace('compute', '').strip() or environ.get(
            'HTTP_X_OPENSTACK_NOVA_API_VERSION', '2.1')
        try:
            major, minor = header.split('.')
            return int(major), int(minor)
        except ValueError:
            return 2, 1

    @staticmethod
    def server_view(server, microversion):
        view = {k: v for k, v in server.items() if k != 'flavor_ref'}
        flavor = server['flavor_ref']
        if microversion >= (2, 47):
            view['flavor'] = {
                'original_name': flavor['name'], 'vcpus': flavor['vcpus'],
                'ram': flavor['ram'], 'disk': flavor['disk'],
                'ephemeral': 0, 'swap': 0,
                'extra_specs': dict(flavor['extra_specs'])}
        else:
            view['flavor'] = {'id': flavor['id'], 'links': []}
        return view

    def usage_view(self, server):
        flavor = server['flavor_ref']
        return {
            'instance_id': server['id'], 'name': server['name'],
            'hours': 1.0, 'memory_mb': flavor['ram'],
            'local_gb': flavor['disk'], 'vcpus': flavor['vcpus'],
            'tenant_id': server['tenant_id'], 'flavor': flavor['name'],
            'started_at': server['OS-SRV-USG:launched_at'].rstrip('Z'),
            'ended_at': (server['OS-SRV-USG:terminated_at'] or '').rstrip(
                'Z') or None,
            'state': server['OS-EXT-STS:vm_state'], 'uptime': 3600,
        }

    # -- WSGI -------------------------------------------------------------

    def __call__(self, environ, start_response):
        self.calls += 1
        method = environ['REQUEST_METHOD']
        path = environ['PATH_INFO'].rstrip('/') or '/'
        query = urllib.parse.parse_qs(environ.get('QUERY_STRING', ''))
        try:
            status, headers, body = self.route(environ, method, path, query)
        except KeyError:
            status, headers, body = '404 Not Found', [], {
                'itemNotFound': {'code': 404, 'message': path}}
        data = json.dumps(body).encode()
        start_response(status, [('Content-Type', 'application/json'),
                                ('Content-Length', str(len(data)))]
                       + headers)
        return [data]

    def base(self, environ):
        return 'http://%s' % environ['HTTP_HOST']

    def route(self, environ, method, path, query):
        if path.startswith('/identity'):
            return self.identity(environ, method, path[len('/identity'):],
                                 query)
        if path.startswith('/compute/v2.1'):
            return self.compute(environ, path[len('/compute/v2.1'):], query)
        if path.startswith('/image'):
            return self.image(environ, path[len('/image'):], query)
        raise KeyError(path)

    # Keystone v3
    def identity(self, environ, method, path, query):
        base = self.base(environ) + '/identity'
        version = {'id': 'v3.14', 'status': 'stable',
                   'updated': '2020-04-07T00:00:00Z',
                   'links': [{'rel': 'self', 'href': base + '/v3/'}],
                   'media-types': [{
                       'base': 'application/json',
                       'type': 'application/vnd.openstack.identity-v3+json'}]}
        if path in ('', '/'):
            return '300 Multiple Choices', [], {
                'versions': {'values': [version]}}
        if path == '/v3':
            return '200 OK', [], {'version': version}
        if path == '/v3/auth/tokens' and method == 'POST':
            return self.issue_token(environ)
        if path == '/v3/projects':
            return '200 OK', [], {'projects': [
                self.project_view(p) for p in self.projects],
                'links': {'self': base + '/v3/projects', 'next': None,
                          'previous': None}}
        if path.startswith('/v3/projects/'):
            project = path.rsplit('/', 1)[1]
            if project not in self.by_project and project != 'admin':
                raise KeyError(project)
            return '200 OK', [], {'project': self.project_view(project)}
        if path == '/v3/users':
            users = sorted({s['user_id'] for s in self.servers})
            return '200 OK', [], {'users': [self.user_view(u)
                                            for u in users],
                                  'links': {'next': None}}
        if path.startswith('/v3/users/'):
            return '200 OK', [], {'user': self.user_view(
                path.rsplit('/', 1)[1])}
        raise KeyError(path)

    @staticmethod
    def user_view(user_id):
        return {'id': user_id, 'name': 'user-%s' % user_id,
                'domain_id': 'default', 'enabled': True, 'links': {}}

    @staticmethod
    def project_view(project):
        vo = 'vo%d.example.org' % (int(project, 16) % 7) \
            if project != 'admin' else None
        return {'id': project, 'name': 'project-%s' % project,
                'domain_id': 'default', 'enabled': True, 'tags': ['caso'],
                'egi.VO': vo, 'VO': vo, 'links': {}}

    def issue_token(self, environ):
        length = int(environ.get('CONTENT_LENGTH') or 0)
        request = json.loads(environ['wsgi.input'].read(length) or b'{}')
        scope = request.get('auth', {}).get('scope') or {}
        project = scope.get('project', {})
        project_id = project.get('id') or project.get('name')
        token = uuid.uuid4().hex
        self.tokens[token] = project_id
        base = self.base(environ)

        def entry(kind, name, url):
            return {'type': kind, 'name': name, 'id': name, 'endpoints': [{
                'id': name + '-public', 'interface': 'public',
                'region': 'RegionOne', 'region_id': 'RegionOne',
                'url': url}]}
        body = {'token': {
            'methods': ['password'],
            'expires_at': _iso(self.now + datetime.timedelta(days=1)),
            'issued_at': _iso(self.now),
            'user': {'id': 'accounting', 'name': 'accounting',
                     'domain': {'id': 'default', 'name': 'Default'}},
            'roles': [{'id': 'admin', 'name': 'admin'}],
            'catalog': [
                entry('identity', 'keystone', base + '/identity/v3'),
                entry('compute', 'nova', base + '/compute/v2.1'),
                entry('image', 'glance', base + '/image'),
                entry('network', 'neutron', base + '/network'),
                entry('volumev3', 'cinder', base + '/volume/v3'),
            ]}}
        if project_id:
            body['token']['project'] = {
                'id': project_id, 'name': project_id,
                'domain': {'id': 'default', 'name': 'Default'}}
        elif 'system' in scope:
            body['token']['system'] = {'all': True}
        return '201 Created', [('X-Subject-Token', token)], body

    # Nova v2.1
    def compute(self, environ, path, query):
        microversion = self._microversion(environ)
        if path == '/servers/detail':
            return self.list_servers(environ, query, microversion)
        if path.startswith('/servers/'):
            server = self.by_id[path.rsplit('/', 1)[1]]
            return '200 OK', [], {'server': self.server_view(server,
                                                             microversion)}
        if path == '/flavors/detail':
            return '200 OK', [], {'flavors': [
                {k: v for k, v in f.items() if k != 'extra_specs'}
                for f in self.flavors]}
        match = re.match(r'^/flavors/([^/]+)/os-extra_specs$', path)
        if match:
            flavor = [f for f in self.flavors if f['id'] == match.group(1)]
            return '200 OK', [], {'extra_specs': flavor[0]['extra_specs']}
        if path == '/os-aggregates':
            return '200 OK', [], {'aggregates': [{
                'id': 1, 'name': 'hepscore', 'availability_zone': None,
                'hosts': ['compute-%d' % h for h in range(20)],
                'metadata': {'grid_hepscore': '17.5'}}]}
        if path.startswith('/os-simple-tenant-usage/'):
            return self.tenant_usage(path.rsplit('/', 1)[1], query)
        raise KeyError(path)

    def list_servers(self, environ, query, microversion):
        token = environ.get('HTTP_X_AUTH_TOKEN')
        if query.get('all_tenants', ['0'])[0] in ('1', 'True', 'true'):
            project = query.get('project_id', [None])[0]
            servers = self.by_project.get(project, []) if project \
                else self.servers
        else:
            servers = self.by_project.get(self.tokens.get(token), [])
        since = query.get('changes-since', [None])[0]
        if since:
            since = _iso(_parse(since))
            servers = [s for s in servers if s['updated'] >= since]
        else:
            servers = [s for s in servers if s['status'] != 'DELETED']
        statuses = query.get('status')
        if statuses:
            servers = [s for s in servers if s['status'] in statuses]
        limit = min(int(query.get('limit', [NOVA_MAX_LIMIT])[0]),
                    NOVA_MAX_LIMIT)
        start = 0
        if 'marker' in query:
            ids = [s['id'] for s in servers]
            start = ids.index(query['marker'][0]) + 1
        page = servers[start:start + limit]
        body = {'servers': [self.server_view(s, microversion) for s in page]}
        if len(page) == limit:
            body['servers_links'] = [{'rel': 'next', 'href': 'next'}]
        return '200 OK', [], body

    def tenant_usage(self, project, query):
        start = _iso(_parse(query['start'][0]))
        usages = [self.usage_view(s) for s in self.by_project.get(project, [])
                  if not s['OS-SRV-USG:terminated_at']
                  or s['OS-SRV-USG:terminated_at'] >= start]
        return '200 OK', [], {'tenant_usage': {
            'tenant_id': project, 'server_usages': usages,
            'total_hours': float(len(usages)),
            'total_memory_mb_usage': 0.0, 'total_vcpus_usage': 0.0,
            'total_local_gb_usage': 0.0, 'start': query['start'][0],
            'stop': query.get('end', [''])[0]}}

    # Glance v2
    def image(self, environ, path, query):
        if path == '/v2/images':
            return '200 OK', [], {'images': self.images,
                                  'first': '/v2/images',
                                  'schema': '/v2/schemas/images'}
        if path in ('/v2/schemas/image', '/v2/schemas/images'):
            return '200 OK', [], {
                'name': 'image', 'links': [],
                'properties': {'id': {'type': 'string'},
                               'name': {'type': ['null', 'string']},
                               'status': {'type': 'string'}},
                'additionalProperties': {'type': 'string'}}
        if path in ('', '/'):
            return '300 Multiple Choices', [], {'versions': [{
                'id': 'v2.16', 'status': 'CURRENT', 'links': [{
                    'rel': 'self',
                    'href': self.base(environ) + '/image/v2/'}]}]}
        raise KeyError(path)


class _ThreadingServer(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True


class _QuietHandler(simple_server.WSGIRequestHandler):
    # wsgiref sends the headers and the body in two writes: without
    # TCP_NODELAY, Nagle's algorithm and the client's delayed ACK add
    # ~40 ms to every response, a cost proportional to the number of
    # calls that would dwarf everything else.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass


def serve(cloud):
    """Serve ``cloud`` on 127.0.0.1; return ``(url, stop)``."""
    server = simple_server.make_server(
        '127.0.0.1', 0, cloud, server_class=_ThreadingServer,
        handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        server.server_close()
        thread.join(10)
    return 'http://127.0.0.1:%d' % server.server_port, stop


# -- our run, in a child process --------------------------------------------

_OURS_CHILD = r'''
import datetime, json, resource, sys, time
sys.path.insert(0, %(root)r)
from oslo_config import cfg
from stratuslab_plugins.accounting import manager
from stratuslab_plugins.accounting.ledger import state
conf = cfg.ConfigOpts()
from stratuslab_plugins.conf import accounting, grid
grid.register_opts(conf); accounting.register_opts(conf)
conf(['--config-file', %(config)r], project='bench')
window = datetime.datetime.fromisoformat(%(since)r)
state.StateLedger.from_url(conf.accounting.ledger_connection).advance(
    [('nova', '', 'BENCH-SITE')], window)
started = time.monotonic()
result = manager.Manager.from_conf(conf).publish()
wall = time.monotonic() - started
print(json.dumps({'publish': wall, 'records': result.records,
                  'messages': result.messages}))
'''


def run_ours(url, tmp, since, name):
    work = os.path.join(tmp, name)
    os.makedirs(work)
    config = os.path.join(work, 'accounting.conf')
    with open(config, 'w') as stream:
        stream.write(
            '[grid]\nsite_name = BENCH-SITE\n'
            '[accounting]\nextractors = nova\nmessengers = ssm\n'
            'ledger_connection = sqlite:///%(work)s/ledger.db\n'
            '[accounting_ssm]\noutput_path = %(work)s/outgoing\n'
            '[accounting_keystone]\nauth_type = v3password\n'
            'auth_url = %(url)s/identity/v3\nusername = accounting\n'
            'password = secret\nuser_domain_name = Default\n'
            'project_name = admin\nproject_domain_name = Default\n'
            % {'work': work, 'url': url})
    code = _OURS_CHILD % {'root': _ROOT, 'config': config,
                          'since': since.isoformat()}
    # Timed like cASO's run: the whole process, imports included.
    result = timed([sys.executable, '-c', code], cwd=_ROOT)
    result.update(json.loads(result.pop('stdout').strip().splitlines()[-1]))
    result['queued'] = count_queued(os.path.join(work, 'outgoing'))
    return result


# -- cASO's run --------------------------------------------------------------

def caso_venv(tmp):
    """Return the bin directory of a virtualenv with cASO installed."""
    given = os.environ.get('STRATUSLAB_BENCH_CASO_VENV')
    venv = given or os.path.join(tmp, 'caso-venv')
    bindir = os.path.join(venv, 'bin')
    if not os.path.exists(os.path.join(bindir, 'caso-extract')):
        # This interpreter's venv module builds on its base Python; on
        # Debian that needs python3-venv (bindep.txt).
        subprocess.run([sys.executable, '-m', 'venv', venv], check=True)
        subprocess.run([os.path.join(bindir, 'pip'), 'install', '-q',
                        'caso==%s' % CASO_VERSION], check=True,
                       capture_output=True)
    return bindir


_TIME_CHILD = r'''
import json, resource, subprocess, sys, time
started = time.monotonic()
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.monotonic() - started
print(json.dumps({'wall': wall, 'code': proc.returncode,
                  'stdout': proc.stdout[-4000:],
                  'stderr': proc.stderr[-2000:],
                  'maxrss_kib': resource.getrusage(
                      resource.RUSAGE_CHILDREN).ru_maxrss}))
'''


def timed(command, cwd=None):
    """Run ``command``; return its wall time and peak RSS (own child)."""
    out = subprocess.run([sys.executable, '-c', _TIME_CHILD] + command,
                         check=True, capture_output=True, text=True, cwd=cwd)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result['code'] != 0:
        raise RuntimeError('%s failed (%d): %s' % (
            os.path.basename(command[0]), result['code'], result['stderr']))
    return result


def run_caso(bindir, url, tmp, since):
    work = os.path.join(tmp, 'caso')
    os.makedirs(os.path.join(work, 'spool'))
    config = os.path.join(work, 'caso.conf')
    with open(config, 'w') as stream:
        stream.write(
            '[DEFAULT]\nsite_name = BENCH-SITE\nservice_name = BENCH\n'
            'messengers = ssm\nextractor = nova\nspooldir = %(work)s/spool\n'
            'lock_path = %(work)s/spool\nmapping_file = %(work)s/none.json\n'
            '[ssm]\noutput_path = %(work)s/outgoing\n'
            '[keystone_auth]\nauth_type = v3password\n'
            'auth_url = %(url)s/identity/v3\nusername = accounting\n'
            'password = secret\nuser_domain_name = Default\n'
            'project_domain_name = Default\n' % {'work': work, 'url': url})
    command = [os.path.join(bindir, 'caso-extract'), '--config-file', config,
               '--extract-from', since.strftime('%Y-%m-%dT%H:%M:%S+00:00')]
    result = timed(command)
    result['queued'] = count_queued(os.path.join(work, 'outgoing'))
    return result


def count_queued(path):
    """Return ``(messages, cloud records)`` in a dirq outgoing queue."""
    messages = records = 0
    for directory, _, files in os.walk(path):
        for name in files:
            if not re.match(r'^[0-9a-f]{14}$', name):
                continue
            messages += 1
            with open(os.path.join(directory, name), 'rb') as stream:
                records += stream.read().count(b'VMUUID: ')
    return messages, records


def _line(name, value, unit, base_name, base, ratio):
    print('%s: %s %s (baseline %s: %s %s, ratio %.2f)'
          % (name, value, unit, base_name, base, unit, ratio), flush=True)


def run():
    now = datetime.datetime.now(UTC).replace(microsecond=0)
    since = now - datetime.timedelta(hours=1)
    tmp = tempfile.mkdtemp(prefix='bench-accounting-')
    try:
        small = SimulatedCloud(max(1, SERVERS // 4), PROJECTS, now)
        url, stop = serve(small)
        try:
            ours_small = run_ours(url, tmp, since, 'ours-small')
        finally:
            stop()
        cloud = SimulatedCloud(SERVERS, PROJECTS, now)
        url, stop = serve(cloud)
        try:
            cloud.calls = 0
            ours = run_ours(url, tmp, since, 'ours')
            ours['calls'] = cloud.calls
            print('accounting: simulated cloud of %d servers in %d projects;'
                  ' ours queued %d records in %d messages (publish() alone '
                  '%.2f s of the process\'s %.2f s)'
                  % (SERVERS, PROJECTS, ours['queued'][1],
                     ours['queued'][0], ours['publish'], ours['wall']),
                  flush=True)
            try:
                bindir = caso_venv(tmp)
            except (OSError, subprocess.CalledProcessError) as exc:
                print('accounting: cASO %s could not be installed (%s); '
                      'our figures only: wall %.2f s, %d API calls, peak '
                      'RSS %d KiB' % (CASO_VERSION, exc, ours['wall'],
                                      ours['calls'], ours['maxrss_kib']))
                return
            cloud.calls = 0
            caso = run_caso(bindir, url, tmp, since)
            caso['calls'] = cloud.calls
        finally:
            stop()
        print('accounting: cASO %s queued %d records in %d messages'
              % (CASO_VERSION, caso['queued'][1], caso['queued'][0]))
        _line('accounting extraction wall time (ours)',
              '%.2f' % ours['wall'], 's', 'cASO %s' % CASO_VERSION,
              '%.2f' % caso['wall'], caso['wall'] / ours['wall'])
        print('  target: ratio >= %.1f (cASO time / ours): %s'
              % (TARGET_SPEEDUP, 'met' if caso['wall'] / ours['wall']
                 >= TARGET_SPEEDUP else 'NOT met'))
        _line('accounting API calls (ours)', ours['calls'], 'calls',
              'cASO %s' % CASO_VERSION, caso['calls'],
              caso['calls'] / max(1, ours['calls']))
        print('  target: ratio >= %.1f (cASO calls / ours): %s'
              % (TARGET_CALL_RATIO, 'met' if caso['calls'] / max(
                  1, ours['calls']) >= TARGET_CALL_RATIO else 'NOT met'))
        _line('accounting peak RSS at %d servers (ours)' % SERVERS,
              ours['maxrss_kib'], 'KiB', 'ours at %d servers'
              % max(1, SERVERS // 4), ours_small['maxrss_kib'],
              ours['maxrss_kib'] / ours_small['maxrss_kib'])
        _line('accounting peak RSS at %d servers (ours)' % SERVERS,
              ours['maxrss_kib'], 'KiB', 'cASO %s' % CASO_VERSION,
              caso['maxrss_kib'], caso['maxrss_kib'] / ours['maxrss_kib'])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    run()
