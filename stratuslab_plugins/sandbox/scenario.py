"""The sandbox scenario: a grid site's day, told step by step.

Each step is a method whose docstring's first line is the progress line;
each adds what it saw to the report that ends in ``WORKDIR/report.json``.
The scenario runs inside a :class:`~stratuslab_plugins.sandbox.runner.
SandboxNovaCase`, whose Nova API clients, services and fixtures it uses.
"""

import collections
import contextlib
import datetime
import hashlib
import io
import json
import logging
import os

from keystoneauth1 import noauth
from keystoneauth1 import session as ks_session
from oslo_config import cfg

from stratuslab_plugins.accounting import apel_reader
from stratuslab_plugins.accounting import builders as accounting_builders
from stratuslab_plugins.accounting.ledger import state as state_ledger
from stratuslab_plugins.accounting.ledger import usage as usage_ledger
from stratuslab_plugins.accounting import loading
from stratuslab_plugins.accounting import manager as accounting_manager
from stratuslab_plugins.accounting.usage import listener as usage_listener
from stratuslab_plugins.accounting.usage import measured as usage_measured
from stratuslab_plugins.appliance import image_list
from stratuslab_plugins.appliance import model
from stratuslab_plugins.appliance import registry as registry_client
from stratuslab_plugins.appliance import repository
from stratuslab_plugins.appliance import trust
from stratuslab_plugins.conf import accounting as accounting_conf
from stratuslab_plugins.conf import grid as grid_conf
from stratuslab_plugins.grid import vo_map
from stratuslab_plugins.sandbox import glance_api
from stratuslab_plugins.sandbox import pki
from stratuslab_plugins.sandbox import registry as sandbox_registry
from stratuslab_plugins.sandbox import site

#: Loggers whose records say why the scheduler kept or dropped a host.
PLACEMENT_LOGGERS = ('nova.filters', 'nova.scheduler.filters',
                     'stratuslab_plugins.scheduler',
                     'stratuslab_plugins.grid')


class _Collector(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


@contextlib.contextmanager
def placement_reasons():
    """Collect what the filters log while one server is scheduled."""
    collector = _Collector()
    loggers = [logging.getLogger(name) for name in PLACEMENT_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(collector)
        logger.setLevel(logging.DEBUG)
    try:
        yield collector.lines
    finally:
        for logger, level in zip(loggers, levels):
            logger.removeHandler(collector)
            logger.setLevel(level)


def _grid_reasons(lines):
    """Keep the grid filters' refusals: which filter refused which hosts."""
    return [line.split(' for GridRequest')[0] for line in lines
            if 'Grid' in line and ' refused ' in line]


class Scenario(object):
    """Drive the site through one scenario and report what happened.

    :param case: the running Nova harness (a ``SandboxNovaCase``).
    :param workdir: where data, the outgoing queue and the report go.
    :param out: the stream progress is written to.
    :param keep: keep the services' data after the run.
    """

    def __init__(self, case, workdir, out, keep=True):
        self.case = case
        self.workdir = workdir
        self.out = out
        self.keep = keep
        self.now = datetime.datetime.now(datetime.timezone.utc)
        self.report = {'site': site.SITE_NAME, 'placements': [],
                       'records': [], 'appliance': None}
        self.clients = {}
        self.flavors = {}
        self.servers = {}

    def steps(self):
        return [self.start_services, self.publish_appliance,
                self.upload_through_glance, self.start_site,
                self.boot_servers, self.change_servers,
                self.extract_accounting, self.show_usage, self.write_report]

    def run(self):
        steps = self.steps()
        for number, step in enumerate(steps, 1):
            title = step.__doc__.strip().splitlines()[0]
            self.say('[%d/%d] %s' % (number, len(steps), title))
            step()
        return self.report

    def say(self, text):
        if self.out is not None:
            self.out.write(text + '\n')
            self.out.flush()

    def path(self, *names):
        return os.path.join(self.workdir, *names)

    # -- the appliance repository and Glance ---------------------------------

    def start_services(self):
        """Start an OCI registry and a real glance-api with our store."""
        self.registry = sandbox_registry.Registry(self.path('registry'))
        self.case.addCleanup(self.registry.stop)
        self.registry.start()
        self.say('    OCI registry (docker-registry) at %s'
                 % self.registry.url)
        self.glance = glance_api.GlanceAPI(
            work_dir=self.path('glance'),
            enabled_backends={'appliance': 'appliance', 'local': 'file'},
            default_backend='appliance',
            backend_options={'appliance': {
                'appliance_registry_url': self.registry.url,
                'appliance_repository': site.GLANCE_REPOSITORY,
                'store_description': 'Appliance repository (OCI)'}})
        self.case.addCleanup(self.glance.stop)
        self.glance.start()
        self.say('    glance-api at %s, stores: appliance (default), local'
                 % self.glance.url)

    def publish_appliance(self):
        """Create an appliance, endorse it in a signed list, verify it."""
        ca = pki.make_ca('Sandbox Grid CA')
        endorser = pki.issue(ca, 'Sandbox Endorser',
                             email='endorser@sandbox.example.org')
        ca_dir = pki.write_ca_dir(self.path('ca'), ca)
        self.image_bytes = site.appliance_image()
        client = registry_client.RegistryClient(self.registry.url)
        self.case.addCleanup(client.close)
        published = repository.ApplianceRepository(client).create(
            site.APPLIANCE_REFERENCE, io.BytesIO(self.image_bytes),
            **site.APPLIANCE_FIELDS)
        listing = image_list.ImageList.new(
            'Sandbox atlas appliances',
            model.Endorser(dn=endorser.dn, ca=ca.dn,
                           email='endorser@sandbox.example.org'),
            appliances=[published], vo='atlas')
        document = listing.sign(endorser.cert_pem(), endorser.key_pem())
        with open(self.path('atlas.imagelist'), 'wb') as f:
            f.write(document)
        policy = trust.TrustPolicy.from_dict(
            {'endorsers': {'allow': [endorser.dn]}, 'vos': {
                'allow': list(site.VOS)}})
        _, verdicts = trust.evaluate(document, ca_dir, policy)
        self.report['appliance'] = {
            'reference': site.APPLIANCE_REFERENCE,
            'identifier': published.identifier,
            'stratuslab_id': published.stratuslab_id,
            'sha512': published.sha512, 'size': published.size,
            'location': published.locations[0],
            'verdicts': [{'subject': v.subject, 'trusted': v.trusted,
                          'reason': v.reason} for v in verdicts]}
        self.say('    pushed %s (%d bytes, StratusLab id %s)' % (
            site.APPLIANCE_REFERENCE, published.size,
            published.stratuslab_id))
        for verdict in verdicts:
            self.say('    %s' % verdict.reason)
        if not all(v.trusted for v in verdicts):
            raise RuntimeError('the sandbox appliance was not trusted')

    def upload_through_glance(self):
        """Upload the appliance's image through Glance into the registry."""
        connection = self.glance.connection()
        image = connection.image.create_image(
            name=site.APPLIANCE_FIELDS['title'], data=self.image_bytes,
            disk_format='raw', container_format='bare')
        record = connection.session.get(
            '%s/v2/images/%s' % (self.glance.url, image.id)).json()
        expected = hashlib.sha512(self.image_bytes).hexdigest()
        if record['os_hash_value'] != expected:
            raise RuntimeError('Glance stored %s, not the appliance (%s)'
                               % (record['os_hash_value'], expected))
        self.report['glance_image'] = {
            'id': image.id, 'stores': record.get('stores'),
            'os_hash_value': record['os_hash_value'],
            'checksum': record['checksum'], 'size': record['size']}
        self.image_id = image.id
        # Nova's harness has its own image service: give it the same
        # image, so servers reference what Glance holds.
        self.case.glance.create(None, {
            'id': image.id, 'name': record['name'], 'status': 'active',
            'disk_format': 'raw', 'container_format': 'bare',
            'size': record['size'], 'min_ram': 0, 'min_disk': 0,
            'properties': {}})
        self.say('    image %s active in store %s, sha512 matches the '
                 'appliance' % (image.id, record.get('stores')))

    # -- the site ----------------------------------------------------------

    def start_site(self):
        """Start four worker nodes, their aggregates and flavors."""
        self.case.start_computes(*site.HOSTS)
        admin = self.case.admin_api
        for name, hosts, metadata in site.aggregates(self.now):
            aggregate = admin.post_aggregate(
                {'aggregate': {'name': name}})
            for host in hosts:
                admin.add_host_to_aggregate(aggregate['id'], host)
            admin.post_aggregate_action(
                aggregate['id'], {'set_metadata': {'metadata': metadata}})
            self.say('    aggregate %-18s %s %s' % (
                name, ','.join(hosts),
                ' '.join('%s=%s' % kv for kv in sorted(metadata.items()))))
        for name, vcpus, ram, disk, specs in site.FLAVORS:
            flavor = admin.post_flavor({'flavor': {
                'name': name, 'vcpus': vcpus, 'ram': ram, 'disk': disk}})
            admin.post_extra_spec(flavor['id'], {'extra_specs': specs})
            self.flavors[name] = flavor['id']
        for vo, project in site.PROJECTS.items():
            self.clients[vo] = self.case.api_for_project(project)

    # -- scheduling --------------------------------------------------------

    def boot_servers(self):
        """Boot servers for both VOs and show where each landed and why."""
        for name, vo, flavor in site.SERVERS:
            with placement_reasons() as lines:
                server = self.case._create_server(
                    name=name, flavor_id=self.flavors[flavor],
                    image_uuid=self.image_id, networks='none',
                    api=self.clients[vo])
            host = self.case.host_of(
                self.case.admin_api.get_server(server['id']))
            self.servers[name] = server
            reasons = _grid_reasons(lines)
            self.report['placements'].append({
                'server': name, 'id': server['id'], 'vo': vo,
                'flavor': flavor, 'host': host, 'why': reasons})
            self.say('    %-20s %-7s %-17s -> %s' % (name, vo, flavor, host))
            for reason in reasons:
                self.say('        %s' % reason)

    def change_servers(self):
        """Suspend and delete some servers; give one a hostile name."""
        for name in site.SUSPENDED:
            server = self.servers[name]
            self.case.admin_api.post_server_action(
                server['id'], {'suspend': None})
            self.case._wait_for_state_change(server, 'SUSPENDED')
            self.say('    suspended %s' % name)
        for name in site.DELETED:
            self.case._delete_server(self.servers[name])
            self.say('    deleted %s' % name)
        hostile = self.servers['atlas-hostile-name']
        self.case.rename_instance(hostile['id'], site.HOSTILE_NAME)
        self.say('    renamed atlas-hostile-name to %r' % (
            site.HOSTILE_NAME[:40] + '...'))

    # -- accounting --------------------------------------------------------

    def accounting_conf(self):
        conf = cfg.ConfigOpts()
        grid_conf.register_opts(conf)
        accounting_conf.register_opts(conf)
        conf([], project='stratuslab-sandbox', default_config_files=[])
        conf.set_override('site_name', site.SITE_NAME, grid_conf.GROUP)
        conf.set_override('ledger_connection', 'sqlite:///%s'
                          % self.path('ledger.sqlite'), 'accounting')
        conf.set_override('extractors', ['nova'], 'accounting')
        conf.set_override('messengers', ['ssm'], 'accounting')
        conf.set_override('output_path', self.path('outgoing'),
                          accounting_conf.SSM_GROUP)
        return conf

    def nova_session(self):
        """A session reaching the in-process Nova API as an admin."""
        return ks_session.Session(
            auth=noauth.NoAuth(endpoint=self.case.api_fixture.base_url),
            additional_headers={
                'X-Auth-User': 'admin', 'X-User-Id': 'admin',
                'X-Auth-Project-Id': self.case.api.project_id,
                'X-Roles': 'admin,reader,member'})

    def listen_to_nova(self, ledger_url):
        """Store Nova's versioned notifications in the usage ledger.

        What ``stratuslab-accounting-listener`` does from the message bus,
        done here from the harness's notifier: the ledger measures wall
        and suspend time to the second, which the Nova API cannot give.
        """
        ledger = usage_ledger.UsageLedger.from_url(ledger_url)
        self.case.addCleanup(ledger.engine.dispose)
        endpoint = usage_listener.InstanceEventEndpoint(ledger)
        rule = endpoint.filter_rule
        messages = [n for n in self.case.notifier.versioned_notifications
                    if rule.match({}, n['publisher_id'], n['event_type'],
                                  n.get('metadata', {}), n['payload'])]
        endpoint.info(messages)
        self.say('    %d Nova notifications into the usage ledger (what '
                 'the listener does from the message bus)' % len(messages))
        return usage_measured.LedgerUsage(ledger)

    def extract_accounting(self):
        """Extract usage from Nova and write APEL messages for SSM."""
        conf = self.accounting_conf()
        vos = vo_map.VOMap({project: vo
                            for vo, project in site.PROJECTS.items()})
        measured = self.listen_to_nova(conf.accounting.ledger_connection)
        # The sandbox has no Keystone: users and VOs are plain data.
        context = accounting_builders.RecordContext(
            site_name=site.SITE_NAME, vo_for_project=vos.vo_for_project,
            user_name_for=site.USER_NAMES.get,
            refine_usages=measured.refine, unseen_usages=measured.unseen)
        kinds = accounting_manager.enabled_kinds(conf)
        messengers = [plugin(conf, kinds) for plugin in
                      loading.messenger_classes(['ssm']).values()]
        run = accounting_manager.Manager(
            conf, loading.extractor_classes(['nova']), messengers,
            state_ledger.StateLedger.from_url(
                conf.accounting.ledger_connection),
            context, self.nova_session()).publish(
                since=self.now - datetime.timedelta(hours=1))
        parsed = self.read_back_queue()
        self.report['accounting'] = {
            'records': run.records, 'messages': run.messages,
            'queued_messages': len(parsed['messages']),
            'queued_records': len(parsed['records'])}
        self.report['records'] = parsed['records']
        self.say('    %d records in %d APEL messages under %s' % (
            run.records, run.messages, self.path('outgoing')))

    def read_back_queue(self):
        """Parse every queued message back into records (as ssmsend would)."""
        found = {'messages': [], 'records': []}
        for root, _dirs, files in os.walk(self.path('outgoing')):
            for name in sorted(files):
                if name.startswith('.') or name.endswith('.tmp'):
                    continue
                with open(os.path.join(root, name), 'rb') as f:
                    body = f.read()
                found['messages'].append(body.decode('ascii'))
                found['records'].extend(apel_reader.parse(body))
        return found

    def show_usage(self):
        """Print usage by VO, as the EGI portal would add it up."""
        totals = collections.defaultdict(
            lambda: {'records': 0, 'wall_seconds': 0, 'suspend_seconds': 0,
                     'cpu_seconds': None})
        for record in self.report['records']:
            vo = record.get('FQAN', 'unknown').strip('/').split('/')[0]
            total = totals[vo]
            total['records'] += 1
            total['wall_seconds'] += int(record.get('WallDuration') or 0)
            total['suspend_seconds'] += int(
                record.get('SuspendDuration') or 0)
            # CPU time is known only where it was measured: a VO whose
            # records all omit it shows "-", not 0.
            if record.get('CpuDuration') not in (None, ''):
                total['cpu_seconds'] = (total['cpu_seconds'] or 0) + int(
                    record['CpuDuration'])
        self.report['usage_by_vo'] = dict(sorted(totals.items()))
        self.say('    %-10s %8s %10s %13s %10s' % (
            'VO', 'records', 'wall (s)', 'suspended (s)', 'cpu (s)'))
        for vo, total in sorted(totals.items()):
            cpu = total['cpu_seconds']
            self.say('    %-10s %8d %10d %13d %10s' % (
                vo, total['records'], total['wall_seconds'],
                total['suspend_seconds'], '-' if cpu is None else cpu))

    # -- the report --------------------------------------------------------

    def write_report(self):
        """Write the placements and records to WORKDIR/report.json."""
        by_host = collections.Counter(
            p['host'] for p in self.report['placements'])
        self.report['servers_by_host'] = dict(sorted(by_host.items()))
        path = os.path.join(self.workdir, 'report.json')
        # Written whole or not at all: a run that stops here leaves no
        # report that could pass for a finished one.
        with open(path + '.tmp', 'w') as f:
            json.dump(self.report, f, indent=2, sort_keys=True)
        os.replace(path + '.tmp', path)
        self.say('    %s' % path)
