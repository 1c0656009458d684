"""Console-script entry points: daemons, periodic jobs, the sandbox.

Every command reads ``/etc/stratuslab/*.conf``-style files with
oslo.config and logs with oslo.log; :func:`load_config` is how each one
starts, so they parse and log alike.
"""

import warnings

# eventlet warns at import that it is deprecated; Nova's harness and
# oslo.service import it, none of our programs runs on it, and nothing
# a site admin can do about it. Its text is matched: the warning is
# attributed to whichever module imported eventlet.
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')

#: The oslo.config project: /etc/stratuslab/stratuslab.conf.
PROJECT = 'stratuslab'

#: Library loggers whose INFO lines are not news to a site admin: alembic
#: reports every migration check at every start.
QUIET_LOGGERS = ('alembic.runtime.migration=WARN',)


def load_config(argv, prog, areas, cli_opts=(), doc=None):
    """Return the command's parsed configuration, with logging set up.

    :param argv: the command line, without the program name.
    :param prog: the command's name, for ``--help`` and the log.
    :param areas: the ``stratuslab_plugins.conf`` area modules whose
        options the command reads.
    :param cli_opts: the command's own command-line options.
    :param doc: what the program does (its module's docstring), shown
        first by ``--help``.
    """
    # Imported here, not at the top: the sandbox imports this package
    # before Nova's monkey patching, which oslo.log's imports must follow.
    from oslo_config import cfg
    from oslo_log import log as logging

    from stratuslab_plugins.cmd import help as cmd_help

    subcommands = [name for opt in cli_opts
                   if isinstance(opt, cfg.SubCommandOpt)
                   for name in _subcommand_names(opt)]
    if cmd_help.wants_help(argv, subcommands):
        cmd_help.print_help(prog, PROJECT, doc, areas, cli_opts)
    conf = cfg.ConfigOpts()
    conf.register_cli_opts(cli_opts)
    logging.register_options(conf)
    logging.set_defaults(default_log_levels=(
        logging.get_default_log_levels() + list(QUIET_LOGGERS)))
    for area in areas:
        area.register_opts(conf)
    conf(argv, project=PROJECT, prog=prog)
    logging.setup(conf, prog)
    return conf


def _subcommand_names(opt):
    """Return the names a ``SubCommandOpt``'s handler adds."""
    import argparse

    parser = argparse.ArgumentParser(add_help=False)
    subparsers = parser.add_subparsers()
    opt.handler(subparsers)
    return list(subparsers.choices)
