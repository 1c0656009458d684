"""One accounting run, top-down: extract, hand over, then book.

::

    manager = Manager.from_conf(CONF)
    run = manager.publish()          # records -> every messenger -> ledger

The order is the whole point. Records stream from the extractors to every
messenger; only when every messenger has flushed (everything durable) does
the ledger move each extraction window to the run's ``until``. A crash
anywhere before that leaves the windows where they were, and the next run
resends from there: the repository REPLACEs a cloud record by VMUUID and
month, so a resent record changes nothing, while a lost one would be lost
for good. cASO moved its ``lastrun`` before pushing.

A project with no VO is logged once per run, its records are skipped,
and the run goes on.

Runs given an explicit ``since`` or a project subset are one-off
re-publications: they never move the windows (an explicit ``until`` alone
does: it is a catch-up to that time).

Each VM's record is preceded by its records at the month ends its window
crosses (see :mod:`.months`), so the repository books every second in
the month it happened. At an extraction window's first run (no window
stored yet) the month ends reach back ``[accounting]
first_publication_months`` months: a VM running for months gets its
past booked month by month, not into the current month.
"""

import dataclasses
import datetime
import logging

from stratuslab_plugins.accounting import builders
from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting import identity
from stratuslab_plugins.accounting.ledger import state as state_mod
from stratuslab_plugins.accounting.ledger import usage as usage_ledger
from stratuslab_plugins.accounting import loading
from stratuslab_plugins.accounting.messengers import noop
from stratuslab_plugins.accounting import months
from stratuslab_plugins.accounting import records
from stratuslab_plugins.accounting.usage import measured as usage_measured
from stratuslab_plugins.conf import accounting as accounting_conf
from stratuslab_plugins.conf import grid as grid_conf
from stratuslab_plugins.conf import keystone as keystone_conf
from stratuslab_plugins.grid import vo_map as vo_map_mod

LOG = logging.getLogger(__name__)
UTC = datetime.timezone.utc


def enabled_kinds(conf):
    """Return the record kinds this site publishes."""
    kinds = ['cloud', 'storage']
    if conf.accounting.ip_records:
        kinds.append('ip')
    if conf.accounting.accelerator_records:
        kinds.append('accelerator')
    return kinds


def expand(record):
    """Yield a record and the records it carries (accelerators)."""
    yield record
    yield from getattr(record, 'accelerators', ())


def project_of(record):
    return getattr(record, 'local_group_id', None)


@dataclasses.dataclass
class RunResult:
    """What a run did, for the console and the ledger's run log."""

    since: dict
    until: datetime.datetime
    records: int = 0
    messages: int = 0
    skipped_projects: set = dataclasses.field(default_factory=set)
    by_kind: dict = dataclasses.field(default_factory=dict)
    windows_moved: bool = False


def build_vo_map(conf, session):
    """Return this run's ``VOMap``: Keystone's properties + the file.

    A one-shot run reads Keystone once rather than start the scheduler's
    refreshing thread.
    """
    path = conf.grid.vo_mapping_file
    file_mapping = vo_map_mod.load_mapping_file(path) if path else {}
    if session is None:
        return vo_map_mod.VOMap(file_mapping)
    try:
        mapping = vo_map_mod.fetch_from_keystone(
            session, conf.grid.vo_project_property, file_mapping)
    except Exception as exc:
        raise exceptions.ExtractorError(
            'cannot list Keystone projects for the project-to-VO map (GET '
            '/v3/projects): %s. The accounting user needs a role that may '
            'list projects.' % exc)
    return vo_map_mod.VOMap(mapping)


def load_session(conf):
    """Return the keystoneauth1 session of ``[accounting_keystone]``."""
    group = accounting_conf.KEYSTONE_GROUP
    session, _auth = keystone_conf.load_session(conf, group)
    if session is None:
        raise exceptions.ConfigurationError(
            '[%s] auth_type is not set: the accounting needs credentials '
            'to read the cloud.' % group)
    return session


def record_context(conf, session, region=None):
    """The :class:`builders.RecordContext` the options and Keystone give.

    :param region: the region whose Keystone names the users; None for
        the session's default.
    """
    users = identity.UserNames(session, conf.accounting.user_name_attribute,
                               region_name=region)
    vos = build_vo_map(conf, session)
    return builders.RecordContext(
        site_name=conf.grid.site_name,
        vo_for_project=vos.vo_for_project,
        user_name_for=users.get,
        cloud_type=conf.accounting.cloud_type,
        cloud_compute_service=conf.accounting.cloud_compute_service,
        cpu_fallback=conf.accounting.cpu_duration_fallback)


class Manager:
    """Run extractors, feed messengers, move windows.

    :param conf: the run's ``ConfigOpts`` (accounting and grid options
        registered).
    :param extractors: ``{name: Extractor subclass}``.
    :param messengers: ``[Messenger instance]``.
    :param state: a ``StateLedger``.
    :param context: the run's ``builders.RecordContext``.
    :param session: keystoneauth1 session handed to extractors.
    :param measured: the :class:`~.usage.measured.LedgerUsage` month-end
        records read usage from; None: records alone tell it.
    """

    def __init__(self, conf, extractors, messengers, state, context,
                 session=None, measured=None):
        self.conf = conf
        self.extractors = extractors
        self.messengers = messengers
        self.state = state
        self.context = context
        self.session = session
        self.month_ends = months.MonthEnds(measured, context.cpu_fallback)
        self.kinds = enabled_kinds(conf)
        self._check_kinds()

    @classmethod
    def from_conf(cls, conf, session=None, messenger_names=None):
        """Build a manager from the options (the console script's way)."""
        grid_conf.register_opts(conf)
        accounting_conf.register_opts(conf)
        session = session or load_session(conf)
        kinds = enabled_kinds(conf)
        names = messenger_names or conf.accounting.messengers
        messengers = [plugin(conf, kinds) for plugin in
                      loading.messenger_classes(names).values()]
        extractors = loading.extractor_classes(conf.accounting.extractors)
        context = record_context(
            conf, session, region=(conf.accounting.regions or [None])[0])
        state = state_mod.StateLedger.from_url(
            conf.accounting.ledger_connection)
        # Exact usage: what the notification listener and the libvirt
        # agents measured wins over the API; an empty ledger changes
        # nothing.
        measured = usage_measured.LedgerUsage(
            usage_ledger.UsageLedger.from_url(
                conf.accounting.ledger_connection))
        context.refine_usages = measured.refine
        context.unseen_usages = measured.unseen
        return cls(conf, extractors, messengers, state, context, session,
                   measured)

    def _check_kinds(self):
        for name, plugin in self.extractors.items():
            if plugin.kinds and not set(plugin.kinds) & set(self.kinds):
                raise exceptions.ConfigurationError(
                    '[accounting] extractors lists %s, whose %s records '
                    'this site does not publish: turn on [accounting] '
                    '%s_records or remove %s.'
                    % (name, '/'.join(plugin.kinds), plugin.kinds[0], name))

    def regions(self):
        """Return the regions a run reads, ``[None]`` for the default."""
        return self.conf.accounting.regions or [None]

    def _window_key(self, name, region):
        return (name, region or '', self.context.site_name)

    def _start(self, key, since, until):
        """Return the window's ``(start, month-end floor)``.

        Month-end records go back to the window's start, or at a first
        run (no window stored) ``first_publication_months`` further.
        """
        if since is not None:
            return since, since
        end = self.state.window_end(key)
        if end is not None:
            return end, end
        days = self.conf.accounting.first_run_lookback_days
        start = until - datetime.timedelta(days=days)
        floor = months.first_publication_floor(
            until, self.conf.accounting.first_publication_months)
        return start, min(start, floor)

    def _extracted(self, plugin, region, start, until, projects, result):
        """Yield an extractor's records of the enabled kinds with a VO."""
        extractor = plugin(self.conf, self.session, region)
        for record in extractor.extract(start, until, self.context,
                                        projects):
            for item in expand(record):
                if item.kind not in self.kinds:
                    continue
                if item.vo is None:
                    self._skip(project_of(record), result)
                    continue
                yield item

    def records(self, since=None, until=None, projects=None, result=None):
        """Yield every record of the run, VO-less projects skipped.

        A VM's month-end records come before its record.

        :param result: a :class:`RunResult` filled as records pass.
        """
        until = records.utc(until) or datetime.datetime.now(UTC)
        result = result if result is not None else RunResult({}, until)
        for region in self.regions():
            for name, plugin in self.extractors.items():
                key = self._window_key(name, region)
                start, floor = self._start(key, records.utc(since), until)
                result.since[key] = start
                items = self._extracted(plugin, region, start, until,
                                        projects, result)
                for item in self.month_ends.with_month_ends(items, floor,
                                                            until):
                    result.records += 1
                    result.by_kind[item.kind] = (
                        result.by_kind.get(item.kind, 0) + 1)
                    yield item

    def _skip(self, project, result):
        if project not in result.skipped_projects:
            result.skipped_projects.add(project)
            LOG.warning(
                'Project %s has no VO (Keystone property %s, or the mapping '
                'file): its records are skipped this run.', project,
                self.conf.grid.vo_project_property)

    def _hand_over(self, messengers, since, until, projects, result):
        try:
            for record in self.records(since, until, projects, result):
                for messenger in messengers:
                    messenger.add(record)
            for messenger in messengers:
                messenger.flush()
        finally:
            for messenger in messengers:
                messenger.close()
        result.messages = sum(getattr(m, 'message_count', 0)
                              for m in messengers)

    def _record_failure(self, until, result, exc):
        """Book a failed regular run, so operators see it failed."""
        keys = [self._window_key(name, region) for region in self.regions()
                for name in self.extractors]
        try:
            self.state.record_failure(
                keys, until, '%s: %s' % (type(exc).__name__, exc),
                since=min(result.since.values(), default=None),
                records=result.records)
        except exceptions.LedgerError as ledger_exc:
            LOG.error('%s', ledger_exc)

    def publish(self, since=None, until=None, projects=None, dry_run=False):
        """Hand every record to every messenger, then move the windows.

        A regular run (no ``since``, ``projects`` or ``dry_run``) that
        fails is booked as failed, with the error, before the exception
        leaves: the usage API and the dashboard show it.

        :param dry_run: extract and render (the ``noop`` messenger), hand
            nothing over, move nothing.
        :returns: a :class:`RunResult`.
        """
        until = records.utc(until) or datetime.datetime.now(UTC)
        result = RunResult({}, until)
        messengers = ([noop.NoopMessenger(self.conf, self.kinds)]
                      if dry_run else self.messengers)
        regular = not (dry_run or since is not None or projects)
        try:
            self._hand_over(messengers, since, until, projects, result)
            if regular:
                # Every messenger accepted everything: only now move
                # forward.
                self.state.advance(
                    result.since.keys(), until,
                    since=min(result.since.values(), default=None),
                    records=result.records, messages=result.messages,
                    skipped_projects=len(result.skipped_projects))
        except Exception as exc:
            if regular:
                self._record_failure(until, result, exc)
            raise
        result.windows_moved = regular
        return result
