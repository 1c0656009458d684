"""A strict reading of APEL cloud v0.4 messages, as the repository reads them.

The rules come from the APEL server's record parser (release 2.5.0): the
header line, records split on ``%%``, ``Key: value`` lines, unknown keys
rejected, typed fields checked, VMUUID and SiteName mandatory, and the
message decoded as ASCII by SSM. The tests parse what we render with it,
so a message it rejects would be rejected by the repository; the sandbox
reads its outgoing queue back with it::

    records = apel_reader.parse(message_bytes)   # [{'VMUUID': ...}, ...]
"""

HEADER = 'APEL-cloud-message: v0.4'
ACCEPTED = frozenset((
    'RecordCreateTime', 'VMUUID', 'SiteName', 'CloudComputeService',
    'MachineName', 'LocalUserId', 'LocalGroupId', 'GlobalUserName', 'FQAN',
    'Status', 'StartTime', 'EndTime', 'SuspendDuration', 'WallDuration',
    'CpuDuration', 'CpuCount', 'NetworkType', 'NetworkInbound',
    'NetworkOutbound', 'PublicIPCount', 'Memory', 'Disk', 'BenchmarkType',
    'Benchmark', 'StorageRecordId', 'ImageId', 'CloudType'))
INTEGERS = frozenset((
    'SuspendDuration', 'WallDuration', 'CpuDuration', 'NetworkInbound',
    'NetworkOutbound', 'PublicIPCount', 'Memory', 'Disk', 'StartTime',
    'EndTime', 'RecordCreateTime'))
FLOATS = frozenset(('CpuCount', 'Benchmark'))


class Rejected(Exception):
    """The repository would refuse this message; the text says why."""


def parse(body):
    """Return a list of ``{key: value}`` dicts, or raise :class:`Rejected`."""
    try:
        text = body.decode('ascii')
    except UnicodeDecodeError as exc:
        raise Rejected('not ASCII: %s' % exc)
    header, _, rest = text.partition('\n')
    if header.strip() != HEADER:
        raise Rejected('bad header %r' % header)
    records = []
    for chunk in rest.split('%%'):
        if not chunk.strip():
            continue
        record = {}
        for line in chunk.strip('\n').split('\n'):
            if ': ' not in line:
                raise Rejected('line without ": ": %r' % line)
            key, value = line.split(': ', 1)
            if key not in ACCEPTED:
                raise Rejected('Unknown field: %s' % key)
            if key in record:
                raise Rejected('duplicate field %s' % key)
            # APEL's check_for_null: in any case.
            if value.lower() in ('none', 'null', ''):
                value = None
            elif key in INTEGERS:
                value = int(value)
            elif key in FLOATS:
                value = float(value)
            record[key] = value
        for key in ('VMUUID', 'SiteName'):
            if not record.get(key):
                raise Rejected('missing %s' % key)
        records.append(record)
    return records
