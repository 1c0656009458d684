"""tox's inline plugin: system packages before anything is built.

The suite compiles ``libvirt-python`` against Debian's ``libvirt-dev``
and starts Debian's ``docker-registry``, ``rabbitmq-server``... A
``commands_pre`` line runs too late for the first of these: tox installs
the package with its extras before ``commands_pre``, so a fresh machine
failed with "Package libvirt was not found in the pkg-config search path".
tox calls ``tox_on_install`` before every install step, so the packages
``bindep.txt`` lists for the environment's profile are put in place here,
once per profile and tox run, before pip builds anything; and again,
cheaply, before the commands of an environment that installed nothing
(a reused environment on a machine whose packages were removed).

Each environment names its bindep profile with ``system_packages``
(default ``test``; empty for none). Run as root, missing packages are
installed with ``apt-get``; run as another user,
``tools/install-system-packages.sh`` prints the one ``apt-get install``
line to run first and tox stops there.
"""

import os
import subprocess

from tox.plugin import impl
from tox.tox_env.errors import Fail

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      'tools', 'install-system-packages.sh')

#: Profiles already checked in this tox run.
_checked = set()


@impl
def tox_add_env_config(env_conf, state):
    env_conf.add_config(
        keys=['system_packages'], of_type=str, default='test',
        desc='bindep.txt profile whose system packages this environment '
             'needs before anything is installed in it (empty: none)')


def _ensure_system_packages(tox_env):
    try:
        profile = tox_env.conf['system_packages']
    except KeyError:
        # A packaging environment (.pkg): the run environment that uses
        # it has already been through here.
        return
    if not profile or profile in _checked:
        return
    result = subprocess.run(['bash', SCRIPT, profile], check=False)
    if result.returncode != 0:
        raise Fail('the system packages of bindep.txt profile %r are '
                   'missing (see the apt-get line above)' % profile)
    _checked.add(profile)


@impl
def tox_on_install(tox_env, arguments, section, of_type):
    _ensure_system_packages(tox_env)


@impl
def tox_before_run_commands(tox_env):
    _ensure_system_packages(tox_env)
