"""Units for mineral statistics, through one pint application registry.

The registry knows the units that mineral statistics are written in:

* mass: ``t``, ``kt``, ``Mt`` (metric tonnes, pint's ``metric_ton``);
* mass on a *basis*: ``t_REO`` (rare-earth-oxide equivalent) and ``t_metal`` (contained metal).
  Each basis is its own pint dimension, so a tonne of REO can never be added to, or converted into,
  a tonne of contained metal or a plain tonne by accident. :func:`oxide_to_element` does the
  stoichiometric conversion, and only when it is asked for;
* grades: ``ppm``, ``mg/kg``, ``percent`` (``%``);
* money: ``USD`` with magnitudes (``kUSD``, ``MUSD``, ``GUSD``, ``TUSD``) and prices such as ``USD/kg``.

Human spellings found in sources ("t REO", "kt", "US$ million", "USD/kg", "t Sb content") go through
:func:`parse_unit`, which maps them onto registry expressions or raises :class:`UnitError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pint

__all__ = [
    "ELEMENT_OXIDES",
    "UnitError",
    "canonical_unit",
    "oxide_to_element",
    "parse_quantity",
    "parse_unit",
    "ureg",
]

_DEFINITIONS = """
tonne_REO = [mass_REO] = t_REO
kilotonne_REO = 1000 * tonne_REO = kt_REO
megatonne_REO = 1e6 * tonne_REO = Mt_REO
kilogram_REO = 0.001 * tonne_REO = kg_REO
tonne_metal = [mass_metal] = t_metal
kilotonne_metal = 1000 * tonne_metal = kt_metal
kilogram_metal = 0.001 * tonne_metal = kg_metal
kilotonne = 1000 * metric_ton = kt
megatonne = 1e6 * metric_ton = Mt
US_dollar = [currency] = USD
thousand_USD = 1e3 * USD = kUSD
million_USD = 1e6 * USD = MUSD
billion_USD = 1e9 * USD = GUSD
trillion_USD = 1e12 * USD = TUSD
"""


class UnitError(ValueError):
    """A unit string that the registry does not know, or a conversion that is not allowed."""


@lru_cache(maxsize=1)
def _registry() -> pint.UnitRegistry:  # type: ignore[type-arg]
    reg: pint.UnitRegistry = pint.UnitRegistry(  # type: ignore[type-arg]
        cache_folder=None, autoconvert_offset_to_baseunit=False
    )
    for line in _DEFINITIONS.strip().splitlines():
        reg.define(line)
    return reg


ureg = _registry()

# Human spellings (lower-cased, whitespace collapsed) -> registry expression.
_ALIASES: dict[str, str] = {
    "t": "metric_ton",
    "tonne": "metric_ton",
    "tonnes": "metric_ton",
    "metric ton": "metric_ton",
    "metric tons": "metric_ton",
    "kt": "kt",
    "mt": "Mt",
    "t reo": "t_REO",
    "t rare-earth-oxide equivalent": "t_REO",
    "metric tons of rare-earth-oxide (reo) equivalent": "t_REO",
    "kt reo": "kt_REO",
    "mt reo": "Mt_REO",
    "kg reo": "kg_REO",
    "t metal": "t_metal",
    "t contained metal": "t_metal",
    "kt metal": "kt_metal",
    "kg metal": "kg_metal",
    "ppm": "ppm",
    "mg/kg": "mg/kg",
    "g/t": "g/metric_ton",
    "%": "percent",
    "percent": "percent",
    "pct": "percent",
    "usd": "USD",
    "us$": "USD",
    "$": "USD",
    "thousand usd": "kUSD",
    "usd thousand": "kUSD",
    "us$ thousand": "kUSD",
    "million usd": "MUSD",
    "usd million": "MUSD",
    "us$ million": "MUSD",
    "billion usd": "GUSD",
    "usd billion": "GUSD",
    "us$ billion": "GUSD",
    "trillion usd": "TUSD",
    "usd trillion": "TUSD",
    "us$ trillion": "TUSD",
    "usd/kg": "USD/kg",
    "us$/kg": "USD/kg",
    "usd/t": "USD/metric_ton",
    "usd/lb": "USD/lb",
    "usd/mtu": "USD/(10 kg)",
    "year": "year",
    "years": "year",
    "t/yr": "metric_ton/year",
    "t/y": "metric_ton/year",
    "t reo/yr": "t_REO/year",
    "t reo/y": "t_REO/year",
    "km": "km",
    "mile": "mile",
    "miles": "mile",
    "ratio": "dimensionless",
    "count": "dimensionless",
    "1": "dimensionless",
}

# "t Sb", "t W content", "t contained Sb", "t Sb content": contained metal of a named element.
_CONTAINED = re.compile(
    r"^(?P<mag>t|kt|kg)\s+(?:contained\s+)?(?P<el>[A-Z][a-z]?)(?:\s+(?:content|contained))?$"
)
# "t NdPr oxide", "t Dy2O3", "t NdPr oxide/yr": separated oxide of a named element group.
_OXIDE = re.compile(r"^(?P<mag>t|kt|kg)\s+(?P<ox>[A-Za-z0-9]+)\s+oxide(?P<rate>/yr|/y)?$")


_SAFE_EXPR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\s*[/*]\s*[A-Za-z_][A-Za-z0-9_]*)*(?:\s*\*\*\s*-?\d)?$")


@dataclass(frozen=True)
class Unit:
    """A parsed unit: the pint unit and, for contained-metal or oxide masses, what the basis is."""

    pint_unit: Any
    basis: str | None = None  # e.g. "Sb" for t Sb content, "NdPr oxide" for t NdPr oxide

    @property
    def symbol(self) -> str:
        return canonical_unit(self)


def parse_unit(text: str) -> Unit:
    """Parse a human unit spelling into a :class:`Unit`, or raise :class:`UnitError`.

    >>> parse_unit("t REO").pint_unit == ureg.t_REO
    True
    >>> parse_unit("t Sb content").basis
    'Sb'
    """
    raw = " ".join(str(text).replace("\u00a0", " ").split())
    if not raw:
        raise UnitError("missing unit")
    m = _CONTAINED.match(raw)
    if m:
        metal = {"t": "t_metal", "kt": "kt_metal", "kg": "kg_metal"}[m["mag"]]
        return Unit(ureg(metal).units, basis=m["el"])
    m = _OXIDE.match(raw)
    if m:
        base = {"t": "t_REO", "kt": "kt_REO", "kg": "kg_REO"}[m["mag"]]
        expr = base + ("/year" if m["rate"] else "")
        return Unit(ureg(expr).units, basis=f"{m['ox']} oxide")
    alias = _ALIASES.get(raw.lower())
    if alias is None:
        if not _SAFE_EXPR.match(raw):
            raise UnitError(f"unknown unit {text!r}")
        try:
            q = ureg(raw)
            if not isinstance(q, ureg.Quantity) or q.magnitude != 1:
                raise UnitError(f"unknown unit {text!r}: not a unit expression")
            return Unit(q.units)
        except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError, AttributeError,
                TypeError, ValueError, AssertionError) as exc:
            raise UnitError(f"unknown unit {text!r}") from exc
    return Unit(ureg(alias).units)


def canonical_unit(unit: Unit) -> str:
    """The short, stable spelling orechain stores, e.g. ``t REO``, ``t Sb``, ``USD/kg``."""
    u = unit.pint_unit
    if unit.basis and u == ureg.t_metal:
        return f"t {unit.basis}"
    if unit.basis and u == ureg.t_REO:
        return f"t {unit.basis}"
    if unit.basis and u == ureg.t_REO / ureg.year:
        return f"t {unit.basis}/yr"
    for spelling, expr in (
        ("t", "metric_ton"), ("kt", "kt"), ("Mt", "Mt"), ("t REO", "t_REO"), ("kt REO", "kt_REO"),
        ("t metal", "t_metal"), ("%", "percent"), ("ppm", "ppm"), ("mg/kg", "mg/kg"),
        ("USD", "USD"), ("USD thousand", "kUSD"), ("USD million", "MUSD"), ("USD billion", "GUSD"),
        ("USD trillion", "TUSD"), ("USD/kg", "USD/kg"), ("USD/t", "USD/metric_ton"),
        ("t/yr", "metric_ton/year"), ("t REO/yr", "t_REO/year"), ("years", "year"),
    ):
        if u == ureg(expr).units:
            return spelling
    return f"{u:~}"


def parse_quantity(value: float, unit_text: str) -> pint.Quantity:  # type: ignore[type-arg]
    """A pint quantity from a number and a human unit spelling."""
    return ureg.Quantity(value, parse_unit(unit_text).pint_unit)


# Stoichiometric oxide -> element mass fractions (element mass / oxide mass), from atomic weights.
_ATOMIC = {"O": 15.999, "La": 138.905, "Ce": 140.116, "Pr": 140.908, "Nd": 144.242, "Sm": 150.36,
           "Eu": 151.964, "Gd": 157.25, "Tb": 158.925, "Dy": 162.500, "Ho": 164.930, "Er": 167.259,
           "Y": 88.906, "Sb": 121.760, "W": 183.84}
ELEMENT_OXIDES: dict[str, tuple[int, int]] = {
    # element -> (element atoms, oxygen atoms) in the usual traded oxide
    "La": (2, 3), "Ce": (1, 2), "Pr": (6, 11), "Nd": (2, 3), "Sm": (2, 3), "Eu": (2, 3), "Gd": (2, 3),
    "Tb": (4, 7), "Dy": (2, 3), "Ho": (2, 3), "Er": (2, 3), "Y": (2, 3), "Sb": (2, 3), "W": (1, 3),
}


def oxide_factor(element: str) -> float:
    """Mass of element per unit mass of its usual oxide (e.g. Nd in Nd2O3: 0.857)."""
    if element not in ELEMENT_OXIDES:
        raise UnitError(f"no oxide stoichiometry for element {element!r}")
    n_el, n_o = ELEMENT_OXIDES[element]
    el = n_el * _ATOMIC[element]
    return el / (el + n_o * _ATOMIC["O"])


def oxide_to_element(oxide_tonnes: float, element: str) -> float:
    """Tonnes of contained element in ``oxide_tonnes`` of the element's oxide. Explicit only."""
    if oxide_tonnes < 0:
        raise UnitError("negative oxide mass")
    return oxide_tonnes * oxide_factor(element)


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """Convert between unit spellings; raises :class:`UnitError` across bases (REO vs metal vs t)."""
    a, b = parse_unit(from_unit), parse_unit(to_unit)
    if a.basis != b.basis and a.basis is not None and b.basis is not None:
        raise UnitError(f"cannot convert {from_unit!r} to {to_unit!r}: different bases")
    try:
        return float(ureg.Quantity(value, a.pint_unit).to(b.pint_unit).magnitude)
    except pint.errors.DimensionalityError as exc:
        raise UnitError(f"cannot convert {from_unit!r} to {to_unit!r}: {exc}") from exc
