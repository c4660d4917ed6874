"""Importers for real published formats. ``IMPORTERS`` maps the CLI's KIND to an importer.

====================  ==========================================================================
``usgs-mcs``          USGS Mineral Commodity Summaries data-release world tables
``usgs-mcs-salient``  USGS MCS US salient statistics
``wmd``               World Mining Data (BMF Austria) production workbook, one sheet per mineral
``baci``              CEPII BACI bilateral trade CSV (streamed)
``wgi``               World Bank Worldwide Governance Indicators (political stability, PV.EST)
====================  ==========================================================================

See ``docs/importers.md`` for each format, what is read and what errors look like.
"""

from __future__ import annotations

from orechain.evidence.importers.base import Batch, Importer, run_import

IMPORTERS: dict[str, Importer] = {}


def register(importer: Importer) -> Importer:
    IMPORTERS[importer.kind] = importer
    return importer


def _register_builtin() -> None:
    from orechain.evidence.importers.baci import BaciImporter
    from orechain.evidence.importers.usgs_mcs import McsSalientImporter, McsWorldImporter
    from orechain.evidence.importers.wgi import WgiImporter
    from orechain.evidence.importers.wmd import WmdImporter

    for imp in (McsWorldImporter(), McsSalientImporter(), WmdImporter(), BaciImporter(), WgiImporter()):
        register(imp)


_register_builtin()

__all__ = ["IMPORTERS", "Batch", "Importer", "register", "run_import"]
