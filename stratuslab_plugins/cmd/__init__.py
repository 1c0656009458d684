"""Console-script entry points: daemons, periodic jobs, the sandbox.

Every command reads ``/etc/stratuslab/*.conf``-style files with
oslo.config and logs with oslo.log; :func:`load_config` is how each one
starts, so they parse and log alike.
"""

from oslo_config import cfg
from oslo_log import log as logging


def load_config(argv, prog, areas, cli_opts=()):
    """Return the command's parsed configuration, with logging set up.

    :param argv: the command line, without the program name.
    :param prog: the command's name, for ``--help`` and the log.
    :param areas: the ``stratuslab_plugins.conf`` area modules whose
        options the command reads.
    :param cli_opts: the command's own command-line options.
    """
    conf = cfg.ConfigOpts()
    logging.register_options(conf)
    for area in areas:
        area.register_opts(conf)
    conf.register_cli_opts(cli_opts)
    conf(argv, project='stratuslab', prog=prog)
    logging.setup(conf, prog)
    return conf
