"""The Glance image properties the Appliances panel reads, in one place.

They are the appliance sync's (``stratuslab_plugins.appliance.sync.plan``
writes them on every image it registers): atrope's names, which EGI's
tools read, and the sync's own ``stratuslab_*`` ones for the VO,
endorser, expiry and retirement. Imported from there, never retyped, so a
rename in the sync reaches the panel. The HEPiX entry the sync keeps as
JSON (``APPLIANCE_ATTRIBUTES``) is the fallback for images synced by an
older tool (atrope) that set only atrope's names.
"""

from stratuslab_plugins.appliance import subscriptions
from stratuslab_plugins.appliance.sync import plan

#: The tag the sync puts on the images it manages (a subscription's
#: ``tag`` default).
DEFAULT_TAG = subscriptions.DEFAULT_TAG

APPDB_ID = plan.APPDB_ID
IMAGE_HASH = plan.IMAGE_HASH
MARKETPLACE_URI = plan.MPURI
APPLIANCE_ATTRIBUTES = plan.ATTRIBUTES
IDENTIFIER = plan.IDENTIFIER
VO = plan.VO
ENDORSER_DN = plan.ENDORSER
EXPIRES = plan.EXPIRES
RETIRED_AT = plan.RETIRED_AT
RETIRED_REASON = plan.RETIRED_REASON
DELETE_AFTER = plan.DELETE_AFTER

# Keys of the HEPiX image-list entry in APPLIANCE_ATTRIBUTES.
ENTRY_EXPIRES = 'dc:date:expires'
ENTRY_IDENTIFIER = 'dc:identifier'
