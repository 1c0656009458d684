"""stratuslab-plugins: an OpenStack cloud as a first-class grid site.

Three pillars plug into services that OpenStack already runs, through
entry points those services load with stevedore:

* ``scheduler``: grid-aware Nova filters and weighers (VOs, downtimes,
  batch partitions, benchmarks, energy, resilience);
* ``appliance`` and ``image``: a repository of signed, endorsed virtual
  appliances in an OCI registry, and the Glance store driver over it;
* ``accounting``: exact usage turned into APEL records for EGI.

Importing this package pulls in neither Nova nor Glance.
"""
