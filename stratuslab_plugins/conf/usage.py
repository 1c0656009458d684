"""Options of exact usage: the notification listener and the libvirt agent.

``[accounting_usage]`` configures ``stratuslab-accounting-listener`` (where
Nova's versioned notifications and the agents' CPU samples arrive, how they are
batched into the ledger) and ``stratuslab-accounting-libvirt-agent`` (which
libvirt to read, how often). The message bus itself is oslo.messaging's:
``[DEFAULT] transport_url`` or ``[oslo_messaging_notifications]
transport_url``, the same RabbitMQ Nova notifies on.

The group is ``[accounting_usage]``, not ``[usage]``: oslo.config's
``ConfigOpts`` already has an attribute named ``usage``.
"""

from oslo_config import cfg

GROUP = 'accounting_usage'

listener_opts = [
    cfg.StrOpt(
        'ledger_connection',
        secret=True,
        help="""
SQLAlchemy URL of the ledger the listener writes usage into.

Leave unset to use ``[accounting] ledger_connection``: the
accounting run then reads the intervals and CPU samples the
listener wrote, from the same database. Set it only when the
listener runs on a host that reaches the database under another
URL.

Possible values:
    * Unset, or a SQLAlchemy URL such as
      ``sqlite:////var/lib/stratuslab/usage.sqlite`` or
      ``postgresql+psycopg2://user:pw@host/db``.

Related options:
    * ``[accounting] ledger_connection``
"""),
    cfg.StrOpt(
        'nova_exchange',
        default='nova',
        help="""
Exchange Nova publishes its notifications on.

Nova uses its ``[DEFAULT] control_exchange``, ``nova`` unless a
site changed it.

Possible values:
    * An AMQP exchange name.

Related options:
    * ``nova_topic``
"""),
    cfg.StrOpt(
        'nova_topic',
        default='versioned_notifications',
        help="""
Topic of Nova's versioned notifications.

Nova's ``[notifications] versioned_notifications_topics``; the
listener reads instance lifecycle events (create, delete, power
off and on, suspend and resume, shelve offload and unshelve,
resize) and the periodic ``instance.exists`` from it.

Possible values:
    * A topic name.

Related options:
    * ``nova_exchange``
    * ``pool``
"""),
    cfg.StrOpt(
        'pool',
        default='',
        help="""
Listener pool name: the queue this site's listeners share.

Empty (the default): the listeners consume Nova's own queue
``<nova_topic>.info``, sharing it with any other consumer of that
queue, each message going to one of them. Set a name when another
service also reads versioned notifications: the listeners then get
a queue of that name with a copy of every notification, and
listeners started with the same name share its load. Nova's own
queue then needs its other consumer (or a RabbitMQ ``max-length``
policy), or it grows without bound.

Possible values:
    * Empty, or a queue name such as ``stratuslab-accounting``.

Related options:
    * ``nova_topic``
"""),
    cfg.StrOpt(
        'unversioned_topic',
        default='notifications',
        help="""
Topic of Nova's legacy (unversioned) notifications, watched for a
warning.

When notifications arrive on this topic and none on
``nova_topic``, Nova is sending only the legacy format and the
listener warns once, naming the Nova options to set. The listener
reads them from its own queue ``<pool or
stratuslab-accounting>.unversioned-watch`` and records nothing
from them. Empty: no watch (and delete that queue with
``rabbitmqctl delete_queue`` if an earlier listener created it).

Possible values:
    * A topic name, or empty.

Related options:
    * ``nova_topic``
"""),
    cfg.StrOpt(
        'cpu_samples_topic',
        default='stratuslab_cpu_samples',
        help="""
Topic the libvirt agents send CPU samples on, and the listener
reads.

Samples go through the transport's default exchange
(oslo.messaging's ``[DEFAULT] control_exchange``); every listener
shares the one queue ``<cpu_samples_topic>.sample``, whatever its
pool.

Possible values:
    * A topic name; the same on agents and listeners.

Related options:
    * ``sample_interval``
"""),
    cfg.IntOpt(
        'batch_size',
        default=500,
        min=1,
        help="""
Notifications the listener writes into the ledger in one
transaction.

A batch is acknowledged once its transaction committed. A batch
costs the ledger a fixed number of statements whatever its size,
so larger batches raise throughput (fewer transactions) at the
price of more redelivered messages when a listener dies
(redelivery is harmless); ``batch_timeout`` bounds how long a
notification waits for its batch to fill. ``python -m tools.bench
listener`` measures the drain rate a batch size gives against
oslo.messaging's own batch listener. Unless
``[oslo_messaging_rabbit] rabbit_qos_prefetch_count`` is set, the
listener lets RabbitMQ hand it three batches ahead of its
acknowledgements: its memory is bounded by three batches, whatever
the backlog, and listeners on one queue share a backlog.

Possible values:
    * A positive integer.

Related options:
    * ``batch_timeout``
    * ``[oslo_messaging_rabbit] rabbit_qos_prefetch_count``
"""),
    cfg.FloatOpt(
        'batch_timeout',
        default=1.0,
        min=0.01,
        help="""
Seconds the listener waits to fill a batch before writing what it
has.

Bounds how long a lone notification waits before reaching the
ledger.

Possible values:
    * A positive number of seconds.

Related options:
    * ``batch_size``
"""),
    cfg.BoolOpt(
        'writer_process',
        default=True,
        help="""
Whether the listener reads and writes batches in a second process.

The listener process receives notifications (oslo.messaging and
kombu, one interpreter). With this option set, each batch goes
through a pipe to a writer process that reads it and writes it into
the ledger in one transaction, while the listener receives the next
batch: the two run on two cores, and the listener drains faster on
a machine with a core to spare. Either way a batch is acknowledged
only after its commit. A writer process that dies stops the
listener (exit status 1), its batches unacknowledged, for its
supervisor to restart it. Unset, batches are read and written in the
listener process, one process per listener (for a host with a single
core, or to debug).

Possible values:
    * True: a writer process beside each listener process.
    * False: everything in the listener process.

Related options:
    * ``batch_size``
"""),
]

agent_opts = [
    cfg.StrOpt(
        'libvirt_uri',
        default='qemu:///system',
        help="""
libvirt connection URI the agent reads domains' CPU time from.

The URI Nova's libvirt driver uses on this host (its ``[libvirt]
connection_uri``, ``qemu:///system`` by default).

Possible values:
    * A libvirt URI; ``test:///default`` for tests.

Related options:
    * ``sample_interval``
"""),
    cfg.IntOpt(
        'sample_interval',
        default=30,
        min=1,
        help="""
Seconds between two readings of every domain's CPU time.

One reading is one libvirt call for all the host's domains (the bulk
statistics ``virsh domstats --cpu-total`` shows), cheap enough to
repeat often. The agent also reads a domain on every lifecycle event
libvirt sends before it goes (suspend, pause, the end of a migration,
shutdown), so this interval bounds only what a hard stop (``virsh
destroy``, a host crash, a guest power-off that libvirt ends before the
agent's reading arrives) loses: at most ``sample_interval`` times the
domain's vCPUs CPU-seconds. Each reading is a row in the ledger.

Possible values:
    * A positive number of seconds.

Related options:
    * ``libvirt_uri``
"""),
    cfg.HostAddressOpt(
        'host',
        sample_default='<the host name>',
        help="""
Name the agent reports its samples under.

Defaults to the machine's host name; set it to Nova's ``[DEFAULT]
host`` when that differs, so an operator finds the compute host in
the ledger.

Possible values:
    * A host name.

Related options:
    * None
"""),
]


def register_opts(conf):
    conf.register_opts(listener_opts + agent_opts, group=GROUP)


def list_opts():
    return [(GROUP, listener_opts + agent_opts)]
