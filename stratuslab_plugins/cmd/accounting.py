"""``stratuslab-accounting``: the periodic EGI accounting job.

Run from cron or a systemd timer (hourly suits EGI)::

    stratuslab-accounting --config-file /etc/stratuslab/accounting.conf publish
    stratuslab-accounting ... publish --dry-run
    stratuslab-accounting ... publish --since 2026-10-01 --until 2026-11-01
    stratuslab-accounting ... extract --project PROJECT_ID   # JSON lines
    stratuslab-accounting ... status

``publish`` extracts every record and hands it to every messenger, then
moves the extraction windows. ``--since`` or ``--project`` make it a
one-off re-publication that leaves the windows alone; ``--dry-run`` hands
nothing over. ``extract`` prints the records as JSON lines and touches
nothing. ``status`` prints the windows and the last runs.

Exit status: 0 on success, 1 when the run failed (nothing booked: the next
run resends), 2 on a configuration error.
"""

import datetime
import json
import sys

from oslo_config import cfg
from oslo_log import log as logging

from stratuslab_plugins.accounting import exceptions
from stratuslab_plugins.accounting.ledger import state as state_mod
from stratuslab_plugins.accounting import manager as manager_mod
from stratuslab_plugins.accounting import messages
from stratuslab_plugins import cmd
from stratuslab_plugins.conf import accounting as accounting_conf
from stratuslab_plugins.conf import grid as grid_conf

PROG = 'stratuslab-accounting'
LOG = logging.getLogger(__name__)
UTC = datetime.timezone.utc


def parse_time(value, option):
    """Return an aware UTC datetime from an ISO 8601 date or time.

    A value without an offset is UTC.
    """
    if value is None:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value.replace('Z', '+00:00'))
    except ValueError:
        raise exceptions.ConfigurationError(
            '%s %r is not an ISO 8601 date or time (e.g. 2026-11-01 or '
            '2026-11-01T12:00:00Z).' % (option, value))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _window_args(parser, publish=False):
    parser.add_argument('--since', help='ISO 8601 start of the window '
                        '(UTC when no offset); default: where the last '
                        'published run ended')
    parser.add_argument('--until', help='ISO 8601 end of the window; '
                        'default: now')
    parser.add_argument('--project', action='append', dest='projects',
                        metavar='PROJECT_ID',
                        help='only this project (repeatable)')
    if publish:
        parser.add_argument('--dry-run', action='store_true',
                            help='extract and render, hand nothing over, '
                            'move nothing')


def add_parsers(subparsers):
    publish = subparsers.add_parser(
        'publish', help='extract records and hand them to the messengers')
    _window_args(publish, publish=True)
    extract = subparsers.add_parser(
        'extract', help='print the records as JSON lines, send nothing')
    _window_args(extract)
    subparsers.add_parser('status', help='print the windows and last runs')


command_opt = cfg.SubCommandOpt('command', title='Commands',
                                handler=add_parsers, help='what to do')


def load_config(argv):
    return cmd.load_config(argv, PROG, (grid_conf, accounting_conf),
                           [command_opt], doc=__doc__)


def _window(conf):
    return (parse_time(conf.command.since, '--since'),
            parse_time(conf.command.until, '--until'))


def do_publish(conf, out):
    since, until = _window(conf)
    dry_run = conf.command.dry_run
    manager = manager_mod.Manager.from_conf(
        conf, messenger_names=['noop'] if dry_run else None)
    result = manager.publish(since=since, until=until,
                             projects=conf.command.projects,
                             dry_run=dry_run)
    out.write('%s: %d records (%s), %d messages, %d projects without VO '
              'skipped; windows %s\n' % (
                  'dry run' if dry_run else 'published',
                  result.records,
                  ', '.join('%s %d' % kv for kv in
                            sorted(result.by_kind.items())) or 'none',
                  result.messages, len(result.skipped_projects),
                  'moved to %s' % result.until.isoformat()
                  if result.windows_moved else 'unchanged'))


def do_extract(conf, out):
    since, until = _window(conf)
    manager = manager_mod.Manager.from_conf(conf, messenger_names=['noop'])
    for record in manager.records(since, until, conf.command.projects):
        out.write(messages.render_document(record) + '\n')


def do_status(conf, out):
    ledger = state_mod.StateLedger.from_url(
        conf.accounting.ledger_connection)
    windows, runs = list(ledger.windows()), list(ledger.last_runs())
    if not windows and not runs:
        out.write('nothing recorded yet in %s: no extraction window and '
                  'no run. "%s publish" records the first.\n'
                  % (conf.accounting.ledger_connection, PROG))
        return
    for extractor, region, site, end in windows:
        out.write('window %s region=%s site=%s ends %s\n'
                  % (extractor, region or '-', site, end.isoformat()))
    for run in runs:
        out.write(json.dumps({k: v.isoformat() if hasattr(v, 'isoformat')
                              else v for k, v in run.items()},
                             sort_keys=True) + '\n')


COMMANDS = {'publish': do_publish, 'extract': do_extract,
            'status': do_status}


def main(argv=None, out=None):
    argv = sys.argv[1:] if argv is None else argv
    out = out or sys.stdout
    try:
        conf = load_config(argv)
    except cfg.Error as exc:
        sys.stderr.write('%s: %s\n' % (PROG, exc))
        return 2
    try:
        COMMANDS[conf.command.name](conf, out)
    except exceptions.ConfigurationError as exc:
        LOG.error('%s', exc)
        return 2
    except exceptions.AccountingError as exc:
        LOG.error('%s The extraction window did not move: the next run '
                  'resends.', exc)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
