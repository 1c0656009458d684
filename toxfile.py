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
import sys

from tox.plugin import impl
from tox.tox_env.errors import Fail

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      'tools', 'install-system-packages.sh')

#: Profiles already checked in this tox run.
_checked = set()

#: Environments set up in this tox run (nothing to build for them again).
_ready = set()


@impl
def tox_add_env_config(env_conf, state):
    env_conf.add_config(
        keys=['system_packages'], of_type=str, default='test',
        desc='bindep.txt profile whose system packages this environment '
             'needs before anything is installed in it (empty: none)')
    env_conf.add_config(
        keys=['runs_in'], of_type=str, default='',
        desc='the environment whose virtualenv runs this one\'s commands: '
             'built or updated first (empty: its own)')


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


def _ensure_runs_in(tox_env):
    """Build or update the environment ``tox_env`` runs its commands in.

    tox 4 rebuilds an environment whose directory another environment
    used, so environments with py3's dependencies cannot share its
    directory; they run py3's programs instead, after ``tox -e py3
    --notest`` (unless py3 was set up earlier in this tox run).
    """
    try:
        name = tox_env.conf['runs_in']
    except KeyError:
        return
    if not name or name in _ready:
        return
    root = str(tox_env.core['tox_root'])
    result = subprocess.run(
        [sys.executable, '-m', 'tox', '-c', root, '-e', name, '--notest'],
        check=False)
    if result.returncode != 0:
        raise Fail('could not set up the %s environment this one runs in'
                   % name)
    _ready.add(name)


@impl
def tox_before_run_commands(tox_env):
    _ensure_system_packages(tox_env)
    _ensure_runs_in(tox_env)
    _ready.add(tox_env.name)
