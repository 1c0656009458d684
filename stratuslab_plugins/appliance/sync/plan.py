"""What the catalogue must do so a VO's images match its offers.

:func:`plan` compares the offers of one subscription with the images the
sync manages for that VO (those carrying the subscription's tag and the
VO in ``stratuslab_vo``) and returns :class:`Action` s, plain data a
dry run prints and the runner applies in order. The rules:

* an offer with no image gets one (``register``), shared with the target
  projects; an image whose registration was interrupted (still
  ``queued`` or ``killed``) is deleted and registered again, so a run
  stopped halfway resumes cleanly;
* an offered image gets only the changes that differ (attributes,
  visibility, un-hiding, reactivation, members): a run with nothing new
  plans nothing. Where the attributes came from (the list's
  ``dc:identifier``, :data:`PASSENGERS`) is rewritten only along with a
  real change: a list re-issued under a new identifier with the same
  entries writes nothing;
* an image whose appliance is no longer offered is retired at once:
  hidden (``os_hidden``), deactivated, and marked with the time and the
  reason. A new version of an appliance retires the old image the same
  way, or only hides it when the subscription says ``on_replace: hide``
  (it stays usable for rebuilds until deleted);
* a retired image is deleted once its grace period has passed; the
  image says when (``stratuslab_delete_after``, kept in step with the
  subscription's ``grace_period``), so the dashboard can tell admins;
* an image whose appliance a source names but the sync cannot register
  (``skipped``) is left alone; images without our tag are never listed.
"""

import dataclasses
import datetime
import json
import math

from stratuslab_plugins.appliance import hepix
from stratuslab_plugins.appliance import model
from stratuslab_plugins.appliance.sync import catalog

# atrope's names, which EGI's tools (cASO...) read.
APPDB_ID = 'appdb_id'
IMAGE_HASH = 'image_hash'
MPURI = 'vmcatcher_event_ad_mpuri'
DESCRIPTION = 'vmcatcher_event_dc_description'
ATTRIBUTES = 'APPLIANCE_ATTRIBUTES'
IMAGE_LIST = 'image_list'
# Ours.
VO = 'stratuslab_vo'
ENDORSER = 'stratuslab_endorser'
EXPIRES = 'stratuslab_expires'
IDENTIFIER = 'stratuslab_identifier'
SOURCE = 'stratuslab_source'
RETIRED_AT = 'stratuslab_retired_at'
RETIRED_REASON = 'stratuslab_retired_reason'
DELETE_AFTER = 'stratuslab_delete_after'
#: What retirement writes, and an offered-again image loses.
RETIREMENT = (RETIRED_AT, RETIRED_REASON, DELETE_AFTER)

#: Statuses of an image whose registration did not finish.
UNFINISHED = ('queued', 'killed')
#: Glance's property holding the task that gives a queued image its data.
IMPORT_TASK = 'os_glance_import_task'
#: After this long a task still holding a queued image is taken as dead
#: (glance-api stopped during it and never released the image).
STALE_TASK = datetime.timedelta(hours=1)
GiB = 1024 ** 3
#: Properties set only when the appliance has a value for them: removed
#: from the image when the value goes.
OPTIONAL = ('os_distro', 'os_version', 'architecture', IMAGE_LIST, ENDORSER,
            EXPIRES, IDENTIFIER)
#: Properties that say where the attributes came from, not what the image
#: is: written with the image and with any real change, never a reason to
#: write on their own. Endorsers re-issue a list (new ``dc:identifier``,
#: new dates) every few days with the same entries; rewriting every image
#: each time would be churn in Glance and in its notifications.
PASSENGERS = (IMAGE_LIST,)


@dataclasses.dataclass
class Action:
    """One write on the catalogue.

    :param kind: the :class:`catalog.ImageCatalog` method, or
        ``register`` (create, give data, share).
    :param image_id: the image, None for ``register``.
    :param reason: why, in words for the report.
    :param args: the method's other arguments.
    """

    kind: str
    image_id: str = None
    reason: str = ''
    args: dict = dataclasses.field(default_factory=dict)

    def describe(self):
        target = self.image_id or self.args.get('name', '')
        return '%s %s: %s' % (self.kind, target, self.reason)


#: Glance refuses longer image names.
NAME_LENGTH = 255


def _min_disk(appliance, glance):
    """Return the image's minimum disk in GiB.

    The endorser's ``min_disk`` when it is a number, else the file's size
    rounded up (a lower bound of the disk it needs).
    """
    try:
        return max(0, int(glance.get('min_disk')))
    except (TypeError, ValueError):
        return math.ceil(appliance.size / GiB)


def _entry_json(entry):
    return json.dumps(entry, sort_keys=True, separators=(',', ':'))


def image_attributes(offer, subscription):
    """Return the attributes and properties of the offer's image."""
    appliance = offer.appliance
    entry = offer.entry or hepix.to_entry(appliance)['hv:image']
    glance = {key[len(model.GLANCE_PREFIX):]: value
              for key, value in appliance.glance_properties.items()}
    attributes = {
        'name': (('%s %s' % (appliance.title, appliance.version)
                  if appliance.version else appliance.title)
                 or appliance.identifier)[:NAME_LENGTH],
        'visibility': subscription.visibility,
        'os_hidden': False,
        'min_ram': appliance.ram_minimum or 0,
        'min_disk': _min_disk(appliance, glance),
        APPDB_ID: appliance.identifier,
        IMAGE_HASH: 'sha512:' + appliance.sha512,
        MPURI: ((offer.entry or {}).get('ad:mpuri') or appliance.mpuri
                or offer.location),
        DESCRIPTION: appliance.description or appliance.title,
        ATTRIBUTES: _entry_json(entry),
        VO: subscription.vo,
        SOURCE: offer.source,
    }
    optional = (
        glance.get('os_distro') or appliance.os,
        glance.get('os_version') or appliance.os_version,
        glance.get('architecture') or appliance.arch,
        offer.list_id,
        appliance.endorser.dn if appliance.endorser else None,
        model.format_time(appliance.expires),
        appliance.stratuslab_id,
    )
    attributes.update({key: str(value) for key, value
                       in zip(OPTIONAL, optional) if value})
    return attributes


def _key(appliance_id, image_hash):
    return appliance_id, image_hash


def _index(offers, subscription):
    wanted = {}
    for offer in offers:
        key = _key(offer.appliance.identifier,
                   'sha512:' + offer.appliance.sha512)
        wanted.setdefault(key, (offer, image_attributes(offer,
                                                        subscription)))
    return wanted


def _member_actions(image, projects, shared):
    actions = []
    targets = set(projects) if shared else set()
    for project in sorted(targets - set(image.members)):
        actions.append(Action('add_member', image.id,
                              'share with project %s' % project,
                              {'project': project}))
    for project in sorted(targets):
        if image.members.get(project) != 'accepted':
            actions.append(Action('accept_member', image.id,
                                  'accept on behalf of project %s'
                                  % project, {'project': project}))
    for project in sorted(set(image.members) - targets):
        actions.append(Action('remove_member', image.id,
                              'project %s is no longer a target' % project,
                              {'project': project}))
    return actions


def _keep(image, attributes, projects):
    """Actions that bring an offered image up to date (maybe none)."""
    actions = []
    changes = {key: value for key, value in attributes.items()
               if image.get(key) != value}
    remove = [key for key in OPTIONAL + RETIREMENT
              if key not in attributes and image.get(key) is not None]
    if not set(changes).union(remove).difference(PASSENGERS):
        changes, remove = {}, []
    if image.status == 'deactivated':
        actions.append(Action('reactivate', image.id,
                              'its appliance is offered again'))
    if changes or remove:
        actions.append(Action('update_image', image.id,
                              'update %s' % ', '.join(sorted(changes)
                                                      + remove),
                              {'changes': changes, 'remove': remove}))
    return actions + _member_actions(
        image, projects, attributes['visibility'] == 'shared')


def unfinished(image, at):
    """True if the image's registration stopped before its data arrived.

    A queued image whose location is being validated by a Glance task
    (``os_glance_import_task``) is still in progress, unless that task
    has held it for :data:`STALE_TASK`.
    """
    if image.status not in UNFINISHED:
        return False
    if image.status == 'queued' and image.get(IMPORT_TASK):
        updated = model.parse_time(image.get('updated_at'), 'updated_at')
        return updated is not None and updated + STALE_TASK <= at
    return True


def _retire(image, reason, deactivate, grace, at):
    retired = image.get(RETIRED_AT)
    if retired:
        since = model.parse_time(retired, RETIRED_AT)
        if since + grace <= at:
            return [Action('delete', image.id, 'retired on %s (%s), grace '
                           'period over' % (retired, image.get(
                               RETIRED_REASON, '')))]
    if unfinished(image, at):
        return [Action('delete', image.id, 'never finished registering, '
                       'and ' + reason)]
    actions = []
    changes = {}
    if not image.get('os_hidden'):
        changes['os_hidden'] = True
    if not retired:
        changes[RETIRED_AT] = model.format_time(at)
        changes[RETIRED_REASON] = reason[:250]
    delete_after = model.format_time((since if retired else at) + grace)
    if image.get(DELETE_AFTER) != delete_after:
        changes[DELETE_AFTER] = delete_after
    if changes:
        actions.append(Action('update_image', image.id, 'retire: ' + reason,
                              {'changes': changes, 'remove': []}))
    if deactivate and image.status == 'active':
        actions.append(Action('deactivate', image.id, 'retire: ' + reason))
    return actions


def _retirement_reason(image, sources, offered_ids, replaced_ids):
    appliance_id = image.get(APPDB_ID)
    if appliance_id in sources.rejected:
        return sources.rejected[appliance_id], False
    if appliance_id in offered_ids or appliance_id in replaced_ids:
        return ('replaced by a newer version of appliance %s'
                % appliance_id), True
    return 'appliance %s left the sources' % appliance_id, False


def plan(subscription, sources, managed, projects, at=None):
    """Return the :class:`Action` list for one VO.

    :param subscription: the VO's :class:`Subscription`.
    :param sources: the :class:`sources.Catalogue` read for it.
    :param managed: the :class:`catalog.ManagedImage` s carrying the tag.
    :param projects: the projects its images are shared with.
    :param at: the time retirement and grace are judged at.
    """
    at = at or model.now()
    grace = datetime.timedelta(hours=subscription.grace_period)
    wanted = _index(sources.offers, subscription)
    offered_ids = {key[0] for key in wanted}
    replaced_ids = {offer.appliance.replaces for offer in sources.offers
                    if offer.appliance.replaces}
    found = set()
    actions = []
    mine = sorted((image for image in managed
                   if image.get(VO) == subscription.vo),
                  key=lambda image: (unfinished(image, at), image.id))
    for image in mine:
        key = _key(image.get(APPDB_ID), image.get(IMAGE_HASH))
        if key in wanted and key not in found and \
                not unfinished(image, at):
            found.add(key)
            actions.extend(_keep(image, wanted[key][1], projects))
            continue
        if key in wanted:
            reason = ('a duplicate of a registered image' if key in found
                      else 'registration did not finish')
            actions.append(Action('delete', image.id, reason))
            continue
        if image.get(APPDB_ID) in sources.skipped:
            continue
        reason, replaced = _retirement_reason(image, sources, offered_ids,
                                              replaced_ids)
        deactivate = not (replaced and subscription.on_replace == 'hide')
        actions.extend(_retire(image, reason, deactivate, grace, at))
    for key, (offer, attributes) in wanted.items():
        if key not in found:
            actions.append(Action(
                'register', None, 'appliance %s (%s) from %s'
                % (key[0], offer.appliance.title, offer.source),
                {'offer': offer, 'name': attributes['name'],
                 'spec': catalog.ImageSpec(
                     disk_format=offer.appliance.disk_format,
                     container_format=offer.appliance.container_format,
                     attributes=attributes, location=offer.location,
                     sha512=offer.appliance.sha512,
                     size=offer.appliance.size),
                 'projects': list(projects)}))
    return actions
