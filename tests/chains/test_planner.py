"""The planner's arithmetic: the worked example of the coconut chain by hand, small cases, and properties."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.chains.planner import PlanError, Process, coconut_processes, plan, share_by_capacity

F = Fraction


def test_the_worked_example_of_the_coconut_chain() -> None:
    # 1,000 kg soap -> 780 kg oil -> 1,950 kg meat -> 5,572 nuts; 2,000 L water -> 6,400 nuts;
    # 500 kg charcoal -> 1,666.7 kg shell -> 11,112 nuts. The charcoal binds: 11,112 nuts.
    result = plan(coconut_processes(), {"sabun-kelapa": F(1000), "air-kelapa-kemasan": F(2000),
                                        "arang-tempurung": F(500)})
    assert result.process("sabun").required_input == {"minyak-kelapa": F(780)}
    assert result.process("minyak-kelapa").required_input == {"daging-kelapa": F(1950)}
    assert result.process("arang-tempurung").required_input["tempurung"] == F(5000, 3)  # 1,666.7 kg
    assert math.ceil(F(1950) / F("0.35")) == 5572 and F(2000) / F("0.3125") == 6400
    split = result.process("kupas-belah")
    assert split.runs == 11112 and result.raw_inputs == {"kelapa-butir": F(11112)}
    assert split.required_input == {"kelapa-butir": F(11112)}
    # The other joint products are surplus: meat and water beyond need, and all the husk.
    assert split.output["daging-kelapa"] == F("3889.2")
    assert split.surplus["daging-kelapa"] == F("3889.2") - 1950
    assert split.surplus["air-kelapa"] == F("3472.5") - 2000
    assert split.surplus["sabut"] == split.output["sabut"] == F("4861.5")
    assert split.surplus["tempurung"] == F("1666.8") - F(5000, 3)  # the last nut's part
    assert result.process("sabut").runs == 0  # nobody asked for coir fibre
    # Upstream first, as a chain is read.
    assert result.processes[0].key == "kupas-belah"


def test_shares_follow_capacity_and_shortfalls_are_named() -> None:
    caps = {"kupas-belah": {"KUBE Nyiur": F(6000), "KUBE Pinang": F(3000)}}
    result = plan(coconut_processes(caps), {"air-kelapa-kemasan": F(2000)})  # 6,400 nuts
    split = result.process("kupas-belah")
    assert split.allocated == {"KUBE Nyiur": F(4267), "KUBE Pinang": F(2133)}  # 2:1, whole nuts
    assert sum(split.allocated.values()) == 6400 and split.shortfall == 0
    result = plan(coconut_processes(caps), {"arang-tempurung": F(500)})  # 11,112 nuts > 9,000
    split = result.process("kupas-belah")
    assert split.allocated == {"KUBE Nyiur": F(6000), "KUBE Pinang": F(3000)} and split.shortfall == 2112


def test_a_process_without_kubes_is_all_shortfall() -> None:
    result = plan(coconut_processes(), {"sabun-kelapa": F(10)})
    assert result.process("sabun").shortfall == 10 and result.process("sabun").allocated == {}


def test_bad_chains_and_demand_are_refused() -> None:
    with pytest.raises(PlanError):
        plan(coconut_processes(), {"emas": F(1)})
    with pytest.raises(PlanError):
        plan(coconut_processes(), {"sabun-kelapa": F(-1)})
    twice = [Process("a", {"x": F(1)}, {"y": F(1)}), Process("b", {"x": F(1)}, {"y": F(1)})]
    with pytest.raises(PlanError):
        plan(twice, {"y": F(1)})
    cycle = [Process("a", {"x": F(1)}, {"y": F(1)}), Process("b", {"y": F(1)}, {"x": F(1)})]
    with pytest.raises(PlanError):
        plan(cycle, {"y": F(1)})


capacities = st.dictionaries(st.sampled_from(["A", "B", "C", "D", "E"]),
                             st.integers(min_value=0, max_value=5000).map(Fraction), max_size=5)


@settings(max_examples=300, deadline=None)
@given(required=st.integers(min_value=0, max_value=20000).map(Fraction), caps=capacities, whole=st.booleans())
def test_shares_never_exceed_capacity_and_add_up(required: Fraction, caps: dict[str, Fraction],
                                                 whole: bool) -> None:
    allocated, shortfall = share_by_capacity(required, caps, whole)
    assert set(allocated) == set(caps)
    assert all(0 <= allocated[k] <= caps[k] for k in caps)
    assert sum(allocated.values()) + shortfall == required
    if sum(caps.values()) >= required:
        assert shortfall == 0
    else:
        assert shortfall == required - sum(caps.values())
    if whole:
        assert all(a.denominator == 1 for a in allocated.values())


@settings(max_examples=200, deadline=None)
@given(soap=st.integers(0, 5000), water=st.integers(0, 5000), charcoal=st.integers(0, 2000),
       fibre=st.integers(0, 3000))
def test_every_demand_is_met_by_the_plan(soap: int, water: int, charcoal: int, fibre: int) -> None:
    demand = {"sabun-kelapa": F(soap), "air-kelapa-kemasan": F(water), "arang-tempurung": F(charcoal),
              "serat-sabut": F(fibre)}
    result = plan(coconut_processes(), demand)
    for process in result.processes:
        for item, made in process.output.items():
            assert made >= process.needed[item]  # never short of what is asked
            assert process.surplus[item] == made - process.needed[item] >= 0
        # The binding output has (almost) no surplus: less than one run's worth.
        binding = [item for item, per in zip(process.output, process.output.values(), strict=True)
                   if process.runs and process.surplus[item] < per / process.runs]
        assert binding or process.runs == 0
    nuts = result.process("kupas-belah").runs
    assert nuts == max(math.ceil(F(soap) * F("0.78") / F("0.40") / F("0.35")) if soap else 0,
                       math.ceil(F(water) / F("0.3125")) if water else 0,
                       math.ceil(F(charcoal) / F("0.30") / F("0.15")) if charcoal else 0,
                       math.ceil(F(fibre) / F("0.75") / F("0.4375")) if fibre else 0, 0)
