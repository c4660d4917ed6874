"""Importers for real published formats. ``IMPORTERS`` maps the CLI's KIND to an importer."""

from __future__ import annotations

from orechain.evidence.importers.base import Batch, Importer, run_import

IMPORTERS: dict[str, Importer] = {}


def register(importer: Importer) -> Importer:
    IMPORTERS[importer.kind] = importer
    return importer


__all__ = ["IMPORTERS", "Batch", "Importer", "register", "run_import"]
