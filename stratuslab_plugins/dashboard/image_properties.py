"""The Glance image properties the Appliances panel reads, in one place.

The appliance sync (``stratuslab_plugins.appliance.sync``) tags the images
it manages and writes the properties EGI's tools expect (the names atrope
sets, see ``shared/reference/appliances.md``) and the appliance model's
own annotations (``stratuslab_plugins.appliance.model.ANNOTATION_PREFIX``),
which carry the endorsement, expiry and deprecation. The panel reads the
latter first and falls back to the image-list entry atrope stores as JSON.
"""

from stratuslab_plugins.appliance import model

# atrope's names (EGI's current sync tool).
APPDB_ID = 'appdb_id'
IMAGE_HASH = 'image_hash'
MARKETPLACE_URI = 'vmcatcher_event_ad_mpuri'
APPLIANCE_ATTRIBUTES = 'APPLIANCE_ATTRIBUTES'
IMAGE_LIST = 'image_list'

# The appliance model's annotations, as the sync copies them.
IDENTIFIER = model.ANNOTATION_PREFIX + 'identifier'
ENDORSER_DN = model.ANNOTATION_PREFIX + 'endorser.dn'
ENDORSER_EMAIL = model.ANNOTATION_PREFIX + 'endorser.email'
EXPIRES = model.ANNOTATION_PREFIX + 'expires'
DEPRECATED = model.ANNOTATION_PREFIX + 'deprecated'
VOS = model.ANNOTATION_PREFIX + 'vos'

# Keys of the HEPiX image-list entry in APPLIANCE_ATTRIBUTES.
ENTRY_EXPIRES = 'dc:date:expires'
ENTRY_IDENTIFIER = 'dc:identifier'
