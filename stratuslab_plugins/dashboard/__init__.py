"""The Horizon plugin: appliances, grid hosts and usage, to look at.

Installed with the package's ``horizon`` extra; enabled by copying (or
linking) the files of :mod:`.enabled` into Horizon's
``openstack_dashboard/local/enabled/``. Four panels:

* Project > Compute > Appliances (:mod:`.content.appliances`);
* Project > Compute > Grid Usage, for VO managers (:mod:`.content.vo_usage`);
* Admin > Grid > Hosts (:mod:`.content.grid_hosts`);
* Admin > Grid > Usage (:mod:`.content.grid_usage`).

Every call to a service goes through :mod:`.api`, the one seam tests
mock. The site settings the panels read (``local_settings.py``) are
listed in :mod:`.settings`.
"""
