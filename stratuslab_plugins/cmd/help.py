"""``--help`` for the console scripts: what the program does first.

oslo.config's own help lists every command-line option alphabetically,
oslo.log's dozen logging flags among them, after a one-line usage: a site
admin reading ``stratuslab-accounting --help`` learnt neither what the
program does nor where its configuration lives. :func:`print_help` shows,
in this order:

1. the command module's docstring (what it does, with its examples as
   written);
2. the configuration files it reads and the sections it reads there;
3. its own options, as oslo.config formats them;
4. one line naming the logging options oslo.log adds.

Help for a sub-command (``stratuslab-accounting publish --help``) is left
to oslo.config, which shows that sub-command's options only.
"""

import inspect
import sys
import textwrap

from oslo_config import cfg
# oslo.log publishes these lists for the config generator (its
# oslo.config.opts entry point); no public call lists its CLI options.
from oslo_log import _options as log_options


def wants_help(argv, subcommands=()):
    """Tell whether ``argv`` asks for the program's own help.

    :param subcommands: the program's sub-command names: ``--help`` after
        one of them asks for that sub-command's help instead.
    """
    for arg in argv:
        if arg in subcommands:
            return False
        if arg in ('-h', '--help'):
            return True
    return False


def sections(areas):
    """Return the configuration sections the option ``areas`` define."""
    found = []
    for area in areas:
        for group, _opts in area.list_opts():
            name = getattr(group, 'name', group) or 'DEFAULT'
            if name not in found:
                found.append(name)
    return found


def configuration_text(project, prog, areas):
    """Say which files the program reads, and which sections of them."""
    return (
        'Configuration: the files given with --config-file (repeatable) '
        'or --config-dir; without them, %(project)s.conf and %(prog)s.conf '
        'in /etc/%(project)s/ (also looked for in ~/.%(project)s/, ~/ and '
        '/etc/). Sections read: %(sections)s.' % {
            'project': project, 'prog': prog,
            'sections': ', '.join('[%s]' % name
                                  for name in sections(areas))})


def logging_text():
    """Name the logging options oslo.log adds to every program."""
    flags = []
    for opt in log_options.common_cli_opts + log_options.logging_cli_opts:
        flag = '--' + opt.name.replace('_', '-')
        if opt.metavar:
            flag += ' ' + opt.metavar
        flags.append(flag)
    return ('Logging options (oslo.log; also settable in [DEFAULT]): %s.'
            % ', '.join(flags))


def _wrap(text, width=79):
    # Flags stay whole: never "--log-config-" / "append".
    return textwrap.fill(text, width=width, break_on_hyphens=False)


def print_help(prog, project, doc, areas, cli_opts, out=None):
    """Print the program's help (see the module docstring); exit 0."""
    out = out or sys.stdout
    if doc:
        out.write(inspect.cleandoc(doc) + '\n\n')
    out.write(_wrap(configuration_text(project, prog, areas)) + '\n\n')
    out.flush()
    conf = cfg.ConfigOpts()
    conf.register_cli_opts(cli_opts)
    try:
        # oslo.config prints the usage and the program's own options,
        # then exits.
        conf(['--help'], project=project, prog=prog,
             default_config_files=[])
    except SystemExit:
        pass
    sys.stdout.flush()
    out.write('\n' + _wrap(logging_text()) + '\n')
    out.flush()
    raise SystemExit(0)
