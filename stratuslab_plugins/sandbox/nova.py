"""A real Nova, in-process, for the sandbox and the functional tests.

This subclasses Nova's own functional harness
(``nova.tests.functional.integrated_helpers.ProviderUsageBaseTestCase``):
the real compute API served through wsgi-intercept, the conductor, the
scheduler and fake compute services (``fake.SmallFakeDriver``), with an
in-process Placement, all on sqlite. Servers booted through
``self.api`` go through the real scheduler, so a filter or weigher named in
``nova.conf`` changes a real placement.

``nova.tests`` is not a public interface of Nova; the version is pinned in
``upper-constraints.txt`` and the few names we use are reached only here.
Importing this module needs Nova and Placement installed (the test
dependencies) and Nova's monkey patching applied first
(``nova.monkey_patch.patch()``), as ``tests/functional/__init__.py`` and
the sandbox command do.
"""

import functools
import importlib.metadata
import os
import uuid

import fixtures
import nova.conf
from nova.tests.fixtures import notifications as nova_notifications
from nova.tests.functional import integrated_helpers
from oslo_utils import timeutils

CONF = nova.conf.CONF


def _stamping(original):
    # The fake notifier keeps what Nova hands to oslo.messaging; the real
    # notifier adds a message id and a timestamp around it, which the
    # usage listener relies on. Add them the same way, at emission time.
    def _notify(self, priority, ctxt, event_type, payload):
        original(self, priority, ctxt, event_type, payload)
        self.versioned_notifications[-1].setdefault(
            'metadata', {'message_id': str(uuid.uuid4()),
                         'timestamp': str(timeutils.utcnow())})
    return _notify


@functools.lru_cache(maxsize=None)
def nova_api_paste_config():
    """Return the path of the ``api-paste.ini`` the nova wheel installed.

    The wheel puts it under the environment's prefix
    (``<prefix>/etc/nova/api-paste.ini``), not beside the package, so it is
    found through the distribution's file list rather than ``__file__``.
    """
    dist = importlib.metadata.distribution('nova')
    for entry in dist.files or ():
        if str(entry).replace(os.sep, '/').endswith('etc/nova/api-paste.ini'):
            path = os.path.abspath(str(dist.locate_file(entry)))
            if os.path.exists(path):
                return path
    raise RuntimeError('the nova distribution ships no etc/nova/api-paste.ini;'
                       ' reinstall nova from its wheel')


class NovaTestCase(integrated_helpers.ProviderUsageBaseTestCase):
    """Nova's API, conductor and scheduler, and fake computes on demand.

    Subclasses set :attr:`enabled_filters`, :attr:`weight_classes` or
    override :meth:`configure_scheduler` before the scheduler starts, then
    call :meth:`start_computes` with the host names they need.
    """

    compute_driver = 'fake.SmallFakeDriver'

    #: Extra import paths for ``[filter_scheduler] available_filters``,
    #: added beside Nova's own ``nova.scheduler.filters.all_filters``.
    available_filters = ()
    #: ``[filter_scheduler] enabled_filters``; None keeps Nova's default.
    enabled_filters = None
    #: ``[filter_scheduler] weight_classes``; None keeps Nova's default.
    weight_classes = None

    #: Give each versioned notification the envelope (message id and
    #: timestamp) oslo.messaging's notifier adds on the wire, so that
    #: ``self.notifier.versioned_notifications`` can be fed to the usage
    #: listener as it would receive them.
    stamp_notifications = False

    def setUp(self):
        self.flags(api_paste_config=nova_api_paste_config(), group='wsgi')
        self.configure_scheduler()
        if self.stamp_notifications:
            notifier = nova_notifications.FakeVersionedNotifier
            self.useFixture(fixtures.MonkeyPatch(
                'nova.tests.fixtures.notifications.'
                'FakeVersionedNotifier._notify',
                _stamping(notifier._notify)))
        super().setUp()
        self.computes = {}

    def configure_scheduler(self):
        """Set the scheduler's options; runs before the scheduler starts."""
        filters = ['nova.scheduler.filters.all_filters']
        filters.extend(self.available_filters)
        self.flags(available_filters=filters, group='filter_scheduler')
        if self.enabled_filters is not None:
            self.flags(enabled_filters=list(self.enabled_filters),
                       group='filter_scheduler')
        if self.weight_classes is not None:
            self.flags(weight_classes=list(self.weight_classes),
                       group='filter_scheduler')

    def start_computes(self, *hostnames):
        """Start one fake compute service per host name and return them."""
        for hostname in hostnames:
            self.computes[hostname] = self._start_compute(hostname)
        return [self.computes[name] for name in hostnames]

    def host_of(self, server):
        """Return the compute host a server landed on."""
        return server['OS-EXT-SRV-ATTR:host']

    def api_for_project(self, project_id, user_id='grid-user'):
        """Return a member's API client for another project.

        Nova's harness gives every client the same project; a grid site has
        one project (at least) per VO.
        """
        from nova.tests.functional.api import client
        api = client.TestOpenStackClient(
            user_id, self.api_fixture.base_url, project_id=project_id,
            roles=['reader', 'member'])
        api.microversion = self.api.microversion
        return api

    def rename_instance(self, server_id, name):
        """Set a server's name below the API, through Nova's object layer.

        Nova's API refuses unprintable names; instances created before that
        validation, or through other paths, still carry them. This is how
        the sandbox and the accounting tests get one.
        """
        from nova import context as nova_context
        from nova import objects
        ctxt = nova_context.get_admin_context()
        instance = objects.Instance.get_by_uuid(ctxt, server_id)
        instance.display_name = name
        instance.save()
