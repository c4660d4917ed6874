"""Dependency analytics: concentration, GeoPolRisk, EU supply risk and mine-to-magnet tracing.

Pure functions on frames and arrays; nothing here opens a file or a database (``orechain.analytics.inputs``
is the one edge that reads the evidence store into the frames these functions take).
"""
