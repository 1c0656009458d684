"""Dynamic partitioning of worker nodes between the batch system and the cloud.

A grid site often shares worker nodes between its batch system (HTCondor,
Slurm) and the cloud. Each host is in one of these states:

``batch``
    the batch system runs jobs on it: the cloud may only place
    preemptible instances there (``grid:preemptible=true``), which the
    site may kill when batch needs the cores back;
``draining``
    the batch system is draining it to hand it to the cloud: it takes
    every request, and ``GridDrainWeigher`` says whether to fill it first
    or to spare it;
``cloud``, ``shared`` (or nothing said)
    every request is welcome.

The state comes from the aggregate key ``grid_partition``
(``cloud|batch|shared``), or, for the hosts it lists, from a status file
written by the batch side (``[grid_scheduler] partition_status_file``),
which wins because it is the live view. Its format, JSON or YAML::

    {"hosts": {"wn01.example.org": "batch",
               "wn02.example.org": "draining",
               "wn03.example.org": "cloud"}}

Host names are matched like downtime host names (full or short name,
case-insensitive). :func:`state_from_slurm` and :func:`state_from_htcondor`
map the batch systems' node states to these, for the script that writes
the file (``sinfo -N -h -o '%N %T'``, or
``condor_status -af Machine State Activity``).
"""

from stratuslab_plugins.grid import exceptions
from stratuslab_plugins.grid import keys
from stratuslab_plugins.grid import structured

STATE_BATCH = keys.PARTITION_BATCH
STATE_CLOUD = keys.PARTITION_CLOUD
STATE_SHARED = keys.PARTITION_SHARED
STATE_DRAINING = 'draining'
STATES = (STATE_BATCH, STATE_CLOUD, STATE_SHARED, STATE_DRAINING)

# Slurm node states (sinfo %T, base state without the *~#$@ flags).
# DRAINING still runs jobs; DRAINED is empty and kept from batch: the cloud
# may have it. DOWN/FAIL say nothing about the cloud side: no entry.
_SLURM = {
    'allocated': STATE_BATCH, 'mixed': STATE_BATCH, 'idle': STATE_BATCH,
    'completing': STATE_BATCH, 'reserved': STATE_BATCH,
    'planned': STATE_BATCH,
    'draining': STATE_DRAINING, 'drng': STATE_DRAINING,
    'drained': STATE_CLOUD, 'drain': STATE_CLOUD,
}

# HTCondor startd (State, Activity). condor_drain puts a slot in
# Drained/Retiring while jobs finish, then Drained/Idle. Owner means the
# START expression refuses batch jobs: the node is the cloud's.
_HTCONDOR = {
    'unclaimed': STATE_BATCH, 'claimed': STATE_BATCH,
    'matched': STATE_BATCH, 'preempting': STATE_BATCH,
    'backfill': STATE_BATCH, 'owner': STATE_CLOUD,
}


def state_from_slurm(state):
    """Map a Slurm node state (``sinfo %T``) to a partition state or None."""
    return _SLURM.get(str(state).strip().lower().rstrip('*~#$@!%^-+'))


def state_from_htcondor(state, activity=None):
    """Map an HTCondor startd State/Activity to a partition state or None."""
    state = str(state).strip().lower()
    if state == 'drained':
        if str(activity).strip().lower() == 'retiring':
            return STATE_DRAINING
        return STATE_CLOUD
    return _HTCONDOR.get(state)


def accepts(state, preemptible):
    """Return True when a host in ``state`` may take the request."""
    return state != STATE_BATCH or preemptible


def parse_status_file(path, text):
    """Parse a status file into ``{hostname (lower case): state}``.

    Read as JSON when it is JSON, else as YAML, within the bounds of
    ``structured`` (no YAML aliases, bounded nesting). Host names and
    states must be text.

    :raises SourceFileError: naming the file and the bad entry.
    """
    content = structured.load_json_or_yaml(path, text)
    hosts = content.get('hosts') if isinstance(content, dict) else None
    if not isinstance(hosts, dict):
        raise exceptions.SourceFileError(
            path, 'must hold {"hosts": {HOSTNAME: STATE}}')
    table = {}
    for hostname, state in hosts.items():
        if not isinstance(hostname, str):
            raise exceptions.SourceFileError(
                path, 'names a host %s, not a host name'
                % exceptions.describe(hostname))
        if not isinstance(state, str) or \
                state.strip().lower() not in STATES:
            raise exceptions.SourceFileError(
                path, 'host %s has state %s, not one of %s'
                % (exceptions.describe_name(hostname),
                   exceptions.describe(state), ', '.join(STATES)))
        table[hostname.lower()] = state.strip().lower()
    return table


def status_for(table, names):
    """Return the state the status table gives a host known by ``names``."""
    for name in names:
        state = table.get(name)
        if state is not None:
            return state
    return None
