"""The supply-chain planner: from the order takers' demand down to what each process and each KUBE must do.

Pure arithmetic on exact fractions (no database, no flask). A chain is a set of processes; each turns fixed
amounts of inputs into fixed amounts of one or more outputs per "run" (one nut split gives husk, shell, meat
and water at once: joint products). Planning goes from the most downstream process up:

1. the need for an item is its external demand plus what downstream processes consume of it;
2. a process runs enough times to cover the most demanding of its outputs (runs = max over outputs of
   need / yield), rounded up to whole runs when its input comes in pieces (nuts);
3. each output it then makes beyond the need is surplus (the other joint products), which KUBEs can sell;
4. the runs are shared among the process's KUBEs in proportion to their weekly capacity ("shares by
   capacity"), never above a KUBE's capacity; what the capacity cannot cover is the shortfall.

An item is made by at most one process of a chain; the processes form no cycle.

Default yields for the coconut chain come from ../shared domain notes "Coconut yields" (Balai Penelitian
Palma 2020 for nut weight and water; Palungkun via Kompas 2009 for husk, shell and meat shares; copra and oil
milling figures; Hasibuan & Pardede 2023 for shell charcoal; Codex Stan 210 for the soap estimate).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction


class PlanError(ValueError):
    """The chain or the demand cannot be planned (an unknown item, a cycle, a second maker of one item)."""


@dataclass(frozen=True)
class Process:
    key: str
    inputs: Mapping[str, Fraction]  # item -> amount consumed per run
    outputs: Mapping[str, Fraction]  # item -> amount made per run (several: joint products)
    whole_runs: bool = False  # runs come in whole pieces (one run = one nut)
    capacities: Mapping[str, Fraction] = field(default_factory=dict)  # KUBE -> runs per period


@dataclass(frozen=True)
class ProcessPlan:
    key: str
    runs: Fraction
    required_input: dict[str, Fraction]
    output: dict[str, Fraction]
    needed: dict[str, Fraction]  # of each output, what downstream and the order takers take
    surplus: dict[str, Fraction]
    allocated: dict[str, Fraction]  # KUBE -> runs
    capacity: dict[str, Fraction]
    shortfall: Fraction  # runs no KUBE has capacity for


@dataclass(frozen=True)
class Plan:
    processes: list[ProcessPlan]  # upstream first
    raw_inputs: dict[str, Fraction]  # items no process of the chain makes: what must be bought or grown

    def process(self, key: str) -> ProcessPlan:
        return next(p for p in self.processes if p.key == key)


def _order(processes: Sequence[Process]) -> list[Process]:
    """Downstream first: a process comes before every process that makes one of its inputs."""
    maker: dict[str, Process] = {}
    for process in processes:
        for item in process.outputs:
            if item in maker:
                raise PlanError(f"{item} is made by both {maker[item].key} and {process.key}")
            maker[item] = process
    ordered: list[Process] = []
    state: dict[str, int] = {}  # 1 = visiting, 2 = done

    def visit(process: Process) -> None:
        # Depth-first over the consumers: a process is placed after all processes that consume its outputs.
        if state.get(process.key) == 2:
            return
        if state.get(process.key) == 1:
            raise PlanError(f"the chain has a cycle through {process.key}")
        state[process.key] = 1
        for other in processes:
            if other is not process and any(item in other.inputs for item in process.outputs):
                visit(other)
        state[process.key] = 2
        ordered.append(process)

    for process in processes:
        visit(process)
    return ordered


def share_by_capacity(required: Fraction, capacities: Mapping[str, Fraction],
                      whole: bool = False) -> tuple[dict[str, Fraction], Fraction]:
    """Split `required` among KUBEs in proportion to their capacities, never above one's capacity.
    Returns (allocation, shortfall). With `whole`, allocations are whole numbers (largest remainders get the
    leftover units) and still add up to the requirement when capacity suffices."""
    total = sum(capacities.values(), Fraction(0))
    if required <= 0 or total <= 0:
        return {kube: Fraction(0) for kube in capacities}, max(required, Fraction(0))
    if required >= total:
        return dict(capacities), required - total
    shares = {kube: required * cap / total for kube, cap in capacities.items()}
    if not whole:
        return shares, Fraction(0)
    floors = {kube: Fraction(math.floor(share)) for kube, share in shares.items()}
    left = int(required - sum(floors.values()))
    # The leftover units go to the largest remainders that still have room (ties: in name order).
    for kube in sorted(shares, key=lambda k: (-(shares[k] - floors[k]), k)):
        if left <= 0:
            break
        if floors[kube] + 1 <= capacities[kube]:
            floors[kube] += 1
            left -= 1
    return floors, Fraction(0)


def plan(processes: Sequence[Process], demand: Mapping[str, Fraction]) -> Plan:
    """The plan for one period's demand (item -> amount) on a chain."""
    made = {item for p in processes for item in p.outputs}
    for item, amount in demand.items():
        if item not in made:
            raise PlanError(f"no process of the chain makes {item}")
        if amount < 0:
            raise PlanError(f"the demand for {item} is negative")
    need: dict[str, Fraction] = {item: Fraction(amount) for item, amount in demand.items()}
    plans: list[ProcessPlan] = []
    for process in _order(processes):
        needed = {item: need.get(item, Fraction(0)) for item in process.outputs}
        runs = max((needed[item] / per_run for item, per_run in process.outputs.items() if per_run > 0),
                   default=Fraction(0))
        if process.whole_runs:
            runs = Fraction(math.ceil(runs))
        required_input = {item: per_run * runs for item, per_run in process.inputs.items()}
        for item, amount in required_input.items():
            need[item] = need.get(item, Fraction(0)) + amount
        output = {item: per_run * runs for item, per_run in process.outputs.items()}
        allocated, shortfall = share_by_capacity(runs, process.capacities, process.whole_runs)
        plans.append(ProcessPlan(
            key=process.key, runs=runs, required_input=required_input, output=output, needed=needed,
            surplus={item: output[item] - needed[item] for item in output},
            allocated=allocated, capacity=dict(process.capacities), shortfall=shortfall,
        ))
    plans.reverse()  # upstream first, as people read a chain
    raw = {item: amount for item, amount in need.items() if item not in made}
    return Plan(plans, raw)


def coconut_processes(capacities: Mapping[str, Mapping[str, Fraction]] | None = None) -> list[Process]:
    """The Banggai coconut chain with the default yields (see the module's docstring for the sources).
    Runs are counted in the input: one nut, one kg of meat, one kg of shell..."""
    caps = capacities or {}
    f = Fraction
    return [
        # 1 nut (1.25 kg): husk 35 %, shell 12 %, meat 28 %, water 25 % of its weight.
        Process("kupas-belah", {"kelapa-butir": f(1)},
                {"sabut": f("0.4375"), "tempurung": f("0.15"), "daging-kelapa": f("0.35"),
                 "air-kelapa": f("0.3125")}, whole_runs=True, capacities=caps.get("kupas-belah", {})),
        # 5 nuts (1.75 kg meat) give 1 kg copra, and copra gives 70 % oil: 0.40 kg oil per kg meat.
        Process("minyak-kelapa", {"daging-kelapa": f(1)}, {"minyak-kelapa": f("0.40")},
                capacities=caps.get("minyak-kelapa", {})),
        Process("sabun", {"minyak-kelapa": f("0.78")}, {"sabun-kelapa": f(1)}, capacities=caps.get("sabun", {})),
        Process("arang-tempurung", {"tempurung": f(1)}, {"arang-tempurung": f("0.30")},
                capacities=caps.get("arang-tempurung", {})),
        Process("air-kelapa", {"air-kelapa": f(1)}, {"air-kelapa-kemasan": f(1)},
                capacities=caps.get("air-kelapa", {})),
        Process("sabut", {"sabut": f(1)}, {"serat-sabut": f("0.75")}, capacities=caps.get("sabut", {})),
    ]
