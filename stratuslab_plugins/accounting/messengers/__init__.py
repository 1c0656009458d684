"""Messengers: where records go once extracted.

A messenger receives records one by one (:meth:`Messenger.add`) and must
have handed every one of them over durably when :meth:`Messenger.flush`
returns; the manager moves the extraction window only after every
configured messenger flushed. Plugins register in the entry-point
namespace ``stratuslab.accounting.messengers``: ``ssm``, ``json``,
``noop``.
"""
