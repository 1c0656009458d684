"""The usage API for a WSGI server (uWSGI, gunicorn, mod_wsgi).

::

    gunicorn -b 127.0.0.1:8779 \\
        'stratuslab_plugins.accounting.api.wsgi:init_application()'

reads ``/etc/stratuslab/stratuslab.conf`` (or the files named in
``STRATUSLAB_API_CONFIG_FILES``, comma-separated). The console script
``stratuslab-accounting-api`` serves the same application itself.
"""

import os

from oslo_config import cfg
from oslo_log import log as logging

from stratuslab_plugins.accounting.api import app as app_mod
from stratuslab_plugins.conf import grid as grid_conf
from stratuslab_plugins.grid import vo_map as vo_map_mod

PROG = 'stratuslab-accounting-api'


def load_config(argv, default_config_files=None):
    """Return a ConfigOpts with every option the API reads, parsed."""
    conf = cfg.ConfigOpts()
    logging.register_options(conf)
    grid_conf.register_opts(conf)
    app_mod.register_opts(conf)
    conf(argv, project='stratuslab', prog=PROG,
         default_config_files=default_config_files)
    logging.setup(conf, PROG)
    return conf


def application_for(conf):
    """Return the authenticated application for a parsed ``conf``."""
    return app_mod.build_app(conf, vo_map_mod.get_vo_map(conf))


def init_application():
    files = os.environ.get('STRATUSLAB_API_CONFIG_FILES')
    conf = load_config([], files.split(',') if files else None)
    return application_for(conf)
