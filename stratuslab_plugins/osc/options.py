"""Global ``--os-*`` options of our OSC plugins, each with its variable.

OSC's convention: every global option ``--os-foo-bar`` can also come from
the environment variable ``OS_FOO_BAR``, and its help names it. One
function writes that convention, for every plugin module of the package.
"""

from osc_lib import utils


def env_name(option):
    """Return the variable of an option: ``--os-foo-bar`` -> ``OS_FOO_BAR``."""
    return option.lstrip('-').replace('-', '_').upper()


def add_env_option(parser, option, help, flag=False, **kwargs):
    """Add ``option`` to OSC's global parser, defaulting to its variable.

    :param help: what the option means; ``(Env: VAR)`` is appended.
    :param flag: a switch (``store_true``), set when the variable is
        non-empty.
    """
    variable = env_name(option)
    value = utils.env(variable)
    if flag:
        kwargs.update(action='store_true', default=bool(value))
    else:
        kwargs.setdefault('default', value)
    parser.add_argument(option, help='%s (Env: %s)' % (help, variable),
                        **kwargs)
