"""Listener ingestion: Nova notifications from RabbitMQ into the SQLite ledger.

Starts a private RabbitMQ node (the functional tests' fixture), publishes
Nova-shaped versioned notifications with an oslo.messaging notifier, then
drains them twice with the listener's batch configuration:

* once with an endpoint that only acknowledges (what the broker and
  oslo.messaging deliver at most, on this machine, in this run);
* once with the real endpoint writing into a SQLite ledger (WAL), the
  figure the issue sets a target for: 2,000 events/s on 2 cores;
* once with two ``stratuslab-accounting-listener`` processes sharing the
  queue and the SQLite file, the way a site uses both cores (timed from
  the first event stored, so their start-up is not counted).

The broker's own publish rate, measured in the same run, is the baseline
each figure is printed against.
"""

import importlib.util
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid

from oslo_config import cfg
import oslo_messaging
from oslo_messaging import conffixture

from stratuslab_plugins.accounting.ledger import usage as usage_ledger
from stratuslab_plugins.accounting.usage import listener
from stratuslab_plugins.conf import usage as usage_conf

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

#: Instances per run, each going through STEPS; the batch size defaults
#: to the listener's ``[accounting_usage] batch_size``.
INSTANCES = int(os.environ.get('BENCH_LISTENER_INSTANCES', '2000'))
STEPS = [(0, 'instance.create.end'), (10, 'instance.suspend.end'),
         (20, 'instance.resume.end'), (30, 'instance.power_off.end'),
         (40, 'instance.delete.end')]


def _load(relative, name):
    # tests/functional/__init__.py monkey-patches the process for Nova's
    # harness; the benchmark must not run under eventlet, so the two
    # helper modules are loaded from their files, without that package.
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(ROOT, relative))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class AckOnly:
    """An endpoint that acknowledges without writing: the drain baseline."""

    filter_rule = listener.InstanceEventEndpoint.filter_rule

    def __init__(self):
        self.count = 0
        self._lock = threading.Lock()

    def info(self, messages):
        with self._lock:
            self.count += len(messages)
        return oslo_messaging.NotificationResult.HANDLED


def _conf(url):
    conf = cfg.ConfigOpts()
    usage_conf.register_opts(conf)
    conf([], project='stratuslab-bench')
    fixture = conffixture.ConfFixture(conf)
    fixture.setUp()
    conf.set_override('control_exchange', 'nova')
    conf.set_override('unversioned_topic', '', group='accounting_usage')
    batch = os.environ.get('BENCH_LISTENER_BATCH')
    if batch:
        conf.set_override('batch_size', int(batch), group='accounting_usage')
    return conf, oslo_messaging.get_notification_transport(conf, url=url)


def _publish(transport, topic, nova):
    notifier = oslo_messaging.Notifier(
        transport, publisher_id='nova-compute:bench', driver='messagingv2',
        topics=[topic])
    messages = []
    for _ in range(INSTANCES):
        messages.extend(nova.lifecycle(str(uuid.uuid4()), STEPS))
    started = time.monotonic()
    for event_type, payload, _ in messages:
        notifier.info({}, event_type, payload)
    return len(messages), time.monotonic() - started


def _drain(conf, transport, topic, endpoint, done):
    conf.set_override('nova_topic', topic, group='accounting_usage')
    server = oslo_messaging.get_batch_notification_listener(
        transport,
        [oslo_messaging.Target(topic=topic, exchange='nova')],
        [endpoint], executor='threading', allow_requeue=True,
        batch_size=conf.accounting_usage.batch_size,
        batch_timeout=conf.accounting_usage.batch_timeout)
    started = time.monotonic()
    server.start()
    while not done():
        time.sleep(0.02)
    elapsed = time.monotonic() - started
    server.stop()
    server.wait()
    return elapsed


def _run_processes(broker_url, topic, ledger_url, count, tmp, done):
    """Run ``count`` listener processes until ``done()`` says all is in.

    :param done: callable returning ``(events stored, finished)``.
    :returns: ``(seconds, events stored before timing)``: timed from the
        first event stored to the last, so the processes' start-up
        (imports) is not counted.
    """
    config = os.path.join(tmp, 'listener.conf')
    with open(config, 'w') as out:
        out.write('[DEFAULT]\ntransport_url = %s\n[accounting_usage]\n'
                  'ledger_connection = %s\nnova_topic = %s\n'
                  'unversioned_topic =\n' % (broker_url, ledger_url, topic))
    script = os.path.join(os.path.dirname(sys.executable),
                          'stratuslab-accounting-listener')
    command = ([script] if os.path.exists(script) else
               [sys.executable, '-m', 'stratuslab_plugins.cmd.listener'])
    processes = [subprocess.Popen(command + ['--config-file', config],
                                  stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
                 for _ in range(count)]
    try:
        stored, first = done()
        while not stored:
            time.sleep(0.005)
            stored, first = done()
        started = time.monotonic()
        while not done()[1]:
            time.sleep(0.02)
        return time.monotonic() - started, stored
    finally:
        for process in processes:
            process.terminate()
            process.wait(30)


def _stored(path):
    # A plain read-only connection: WAL readers do not wait for writers.
    def count():
        with sqlite3.connect('file:%s?mode=ro' % path, uri=True) as db:
            return db.execute(
                'SELECT count(*) FROM usage_events').fetchone()[0]
    return count


def _line(name, rate, baseline):
    print('%s: %.0f events/s (baseline broker publish: %.0f events/s, '
          'ratio %.2f)' % (name, rate, baseline, rate / baseline),
          flush=True)


def run():
    broker_module = _load('tests/functional/rabbitmq_fixture.py',
                          'bench_rabbitmq_fixture')
    nova = _load('tests/unit/accounting/usage/nova_payloads.py',
                 'bench_nova_payloads')
    broker = broker_module.RabbitMQFixture()
    broker.setUp()
    tmp = tempfile.TemporaryDirectory(prefix='stratuslab-bench-')
    try:
        conf, transport = _conf(broker.url)
        path = os.path.join(tmp.name, 'ledger.sqlite')
        ledger = usage_ledger.UsageLedger.from_url('sqlite:///%s' % path)

        topic = 'bench_ack_%s' % uuid.uuid4().hex[:6]
        total, seconds = _publish(transport, topic, nova)
        publish_rate = total / seconds
        ack_only = AckOnly()
        drained = _drain(conf, transport, topic, ack_only,
                         lambda: ack_only.count >= total)

        topic = 'bench_ledger_%s' % uuid.uuid4().hex[:6]
        total2, seconds2 = _publish(transport, topic, nova)
        publish_rate = (total + total2) / (seconds + seconds2)
        stored = _stored(path)
        ingested = _drain(conf, transport, topic,
                          listener.InstanceEventEndpoint(ledger),
                          lambda: stored() >= total2)

        topic = 'bench_procs_%s' % uuid.uuid4().hex[:6]
        total3, seconds3 = _publish(transport, topic, nova)
        path3 = os.path.join(tmp.name, 'ledger3.sqlite')
        usage_ledger.UsageLedger.from_url('sqlite:///%s' % path3)
        stored3 = _stored(path3)

        def progress():
            count = stored3()
            return count, count >= total3
        seconds_procs, head_start = _run_processes(
            broker.url, topic, 'sqlite:///%s' % path3, 2, tmp.name,
            progress)

        print('listener: %d events (%d instances x %d), batch %d, %d cores'
              % (total2, INSTANCES, len(STEPS),
                 conf.accounting_usage.batch_size, os.cpu_count()))
        _line('listener ingestion into SQLite ledger', total2 / ingested,
              publish_rate)
        _line('2 listener processes into one SQLite ledger',
              (total3 - head_start) / seconds_procs, publish_rate)
        _line('listener drain, acknowledge only', total / drained,
              publish_rate)
        ledger.engine.dispose()
        transport.cleanup()
    finally:
        broker.cleanUp()
        tmp.cleanup()


if __name__ == '__main__':
    run()
