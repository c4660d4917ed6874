"""Who may change the shared evidence base, and the record of every change.

* :mod:`orechain.access.tables`: the SQL tables (users, API tokens, audit log; migration 0004_access).
* :mod:`orechain.access.users`: roles, users and API tokens (random, shown once, stored as sha256 hashes).
* :mod:`orechain.access.audit`: the append-only audit log and undo.
* :mod:`orechain.access.edits`: the audited writes the API offers (facility edits, observations, sources,
  claims documents), each one transaction together with its audit rows.
"""
