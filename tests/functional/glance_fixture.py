"""A real glance-api process for functional tests.

:class:`GlanceAPIFixture` wraps :class:`stratuslab_plugins.sandbox.glance_api.
GlanceAPI`: it configures Glance (sqlite, multi-store, no Keystone), runs
``glance-manage db_sync``, serves ``glance.wsgi.api:application`` with
waitress on 127.0.0.1 and stops it, removing its files, at cleanup. A test
that fails gets glance-api's log as a detail::

    glance = self.useFixture(GlanceAPIFixture(
        enabled_backends={'repo': 'appliance', 'local': 'file'},
        backend_options={'repo': {'appliance_registry_url': registry.url}}))
    conn = glance.api.connection()
"""

import fixtures
from testtools import content

from stratuslab_plugins.sandbox import glance_api

#: Bytes of glance-api's log kept with each test's results.
LOG_DETAIL_SIZE = 16000


class GlanceAPIFixture(fixtures.Fixture):
    """Run one glance-api for the duration of a test.

    Keyword arguments are those of
    :class:`~stratuslab_plugins.sandbox.glance_api.GlanceAPI`, except
    ``work_dir``, which is a fresh temporary directory.
    """

    def __init__(self, **kwargs):
        super().__init__()
        self._kwargs = kwargs
        self.api = None

    def _setUp(self):
        work_dir = self.useFixture(fixtures.TempDir()).path
        self.api = glance_api.GlanceAPI(work_dir=work_dir, **self._kwargs)
        # Cleanups run last-in first-out: the process stops, then its log
        # becomes a detail, then the temporary directory goes.
        self.addCleanup(self._attach_log)
        self.addCleanup(self.api.stop)
        try:
            self.api.start()
        except glance_api.GlanceAPIError as exc:
            raise fixtures.SetupError(str(exc))

    def _attach_log(self):
        text = self.api.log_tail(LOG_DETAIL_SIZE)
        self.addDetail('glance-api.log', content.text_content(text))

    @property
    def url(self):
        return self.api.url
