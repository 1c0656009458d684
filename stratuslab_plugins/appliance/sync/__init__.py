"""Keeping each VO's endorsed appliances in an image catalogue.

The sync reads top-down, one module per role:

* :mod:`.sources` reads and verifies a subscription's sources (signed
  image lists, registry projects) into *offers*: trusted appliances with
  the location an image service can read them from;
* :mod:`.plan` compares the offers with the images the sync manages and
  returns the actions that make them agree (register, update, share,
  retire, delete), as plain data;
* :mod:`.runner` runs a plan per VO against a catalogue and reports;
* :mod:`.catalog` is the catalogue interface, with an in-memory one for
  tests. Glance's is an adapter outside this package
  (:mod:`stratuslab_plugins.image.sync`), so nothing here imports Glance.
"""
