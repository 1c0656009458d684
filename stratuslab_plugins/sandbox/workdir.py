"""The sandbox's work directory: what a run leaves there, and a clean start.

A run leaves the outgoing APEL queue (``outgoing/``), ``report.json`` and
the signed image list, and, with ``--keep``, its services' data (registry
storage, Glance's database and files, the CA, the ledger). A new run in
the same directory starts from none of these: the appliance would already
be in the registry, the queue would mix two runs' messages, and a report
left by an earlier run would look like this one's if this one failed.
"""

import glob
import os
import shutil

#: What the services leave in the work directory; removed unless --keep.
SERVICE_DATA = ('registry', 'glance', 'ca', 'ledger.sqlite*')

#: What a run produces for the user; kept after the run, replaced by the
#: next one.
RUN_OUTPUT = ('outgoing', 'report.json', 'report.json.tmp',
              'atlas.imagelist')


def _remove(workdir, patterns):
    removed = []
    for pattern in patterns:
        for path in sorted(glob.glob(os.path.join(workdir, pattern))):
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)
            removed.append(os.path.basename(path))
    return removed


def remove_service_data(workdir):
    """Remove the services' data from ``workdir``; return what was removed."""
    return _remove(workdir, SERVICE_DATA)


def remove_partial_report(workdir):
    """Remove a report an interrupted run was writing (``report.json.tmp``)."""
    return _remove(workdir, ('report.json.tmp',))


def report_written(workdir):
    """Tell whether this run's report is in place (written whole)."""
    return os.path.exists(os.path.join(workdir, 'report.json'))


def start_clean(workdir):
    """Remove everything an earlier run left; return what was removed.

    The outgoing queue starts empty: the sandbox's queue holds only the
    sandbox's own (made-up) usage, so nothing of value is lost.
    """
    return _remove(workdir, SERVICE_DATA + RUN_OUTPUT)
