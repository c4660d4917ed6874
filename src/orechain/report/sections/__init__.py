"""Report sections: each module (or function) builds one :class:`orechain.report.section.Section`.

The report frame lists them in ``orechain.report.assess.SECTIONS``; see docs/report.md.
"""
