"""From a Glance image the sync manages to the row the panel shows.

The endorsement, expiry and retirement come from the image properties
named in :mod:`stratuslab_plugins.dashboard.image_properties`; an image
whose properties are unreadable still shows, with the problem named.

The sync retires an appliance its source no longer offers (or a newer
version replaces) by hiding and deactivating its image and writing when,
why and when it will be deleted; :func:`rows_for` leaves those out of
the appliances offered, :func:`retired_rows` lists them for admins.
"""

import datetime
import json

from stratuslab_plugins.dashboard import image_properties as props

UTC = datetime.timezone.utc


def _entry(properties):
    raw = properties.get(props.APPLIANCE_ATTRIBUTES)
    if not raw:
        return {}, None
    try:
        entry = json.loads(raw)
    except ValueError:
        return {}, '%s is not JSON' % props.APPLIANCE_ATTRIBUTES
    return (entry if isinstance(entry, dict) else {}), None


def _time(text):
    if not text:
        return None
    try:
        value = datetime.datetime.fromisoformat(str(text).replace('Z',
                                                                  '+00:00'))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class ApplianceRow:
    """What the Appliances table shows of one image.

    Keeps ``id``, ``status`` and ``container_format``, which Horizon's
    launch action reads.
    """

    def __init__(self, image, now):
        properties = dict(getattr(image, 'properties', None) or {})
        entry, problem = _entry(properties)
        self.id = image.id
        self.name = image.name or image.id
        self.status = image.status
        self.container_format = getattr(image, 'container_format', None)
        self.identifier = (properties.get(props.APPDB_ID)
                           or properties.get(props.IDENTIFIER)
                           or entry.get(props.ENTRY_IDENTIFIER))
        self.endorser = properties.get(props.ENDORSER_DN)
        raw_expiry = (properties.get(props.EXPIRES)
                      or entry.get(props.ENTRY_EXPIRES))
        self.expires = _time(raw_expiry)
        if raw_expiry and self.expires is None:
            problem = 'expiry %r is not an ISO 8601 time' % (raw_expiry,)
        self.expired = bool(self.expires and self.expires <= now)
        self.vo = properties.get(props.VO)
        self.retired_at = _time(properties.get(props.RETIRED_AT))
        self.retired_reason = properties.get(props.RETIRED_REASON)
        self.delete_after = _time(properties.get(props.DELETE_AFTER))
        self.retired = bool(properties.get(props.RETIRED_AT)
                            or self.retired_reason)
        self.problem = problem

    def offered_to(self, vo):
        """True unless the image was synced for another VO."""
        return self.vo is None or self.vo == vo


def rows_for(images, vo, now=None):
    """Return the rows of the images offered to ``vo``, by name.

    Retired images are left out: Glance lists those the sync only hid
    (``on_replace: hide``) with the others.
    """
    now = now or datetime.datetime.now(UTC)
    rows = [ApplianceRow(image, now) for image in images]
    return sorted((r for r in rows if r.offered_to(vo) and not r.retired),
                  key=lambda r: r.name.lower())


def retired_rows(images, now=None):
    """Return the rows of the retired images, latest retired first."""
    now = now or datetime.datetime.now(UTC)
    rows = [row for row in (ApplianceRow(image, now) for image in images)
            if row.retired]
    oldest = datetime.datetime.min.replace(tzinfo=UTC)
    return sorted(rows, key=lambda r: (r.retired_at or oldest, r.id),
                  reverse=True)
