"""The claims ledger: read articles, extract quantitative claims, group them by subject, grade them.

Modules by concept: :mod:`ingest` (files to documents), :mod:`extract` (sentences to claims, pure),
:mod:`quantities` and :mod:`dates` (number and date grammar), :mod:`subjects` (name tables and subject
keys), :mod:`ledger` (storage, grouping, agreement and conflicts), :mod:`grading` (reporting ladder,
corroboration, plausibility) and :mod:`tables` (SQL tables).
"""
