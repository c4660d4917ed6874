from __future__ import annotations

import pytest

from orechain.units import UnitError, convert, oxide_factor, oxide_to_element, parse_unit, ureg


def test_reo_is_its_own_dimension() -> None:
    assert convert(1, "kt REO", "t REO") == pytest.approx(1000)
    with pytest.raises(UnitError):
        convert(1, "t REO", "t")
    with pytest.raises(UnitError):
        convert(1, "t REO", "t metal")


def test_contained_metal_basis() -> None:
    u = parse_unit("t Sb content")
    assert u.basis == "Sb" and u.pint_unit == ureg.t_metal
    assert parse_unit("t W").symbol == "t W"


def test_money_magnitudes_and_grades() -> None:
    assert convert(68, "USD trillion", "USD billion") == pytest.approx(68_000)
    assert convert(500, "US$ million", "USD") == pytest.approx(5e8)
    assert convert(1400, "mg/kg", "%") == pytest.approx(0.14)
    assert convert(1400, "ppm", "mg/kg") == pytest.approx(1400)


def test_oxide_conversion_is_explicit() -> None:
    assert oxide_factor("Nd") == pytest.approx(0.8574, abs=1e-3)
    assert oxide_to_element(100, "Nd") == pytest.approx(85.74, abs=0.1)
    with pytest.raises(UnitError):
        oxide_factor("Xx")


@pytest.mark.parametrize("bad", ["", "furlongs per fortnight!!", "t REO REO"])
def test_unknown_units_raise(bad: str) -> None:
    with pytest.raises(UnitError):
        parse_unit(bad)
