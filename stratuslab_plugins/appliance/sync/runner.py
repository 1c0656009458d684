"""One sync run: every subscribed VO, read, planned, applied, reported.

Example::

    runner = Synchronizer(GlanceCatalog(conn), client_for, vo_map=vos)
    for report in runner.run(subscriptions.select(subs, ['vo.example'])):
        print(report.summary())

Per VO: the sources are read and verified first; if one fails, the VO's
images are not touched and the report says why. Otherwise the plan's
actions run, grouped by image: one image's actions run in order, and
images run side by side (``workers`` threads), because each Glance call
is a round trip and a list of hundreds of appliances would otherwise
wait on latency. A failed action stops its image's group, is reported,
and leaves the rest of the run going; the next run picks up where the
catalogue was left (see :mod:`.plan`).
"""

import concurrent.futures
import dataclasses

from oslo_log import log as logging

from stratuslab_plugins.appliance import exceptions
from stratuslab_plugins.appliance.sync import catalog as catalog_mod
from stratuslab_plugins.appliance.sync import plan as plan_mod
from stratuslab_plugins.appliance.sync import sources as sources_mod

LOG = logging.getLogger(__name__)
DEFAULT_WORKERS = 4


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

    @property
    def ok(self):
        return self.error is None and not self.failed

    def summary(self):
        if self.error:
            return 'VO %s: unchanged, %s' % (self.vo, self.error)
        verb = 'would run' if self.dry_run else 'ran'
        return ('VO %s: %d appliances offered, %d images managed, %s %d '
                'actions, %d failed, %d rejected, %d skipped'
                % (self.vo, self.offers, self.managed, verb,
                   len(self.planned), len(self.failed), len(self.rejected),
                   len(self.skipped)))


class Synchronizer:
    """Runs subscriptions against a catalogue.

    :param catalog: the :class:`catalog.ImageCatalog` to write to.
    :param client_for: returns the registry client of a registry URL.
    :param vo_map: gives the projects of VOs whose subscription lists
        none (a :class:`grid.vo_map.VOMap`).
    :param dry_run: plan and report, write nothing.
    :param workers: images handled side by side.
    """

    def __init__(self, catalog, client_for, vo_map=None, dry_run=False,
                 workers=DEFAULT_WORKERS):
        self.catalog = catalog
        self.client_for = client_for
        self.vo_map = vo_map
        self.dry_run = dry_run
        self.workers = max(1, workers)

    def run(self, subscriptions, at=None):
        """Sync each subscription; return one :class:`VOReport` each."""
        listed = {}
        reports = []
        for subscription in subscriptions:
            report = VOReport(subscription.vo, dry_run=self.dry_run)
            reports.append(report)
            try:
                found = sources_mod.read(subscription, self.client_for, at)
            except sources_mod.SourceError as error:
                report.error = str(error)
                LOG.error('%s', error)
                continue
            report.offers = len(found.offers)
            report.rejected, report.skipped = found.rejected, found.skipped
            try:
                if subscription.tag not in listed:
                    listed[subscription.tag] = self.catalog.managed_images(
                        subscription.tag)
            except catalog_mod.CatalogError as error:
                report.error = 'cannot list its images: %s' % error
                LOG.error('VO %s: %s', subscription.vo, report.error)
                continue
            managed = listed[subscription.tag]
            report.managed = sum(1 for image in managed
                                 if image.get(plan_mod.VO) ==
                                 subscription.vo)
            try:
                actions = plan_mod.plan(
                    subscription, found, managed,
                    subscription.target_projects(self.vo_map), at=at)
            except exceptions.ApplianceError as error:
                # An image property the sync reads was edited by hand.
                report.error = 'cannot plan: %s' % error
                LOG.error('VO %s: %s', subscription.vo, report.error)
                continue
            report.planned = actions
            if not self.dry_run:
                report.failed = self._apply(subscription, actions)
        return reports

    # -- applying ---------------------------------------------------------

    def _apply(self, subscription, actions):
        groups = {}
        for index, action in enumerate(actions):
            groups.setdefault(action.image_id or index, []).append(action)
        with concurrent.futures.ThreadPoolExecutor(
                max_workers=self.workers,
                thread_name_prefix='appliance-sync') as pool:
            results = pool.map(lambda group: self._apply_group(
                subscription, group), groups.values())
            return [failure for result in results for failure in result]

    def _apply_group(self, subscription, group):
        for action in group:
            try:
                self._apply_one(subscription, action)
            except exceptions.ApplianceError as error:
                LOG.error('VO %s: %s failed: %s', subscription.vo,
                          action.describe(), error)
                return [(action, str(error))]
            LOG.info('VO %s: %s', subscription.vo, action.describe())
        return []

    def _apply_one(self, subscription, action):
        if action.kind == 'register':
            self._register(subscription, action.args)
            return
        method = getattr(self.catalog, action.kind)
        args = {key: value for key, value in action.args.items()}
        method(action.image_id, **args)

    def _register(self, subscription, args):
        spec, offer = args['spec'], args['offer']
        image_id = self.catalog.create_image(spec, subscription.tag)
        if subscription.mode == 'location':
            self.catalog.add_location(image_id, spec)
        else:
            self._import(subscription, image_id, offer)
        if subscription.visibility == 'shared':
            for project in args['projects']:
                self.catalog.add_member(image_id, project)
                self.catalog.accept_member(image_id, project)

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
