"""A small model of the APEL repository's cloud tables, for month tests.

The APEL server is not installable from the registries our machines
reach, so month attribution is tested against this model of what its
release 2.5.0 documents in ``schemas/cloud.sql`` (the real loader and
summariser are checked from outside):

``ReplaceCloudRecord``
    a record's measurement time is its ``EndTime`` when its Status is
    ``completed``; otherwise its ``RecordCreateTime`` when given, else
    ``StartTime + SuspendDuration + WallDuration``. The record is kept
    under (VMUUID, month and year of the measurement time) and REPLACEs
    the VM's earlier record of that month.
``SummariseVMs``
    a VM's usage in a month is its record of that month minus its record
    with the latest measurement time before it (a NULL there counts as
    0; NULL in the month's own record gives NULL).

Messages are read with the package's strict reader, so what the model
loads is what the repository's parser would accept::

    repository = Repository()
    repository.drain(queue_path)            # as ssmsend would send them
    repository.monthly('WallDuration')      # {(uuid, 2026, 11): seconds}
"""

import datetime
import shutil

from tests.unit.accounting import apel_oracle
from tests.unit.accounting.messengers import test_ssm

UTC = datetime.timezone.utc


def _time(epoch):
    return datetime.datetime.fromtimestamp(epoch, UTC)


def measurement_time(record):
    """Return when the repository takes a parsed record to be measured."""
    if record.get('Status') == 'completed':
        return _time(record.get('EndTime') or 0)
    if record.get('RecordCreateTime'):
        return _time(record['RecordCreateTime'])
    return _time(record['StartTime'] + (record.get('SuspendDuration') or 0)
                 + (record.get('WallDuration') or 0))


class Repository:
    """The cloud records table and its monthly summary, per VM."""

    def __init__(self):
        #: ``{(uuid, year, month): (measurement time, parsed record)}``
        self.records = {}

    def load(self, body):
        """Load one message (bytes), record by record."""
        for record in apel_oracle.parse(body):
            when = measurement_time(record)
            self.records[(record['VMUUID'], when.year, when.month)] = (
                when, record)

    def drain(self, path):
        """Load every message of a dirq queue, oldest first; empty it."""
        for body in test_ssm.read_queue(path):
            self.load(body)
        shutil.rmtree(path, ignore_errors=True)

    def monthly(self, field):
        """Return ``{(uuid, year, month): usage}`` of a cumulative field.

        :param field: ``WallDuration`` or ``CpuDuration``.
        """
        by_vm = {}
        for (uuid, year, month), (when, record) in self.records.items():
            by_vm.setdefault(uuid, []).append((when, year, month, record))
        usage = {}
        for uuid, rows in by_vm.items():
            previous = 0
            for when, year, month, record in sorted(
                    rows, key=lambda row: row[0]):
                # ThisRecord.X - IFNULL(PrevRecord.X, 0): NULL stays NULL.
                value = record.get(field)
                usage[(uuid, year, month)] = (
                    None if value is None else value - previous)
                previous = value or 0
        return usage
