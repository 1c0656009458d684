"""A usage API answer, as ``stratuslab-accounting-api`` gives it.

At noon on 3 November: the 3rd is still running (``partial``); lhcb's
VMs had no libvirt agent (CPU time unknown, ``null``).
"""


def point(day, wall, cpu, known=1, unknown=0, partial=False):
    return {'start': '2026-11-%02dT00:00:00+00:00' % day,
            'end': ('2026-11-03T12:00:00+00:00' if partial
                    else '2026-11-%02dT00:00:00+00:00' % (day + 1)),
            'partial': partial, 'wall_hours': wall, 'cpu_hours': cpu,
            'cpu_known': known, 'cpu_unknown': unknown}


USAGE = {
    'since': '2026-11-01T00:00:00+00:00',
    'until': '2026-11-03T12:00:00+00:00',
    'requested_until': '2026-11-04T00:00:00+00:00',
    'step': 'day', 'by': 'vo', 'vo_map_size': 3,
    'recorded_since': '2026-10-14T08:00:00+00:00',
    'series': [
        {'key': 'atlas', 'points': [point(1, 12, 10), point(2, 24, 20),
                                    point(3, 6, 5, partial=True)]},
        {'key': 'cms', 'points': [point(1, 0, 0, known=0), point(2, 30, 1.5),
                                  point(3, 48, 40, unknown=2,
                                        partial=True)]},
        {'key': 'biomed<script>', 'points': [
            point(1, 1, 0), point(2, 1, 0), point(3, 1, 0, partial=True)]},
        {'key': 'lhcb', 'points': [
            point(1, 5, None, known=0, unknown=1),
            point(2, 5, None, known=0, unknown=1),
            point(3, 2.5, None, known=0, unknown=1, partial=True)]},
    ],
}

RUNS = [{'id': 1, 'finished_at': '2026-11-03T00:05:00+00:00',
         'window_start': '2026-11-02T00:00:00+00:00',
         'window_end': '2026-11-03T00:00:00+00:00',
         'extractors': 'nova', 'records': 42, 'messages': 1,
         'skipped_projects': 0, 'outcome': 'published', 'error': None}]

QUEUE = {
    'path': '/var/spool/apel/outgoing/openstack', 'exists': True,
    'messages': 7, 'oldest': '2026-11-03T01:00:00+00:00',
    'reported_until': '2026-11-03T00:00:00+00:00',
    'last_run': RUNS[0], 'runs': RUNS,
}

#: The next run failed: nothing more was reported.
FAILED_RUN = {'id': 2, 'finished_at': '2026-11-04T00:05:00+00:00',
              'window_start': '2026-11-03T00:00:00+00:00',
              'window_end': '2026-11-04T00:00:00+00:00',
              'extractors': 'nova', 'records': 0, 'messages': 0,
              'skipped_projects': 0, 'outcome': 'failed',
              'error': 'PermissionDenied: Nova refused GET /os-aggregates'}
QUEUE_AFTER_FAILURE = dict(QUEUE, last_run=FAILED_RUN,
                           runs=[FAILED_RUN] + RUNS)
