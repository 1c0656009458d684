"""The sandbox scenario: a grid site's day, told step by step.

Each step is a method whose docstring's first line is the progress line;
each adds what it saw to the report that ends in ``WORKDIR/report.json``.
The scenario runs inside a :class:`~stratuslab_plugins.sandbox.runner.
SandboxNovaCase`, whose Nova API clients, services and fixtures it uses.
"""

import collections
import contextlib
import datetime
import json
import logging
import os

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
    """Keep the lines that explain a decision in grid terms."""
    keep = ('Grid', 'grid_', 'returned', 'VO', 'downtime', 'partition')
    return [line for line in lines if any(word in line for word in keep)]


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
        return [self.start_site, self.boot_servers, self.change_servers,
                self.write_report]

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
                    networks='none', api=self.clients[vo])
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

    # -- the report --------------------------------------------------------

    def write_report(self):
        """Write the placements and records to WORKDIR/report.json."""
        by_host = collections.Counter(
            p['host'] for p in self.report['placements'])
        self.report['servers_by_host'] = dict(sorted(by_host.items()))
        path = os.path.join(self.workdir, 'report.json')
        with open(path, 'w') as f:
            json.dump(self.report, f, indent=2, sort_keys=True)
        self.say('    %s' % path)
