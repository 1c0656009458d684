"""One sync run: every subscribed VO, read, planned, applied, reported.

Example::

    runner = Synchronizer(GlanceCatalog(conn), client_for, vo_map=vos)
    for report in runner.run(subscriptions.select(subs, ['vo.example'])):
        print(report.summary())

Per VO: the sources are read and verified first; if one fails, the VO's
images are not touched and the report says why. Otherwise the plan's
actions run in two rounds on one pool of ``workers`` threads, because
each Glance call is a round trip and a list of hundreds of appliances
would otherwise wait on latency:

1. the image calls, grouped by image: one image's calls run in order
   (create, then its data; or update, deactivate...), images side by
   side;
2. the membership calls, grouped by image and project: each project's
   add and accept run in order, every pair side by side, so an image
   shared with several projects does not wait on each in turn. They come
   second because Glance shares only images already ``shared``, which
   round 1 may have just made them.

The pool bounds how many calls Glance has in flight (one per thread), so
a site's glance-api workers share them without one sync flooding them.
A failed call stops its group (and an image's failed round 1 its round
2), is reported, and leaves the rest of the run going; the next run
picks up where the catalogue was left (see :mod:`.plan`).

Each report gives the CPU time the sync spent on its VO (reading and
verifying the sources, planning, making the calls), per appliance
offered, so a site sees what the sync costs beside what Glance does.
"""

import concurrent.futures
import dataclasses
import time

from oslo_log import log as logging

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance.sync import catalog as catalog_mod
from stratuslab_plugins.appliance.sync import plan as plan_mod
from stratuslab_plugins.appliance.sync import sources as sources_mod

LOG = logging.getLogger(__name__)
DEFAULT_WORKERS = 4
#: Actions run in round 2, per image and project.
MEMBER_KINDS = ('add_member', 'accept_member', 'remove_member')


@dataclasses.dataclass
class VOReport:
    """What a run did (or would do) for one VO."""

    vo: str
    error: str = None
    offers: int = 0
    managed: int = 0
    planned: list = dataclasses.field(default_factory=list)
    failed: list = dataclasses.field(default_factory=list)
    rejected: dict = dataclasses.field(default_factory=dict)
    skipped: dict = dataclasses.field(default_factory=dict)
    dry_run: bool = False
    #: CPU seconds this process spent on the VO (all its threads).
    cpu_seconds: float = 0.0
    #: Wall seconds the VO took.
    seconds: float = 0.0

    @property
    def ok(self):
        return self.error is None and not self.failed

    @property
    def fetched(self):
        """Bytes fetched to adopt plain files (see ``sources.prepare``)."""
        return sum(getattr(action.args.get('offer'), 'fetched', 0)
                   for action in self.planned if action.kind == 'register')

    def summary(self):
        if self.error:
            return 'VO %s: unchanged, %s' % (self.vo, self.error)
        verb = 'would run' if self.dry_run else 'ran'
        fetched = (', %d bytes fetched' % self.fetched if self.fetched
                   else '')
        return ('VO %s: %d appliances offered, %d images managed, %s %d '
                'actions, %d failed, %d rejected, %d skipped%s; %.1f s, '
                '%.1f ms of the sync\'s CPU per appliance'
                % (self.vo, self.offers, self.managed, verb,
                   len(self.planned), len(self.failed), len(self.rejected),
                   len(self.skipped), fetched, self.seconds,
                   1000 * self.cpu_seconds / max(1, self.offers)))


class Synchronizer:
    """Runs subscriptions against a catalogue.

    :param catalog: the :class:`catalog.ImageCatalog` to write to.
    :param client_for: returns the registry client of a registry URL.
    :param vo_map: gives the projects of VOs whose subscription lists
        none (a :class:`grid.vo_map.VOMap`).
    :param dry_run: plan and report, write nothing.
    :param workers: images handled side by side.
    :param progress: shows the progress of files adopted for
        registration (see ``sources.prepare``); None shows nothing.
    """

    def __init__(self, catalog, client_for, vo_map=None, dry_run=False,
                 workers=DEFAULT_WORKERS, progress=None):
        self.catalog = catalog
        self.client_for = client_for
        self.vo_map = vo_map
        self.dry_run = dry_run
        self.workers = max(1, workers)
        self.progress = progress

    def run(self, subscriptions, at=None):
        """Sync each subscription; return one :class:`VOReport` each."""
        listed = {}
        reports = []
        for subscription in subscriptions:
            report = VOReport(subscription.vo, dry_run=self.dry_run)
            reports.append(report)
            cpu, started = time.process_time(), time.monotonic()
            try:
                self._run_one(subscription, report, listed, at)
            finally:
                report.cpu_seconds = time.process_time() - cpu
                report.seconds = time.monotonic() - started
        return reports

    def _run_one(self, subscription, report, listed, at):
        try:
            found = sources_mod.read(subscription, self.client_for, at)
        except sources_mod.SourceError as error:
            report.error = str(error)
            LOG.error('%s', error)
            return
        report.offers = len(found.offers)
        report.rejected, report.skipped = found.rejected, found.skipped
        try:
            if subscription.tag not in listed:
                listed[subscription.tag] = self.catalog.managed_images(
                    subscription.tag)
        except catalog_mod.CatalogError as error:
            report.error = 'cannot list its images: %s' % error
            LOG.error('VO %s: %s', subscription.vo, report.error)
            return
        managed = listed[subscription.tag]
        report.managed = sum(1 for image in managed
                             if image.get(plan_mod.VO) == subscription.vo)
        try:
            actions = plan_mod.plan(
                subscription, found, managed,
                subscription.target_projects(self.vo_map), at=at)
        except exceptions.ApplianceError as error:
            # An image property the sync reads was edited by hand.
            report.error = 'cannot plan: %s' % error
            LOG.error('VO %s: %s', subscription.vo, report.error)
            return
        report.planned = actions
        if not self.dry_run:
            report.failed = self._apply(subscription, actions)

    # -- applying ---------------------------------------------------------

    def _apply(self, subscription, actions):
        """Run ``actions`` in the two rounds of the module docstring.

        Return ``[(action, error)]``, one per failed action.
        """
        images, shares = {}, {}
        for index, action in enumerate(actions):
            if action.kind in MEMBER_KINDS:
                key = (action.image_id, action.args['project'])
                shares.setdefault(key, []).append(
                    (action, action.kind, action.image_id,
                     action.args['project']))
            else:
                images.setdefault(action.image_id or index, []).append(
                    action)
        with concurrent.futures.ThreadPoolExecutor(
                max_workers=self.workers,
                thread_name_prefix='appliance-sync') as pool:
            failed, stopped = [], set()
            for failures, registered in pool.map(
                    lambda group: self._apply_group(subscription, group),
                    images.values()):
                failed.extend(failures)
                stopped.update(action.image_id for action, _ in failures)
                for action, image_id in registered:
                    for project in action.args['projects']:
                        shares[(image_id, project)] = [
                            (action, kind, image_id, project)
                            for kind in ('add_member', 'accept_member')]
            steps = [group for (image_id, _), group in shares.items()
                     if image_id not in stopped]
            reported = {id(action) for action, _ in failed}
            for failure in pool.map(
                    lambda group: self._share(subscription, group), steps):
                if failure and id(failure[0]) not in reported:
                    reported.add(id(failure[0]))
                    failed.append(failure)
        return failed

    def _apply_group(self, subscription, group):
        """Run one image's round-1 actions in order.

        Return ``(failures, registered)``: the failed action, if any,
        and ``(register action, new image id)`` of the images made.
        """
        registered = []
        for action in group:
            try:
                image_id = self._apply_one(subscription, action)
            except exceptions.ApplianceError as error:
                LOG.error('VO %s: %s failed: %s', subscription.vo,
                          action.describe(), error)
                return [(action, str(error))], registered
            if action.kind == 'register':
                if subscription.visibility == 'shared':
                    registered.append((action, image_id))
            LOG.info('VO %s: %s', subscription.vo, action.describe())
        return [], registered

    def _share(self, subscription, steps):
        """Run one image's membership calls for one project, in order.

        Return ``(action, error)`` of the first that failed, or None.
        """
        for action, kind, image_id, project in steps:
            try:
                getattr(self.catalog, kind)(image_id, project)
            except exceptions.ApplianceError as error:
                LOG.error('VO %s: %s failed: %s of project %s: %s',
                          subscription.vo, action.describe(), kind,
                          project, error)
                return action, str(error)
            if action.kind in MEMBER_KINDS:
                LOG.info('VO %s: %s', subscription.vo, action.describe())
        return None

    def _apply_one(self, subscription, action):
        """Run one round-1 action; return the new image's id, if any."""
        if action.kind == 'register':
            return self._register(subscription, action.args)
        method = getattr(self.catalog, action.kind)
        method(action.image_id, **action.args)
        return None

    def _register(self, subscription, args):
        """Create the image and give it its data; return its id.

        A plain file is adopted into the site's registry first (see
        ``sources.prepare``). Sharing the image is round 2's work.
        """
        offer = args['offer']
        spec = sources_mod.prepare(offer, args['spec'], subscription,
                                   self.client_for, self.progress)
        image_id = self.catalog.create_image(spec, subscription.tag)
        if subscription.mode == 'location':
            self.catalog.add_location(image_id, spec)
        else:
            self._import(subscription, image_id, offer)
        return image_id

    def _import(self, subscription, image_id, offer):
        """Copy the offer's bytes into the subscription's store, verified.

        Whatever goes wrong, the half-made image is deleted before the
        error leaves, so no unverified data stays in Glance.
        """
        try:
            stored = self.catalog.upload(
                image_id, sources_mod.content(offer, self.client_for),
                subscription.store)
            if stored is not None and stored != offer.appliance.sha512:
                raise exceptions.IntegrityError(
                    'Glance stored SHA-512 %s for appliance %s, the '
                    'endorsed one is %s.' % (stored,
                                             offer.appliance.identifier,
                                             offer.appliance.sha512))
        except BaseException:
            try:
                self.catalog.delete(image_id)
            except catalog_mod.CatalogError as error:
                LOG.warning('Could not delete half-imported image %s: %s; '
                            'the next run deletes it.', image_id, error)
            raise
