"""GOCDB ``get_downtime`` answers, in GOCDB's own spelling, for the tests.

What ``https://goc.egi.eu/gocdbpi/public/?method=get_downtime`` returns: a
``<results>`` element holding one ``<DOWNTIME>`` per affected endpoint,
with its ``ID``, ``PRIMARY_KEY`` and ``CLASSIFICATION`` attributes and the
children GOCDB writes, in its order (``FORMATED_`` is GOCDB's spelling).
Dates are POSIX seconds. Values are written as given, escaped for XML, so
tests can put hostile text where GOCDB puts a date. Shared by the unit
and the functional tests; it sits outside both packages (see
``tests/pki.py``).
"""

import datetime
from xml.sax import saxutils

_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<results>\n'
_TAIL = '</results>\n'

_DOWNTIME = """\
  <DOWNTIME ID="%(id)s" PRIMARY_KEY="%(id)sG0" CLASSIFICATION="SCHEDULED">
    <PRIMARY_KEY>%(id)sG0</PRIMARY_KEY>
    <HOSTNAME>%(hostname)s</HOSTNAME>
    <SERVICE_TYPE>%(service_type)s</SERVICE_TYPE>
    <ENDPOINT>%(hostname)s%(service_type)s</ENDPOINT>
    <HOSTED_BY>%(site)s</HOSTED_BY>
    <GOCDB_PORTAL_URL>https://goc.egi.eu/portal/index.php?\
Page_Type=Downtime&amp;id=%(id)s</GOCDB_PORTAL_URL>
    <AFFECTED_ENDPOINTS/>
    <SEVERITY>%(severity)s</SEVERITY>
    <DESCRIPTION>%(description)s</DESCRIPTION>
    <INSERT_DATE>1656137042</INSERT_DATE>
    <START_DATE>%(start)s</START_DATE>
    <END_DATE>%(end)s</END_DATE>
    <FORMATED_START_DATE>%(formatted_start)s</FORMATED_START_DATE>
    <FORMATED_END_DATE>%(formatted_end)s</FORMATED_END_DATE>
  </DOWNTIME>
"""


def _formatted(value):
    # GOCDB's FORMATED_ dates: 'YYYY-MM-DD HH:MM', UTC.
    try:
        moment = datetime.datetime.fromtimestamp(int(value),
                                                 datetime.timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return value
    return moment.strftime('%Y-%m-%d %H:%M')


def downtime(hostname, start, end, severity='OUTAGE', ident=32578,
             service_type='org.openstack.nova', site='EXAMPLE-SITE',
             description='Hypervisor upgrade'):
    """Return one ``<DOWNTIME>`` element (text) of a get_downtime answer."""
    fields = {'id': ident, 'hostname': hostname, 'start': start, 'end': end,
              'severity': severity, 'service_type': service_type,
              'site': site, 'description': description,
              'formatted_start': _formatted(start),
              'formatted_end': _formatted(end)}
    return _DOWNTIME % {key: saxutils.escape(str(value))
                        for key, value in fields.items()}


def get_downtime(*downtimes):
    """Return a get_downtime answer holding ``downtimes`` (elements)."""
    return _HEAD + ''.join(downtimes) + _TAIL
