"""Exact usage: what Nova's notifications and libvirt say a VM really did.

The Nova API cannot tell how long a VM was suspended, forgets VMs purged
between two accounting runs and knows nothing of CPU time. This package
fills those gaps from two always-on sources, both writing into the ledger
(:mod:`stratuslab_plugins.accounting.ledger.usage`):

* :mod:`.listener`: ``stratuslab-accounting-listener`` consumes Nova's
  versioned notifications (and the agents' CPU samples) and records each
  event idempotently, acknowledging it only after the commit;
* :mod:`.agent`: ``stratuslab-accounting-libvirt-agent`` runs on each
  compute host and sends each domain's CPU time over oslo.messaging.

What a stream of events means is pure logic, free of I/O:
:mod:`.events` turns a notification into an :class:`~.events.InstanceEvent`,
:mod:`.intervals` turns an instance's events into running / suspended /
shelved intervals, and :mod:`.cpu` turns CPU samples into CPU seconds.
"""
