"""EGI accounting: exact usage turned into APEL records for SSM.

The run reads top-down: the manager asks extractors for records, hands
them to messengers, and moves the extraction window forward in the ledger
only once every messenger accepted them.
"""
