"""Functional tests of the appliance sync against a real glance-api."""
