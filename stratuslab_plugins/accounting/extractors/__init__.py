"""Extractors: usage read from a cloud service, turned into records.

Each plugin of the entry-point namespace ``stratuslab.accounting.
extractors`` reads one service for every project at once (paged,
all-tenants listings, never one query per project) and yields records as
it reads, so memory stays flat whatever the size of the cloud: ``nova``
(cloud records), ``cinder`` (StAR storage records), ``neutron`` (public-IP
records).
"""
