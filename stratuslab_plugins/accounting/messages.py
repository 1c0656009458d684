"""Wire formats of the records, and messages that respect EGI's limits.

One module for everything the repository's parsers see: the APEL cloud
message v0.4 (``Key: value`` lines, records separated by ``%%``), the EMI
StAR XML storage record, and the JSON public-IP (v0.2) and accelerator
(v0.1) messages. A :class:`Packer` fills messages record by record and
hands a finished one over as soon as the next record would break a limit
(100 records, under 1 MB by default), so a run of any size holds one
message in memory::

    packer = Packer(CLOUD, max_records=100, max_bytes=1000 * 1000)
    for record in records:
        for message in packer.add(record):
            queue.add(message.body)
    for message in packer.flush():
        queue.add(message.body)

Sanitising (:func:`sanitise`): every text value is cut down to printable
ASCII before it is written, because one bad value rejects a whole message
of 100 records. Non-ASCII letters lose their accents (NFKD, then anything
still not ASCII is dropped), control characters (newline, tab, ...) become
spaces, a run of blanks one space, a run of ``%`` one ``%``, surrounding
blanks go, and a value longer than its field (255 characters; 50 for
BenchmarkType, the APEL database's column sizes) is cut to the field
size with its last three characters replaced by ``...``. A value empty
after that is left out (the repository reads a missing key as NULL).
"""

import dataclasses
import functools
import json
import re
import unicodedata
from xml.etree import ElementTree

from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting import records as records_mod

#: Default limits: EGI's (GGUS 143436: 100 records; ARGO AMS: 1 MB).
MAX_RECORDS = 100
MAX_BYTES = 1000 * 1000

#: Field size of text values in the APEL database, and the exceptions.
DEFAULT_FIELD_SIZE = 255
FIELD_SIZES = {'BenchmarkType': 50}
_ELLIPSIS = '...'
_PERCENT_RUN = re.compile('%{2,}')
_BLANK_RUN = re.compile(r'\s{2,}')
_NOT_PRINTABLE = re.compile(r'[^\x20-\x7e]')
#: Values the repository reads as NULL, in any case (APEL's
#: ``check_for_null``); in a mandatory field they reject the message.
NULL_WORDS = ('none', 'null')

STAR_NAMESPACE = 'http://eu-emi.eu/namespaces/2011/02/storagerecord'


def sanitise(value, size=DEFAULT_FIELD_SIZE):
    """Return ``value`` as safe printable ASCII of at most ``size`` chars.

    Returns None when nothing is left (see the module docstring).
    """
    if value is None:
        return None
    return _sanitise_text(str(value), size)


# Names, users, projects and FQANs repeat across a run's records: cache.
@functools.lru_cache(maxsize=8192)
def _sanitise_text(text, size):
    if not (text.isascii() and text.isprintable()):
        text = unicodedata.normalize('NFKD', text)
        text = text.encode('ascii', 'ignore').decode('ascii')
        text = _NOT_PRINTABLE.sub(' ', text)
    text = _BLANK_RUN.sub(' ', _PERCENT_RUN.sub('%', text)).strip()
    if len(text) > size:
        text = text[:size - len(_ELLIPSIS)].rstrip() + _ELLIPSIS
    return text or None


def _text(key, value):
    return sanitise(value, FIELD_SIZES.get(key, DEFAULT_FIELD_SIZE))


def _number(value):
    if value is None:
        return None
    if isinstance(value, float):
        return repr(value)
    return str(int(value))


def _epoch(value):
    return None if value is None else records_mod.epoch(value)


def _iso(value):
    # StAR wants an explicit offset; cASO wrote naive local times.
    return records_mod.utc(value).strftime('%Y-%m-%dT%H:%M:%SZ')


def cloud_fields(record):
    """Return the ``[(key, value)]`` of a cloud record, in APEL's order.

    Values are final strings; keys whose value is NULL are left out.
    """
    texts = [
        ('VMUUID', record.vm_uuid),
        ('SiteName', record.site_name),
        ('CloudComputeService', record.cloud_compute_service),
        ('MachineName', record.machine_name),
        ('LocalUserId', record.local_user_id),
        ('LocalGroupId', record.local_group_id),
        ('GlobalUserName', record.global_user_name),
        ('FQAN', record.fqan),
        ('Status', record.status),
    ]
    numbers = [
        # The repository files a record that is not ``completed`` under
        # the month of RecordCreateTime; without it, under StartTime +
        # WallDuration + SuspendDuration, which falls months early for a
        # VM that was shut off for a while (APEL 2.5.0,
        # ReplaceCloudRecord).
        ('RecordCreateTime', _epoch(record.measured_at)),
        ('StartTime', _epoch(record.start_time)),
        # EndTime 0 is the repository's "still running".
        ('EndTime', _epoch(record.end_time) if record.end_time else 0),
        ('SuspendDuration', record.suspend_duration),
        ('WallDuration', record.wall_duration),
        ('CpuDuration', record.cpu_duration),
        ('CpuCount', record.cpu_count),
        ('PublicIPCount', record.public_ip_count),
        ('Memory', record.memory),
        ('Disk', record.disk),
    ]
    tail_texts = [
        ('ImageId', record.image_id),
        ('CloudType', record.cloud_type),
    ]
    fields = [(k, _text(k, v)) for k, v in texts]
    fields += [(k, _number(v)) for k, v in numbers]
    if record.benchmark is not None:
        fields += [('BenchmarkType', _text('BenchmarkType',
                                           record.benchmark_type)),
                   ('Benchmark', _number(float(record.benchmark)))]
    fields += [(k, _text(k, v)) for k, v in tail_texts]
    fields = [(k, v) for k, v in fields if v is not None]
    present = dict(fields)
    for mandatory in ('VMUUID', 'SiteName'):
        if (present.get(mandatory) or 'none').lower() in NULL_WORDS:
            raise exceptions.RecordError(
                'cloud record %r has no %s after sanitising (or one the '
                'repository reads as NULL): the repository rejects it.'
                % (record.vm_uuid, mandatory))
    return fields


def render_cloud(record):
    return '\n'.join('%s: %s' % kv for kv in cloud_fields(record))


def _json_clean(mapping):
    out = {}
    for key, value in mapping.items():
        if isinstance(value, str):
            value = _text(key, value)
        if value is not None or key == 'CloudComputeService':
            out[key] = value
    return out


def ip_document(record):
    """Return the JSON object of one public-IP record (v0.2)."""
    return _json_clean({
        'MeasurementTime': _epoch(record.measurement_time),
        'SiteName': record.site_name,
        'CloudType': record.cloud_type,
        'CloudComputeService': record.cloud_compute_service,
        'LocalUser': record.local_user_id,
        'LocalGroup': record.local_group_id,
        'GlobalUserName': record.global_user_name,
        'FQAN': record.fqan,
        'IPVersion': int(record.ip_version),
        'IPCount': int(record.ip_count),
    })


def accelerator_document(record):
    """Return the JSON object of one accelerator record (v0.1)."""
    return _json_clean({
        'MeasurementMonth': int(record.measurement_month),
        'MeasurementYear': int(record.measurement_year),
        'AssociatedRecordType': 'cloud',
        'AssociatedRecord': record.associated_record,
        'GlobalUserName': record.global_user_name,
        'FQAN': record.fqan,
        'SiteName': record.site_name,
        'Count': int(record.count),
        'Cores': record.cores,
        'AvailableDuration': int(record.available_duration),
        'ActiveDuration': record.active_duration,
        'BenchmarkType': record.benchmark_type,
        'Benchmark': record.benchmark,
        'Type': record.accelerator_type,
        'Model': record.model,
    })


def _json(document):
    return json.dumps(document, ensure_ascii=True, sort_keys=True)


def _sr(tag):
    return '{%s}%s' % (STAR_NAMESPACE, tag)


def _sub(parent, tag, text):
    text = _text(tag, text)
    if text is not None:
        ElementTree.SubElement(parent, _sr(tag)).text = text


def storage_element(record):
    """Return the ``sr:StorageUsageRecord`` element of a storage record."""
    root = ElementTree.Element(_sr('StorageUsageRecord'))
    ElementTree.SubElement(root, _sr('RecordIdentity'), {
        _sr('createTime'): _iso(record.create_time or record.end_time),
        _sr('recordId'): _text('recordId', record.record_id),
    })
    _sub(root, 'StorageSystem', record.storage_system)
    _sub(root, 'Site', record.site_name)
    _sub(root, 'StorageMedia', record.storage_media)
    _sub(root, 'StorageClass', record.storage_class)
    subject = ElementTree.SubElement(root, _sr('SubjectIdentity'))
    _sub(subject, 'LocalUser', record.local_user_id)
    _sub(subject, 'LocalGroup', record.local_group_id)
    _sub(subject, 'UserIdentity', record.global_user_name)
    _sub(subject, 'Group', record.vo)
    ElementTree.SubElement(root, _sr('StartTime')).text = _iso(
        record.start_time)
    ElementTree.SubElement(root, _sr('EndTime')).text = _iso(record.end_time)
    ElementTree.SubElement(root, _sr('ResourceCapacityUsed')).text = str(
        int(record.capacity_bytes))
    return root


ElementTree.register_namespace('sr', STAR_NAMESPACE)


def render_storage(record):
    if not _text('recordId', record.record_id):
        raise exceptions.RecordError(
            'storage record for volume %r has no usable recordId'
            % (record.record_id,))
    text = ElementTree.tostring(storage_element(record), encoding='unicode')
    # ElementTree declares the namespace on every top-level element it
    # serialises; inside the message the root declares it once.
    return text.replace(' xmlns:sr="%s"' % STAR_NAMESPACE, '', 1)


@dataclasses.dataclass(frozen=True)
class Format:
    """How records of one kind are rendered and joined into a message."""

    kind: str
    prefix: str
    separator: str
    suffix: str
    render: object


CLOUD = Format('cloud', 'APEL-cloud-message: v0.4\n', '\n%%\n', '\n',
               render_cloud)
STORAGE = Format('storage',
                 '<sr:StorageUsageRecords xmlns:sr="%s">' % STAR_NAMESPACE,
                 '', '</sr:StorageUsageRecords>\n', render_storage)
IP = Format('ip', '{"Type": "APEL Public IP message", "Version": "v0.2", '
            '"UsageRecords": [', ', ', ']}\n',
            lambda record: _json(ip_document(record)))
ACCELERATOR = Format('accelerator',
                     '{"Type": "APEL-accelerator-message", '
                     '"Version": "v0.1", "UsageRecords": [', ', ', ']}\n',
                     lambda record: _json(accelerator_document(record)))

FORMATS = {fmt.kind: fmt for fmt in (CLOUD, STORAGE, IP, ACCELERATOR)}


@dataclasses.dataclass
class Message:
    """One finished message: ASCII bytes and the keys of its records."""

    kind: str
    body: bytes
    keys: list


class Packer:
    """Fill messages of one format without breaking either limit.

    :param fmt: a :class:`Format`, e.g. :data:`CLOUD`.
    :param max_records: most records in one message.
    :param max_bytes: a message is strictly smaller than this.
    """

    def __init__(self, fmt, max_records=MAX_RECORDS, max_bytes=MAX_BYTES):
        if max_records < 1:
            raise exceptions.ConfigurationError(
                'max_records is %r: a message holds at least one record.'
                % (max_records,))
        self.fmt = fmt
        self.max_records = max_records
        self.max_bytes = max_bytes
        self._parts = []
        self._keys = []
        self._size = 0

    def _size_with(self, part):
        size = len(self.fmt.prefix) + len(self.fmt.suffix) + len(part)
        if self._parts:
            size += self._size + len(self.fmt.separator)
        return size

    def add(self, record):
        """Add one record; return the messages it finished (0 or 1)."""
        part = self.fmt.render(record)
        done = []
        if self._parts and (len(self._parts) >= self.max_records
                            or self._size_with(part) >= self.max_bytes):
            done = self.flush()
        if self._size_with(part) >= self.max_bytes:
            raise exceptions.RecordError(
                '%s record %r alone makes a message of %d bytes, over the '
                'limit of %d bytes: raise the message size limit.'
                % (self.fmt.kind, record.key, self._size_with(part),
                   self.max_bytes))
        if self._parts:
            self._size += len(self.fmt.separator)
        self._parts.append(part)
        self._keys.append(record.key)
        self._size += len(part)
        return done

    def flush(self):
        """Return the message being filled (as a list of 0 or 1)."""
        if not self._parts:
            return []
        body = (self.fmt.prefix + self.fmt.separator.join(self._parts)
                + self.fmt.suffix)
        message = Message(self.fmt.kind, body.encode('ascii'), self._keys)
        self._parts, self._keys, self._size = [], [], 0
        return [message]


class MessageSet:
    """One :class:`Packer` per record kind, for a mixed stream of records.

    :param kinds: the record kinds to keep; records of other kinds are
        dropped (the IP and accelerator formats are opt-in).
    """

    def __init__(self, kinds, max_records=MAX_RECORDS, max_bytes=MAX_BYTES):
        self.packers = {kind: Packer(FORMATS[kind], max_records, max_bytes)
                        for kind in kinds}

    def add(self, record):
        packer = self.packers.get(record.kind)
        return packer.add(record) if packer else []

    def flush(self):
        done = []
        for packer in self.packers.values():
            done.extend(packer.flush())
        return done


def record_document(record):
    """Return one record as a flat JSON-ready dict (the ``json`` messenger).

    Keys are the repository's field names, plus ``RecordType`` and, for
    cloud records, ``VO``, so a search engine can group by them.
    """
    if record.kind == 'cloud':
        document = dict(cloud_fields(record))
        for key in ('RecordCreateTime', 'StartTime', 'EndTime',
                    'SuspendDuration', 'WallDuration', 'CpuDuration',
                    'PublicIPCount', 'Memory', 'Disk'):
            if key in document:
                document[key] = int(document[key])
        for key in ('CpuCount', 'Benchmark'):
            if key in document:
                document[key] = float(document[key])
        document['VO'] = _text('VO', record.vo)
    elif record.kind == 'storage':
        document = _json_clean({
            'RecordId': record.record_id,
            'SiteName': record.site_name,
            'StorageSystem': record.storage_system,
            'LocalUser': record.local_user_id,
            'LocalGroup': record.local_group_id,
            'UserIdentity': record.global_user_name,
            'Group': record.vo,
            'StartTime': _iso(record.start_time),
            'EndTime': _iso(record.end_time),
            'ResourceCapacityUsed': int(record.capacity_bytes),
        })
    elif record.kind == 'ip':
        document = ip_document(record)
    else:
        document = accelerator_document(record)
    document['RecordType'] = record.kind
    return document


def render_document(record):
    """Return one record as a line of JSON (ASCII, no newline inside)."""
    return _json(record_document(record))
