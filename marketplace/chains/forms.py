"""Forms of the chain pages: a chain, its processes, their inputs and outputs, their KUBEs.

Amounts, capacities and prices are plain text fields on purpose: the services parse them ("0,4375", "6.000")
and name the field in their error, which the view puts back on the form.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from marketplace import labels, regions
from marketplace.catalog.models import Kube, Unit
from marketplace.chains.models import ChainProcess, ProcessFlow, SupplyChain
from marketplace.chains.services import ChainInput, FlowInput, ProcessInput
from marketplace.forms import Form


class ChainForm(Form):
    """A chain's name and story, and where it works: a kabupaten / kota (or none: across regions)."""

    name = StringField(_l("Name of the chain"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    province_code = SelectField(_l("Province"), choices=[], validate_choice=False)
    regency_code = SelectField(_l("Kabupaten / kota"), choices=[], validate_choice=False)

    def fill(self, chain: SupplyChain) -> None:
        """The chain's values, for a form shown before anything is typed."""
        self.name.data = chain.name
        self.description.data = chain.description
        self.regency_code.data = chain.regency_code or ""
        self.province_code.data = (chain.regency_code or "").split(".")[0]

    def fill_choices(self) -> None:
        """Province and kabupaten selects; a kabupaten outside the chosen province is cleared."""
        parent: str | None = None
        for level, field in enumerate([self.province_code, self.regency_code]):
            options = regions.children(parent) if level == 0 or parent else ()
            if field.data not in {region.code for region in options}:
                field.data = ""
            field.choices = [SelectChoice("", str(_l("Any")))] + [
                SelectChoice(region.code, region.name) for region in options
            ]
            parent = field.data or None

    def values(self) -> ChainInput:
        return ChainInput(name=self.name.data or "", description=self.description.data or "",
                          regency_code=self.regency_code.data or None)


class ProcessForm(Form):
    name = StringField(_l("Name of the process"), validators=[DataRequired(), Length(max=120)])
    key = StringField(_l("Short code"), validators=[Optional(), Length(max=60)])
    position = StringField(_l("Position"), validators=[Optional(), Length(max=10)])
    whole_runs = BooleanField(_l("Runs come in whole pieces (one nut, one animal)"))
    yield_source = TextAreaField(_l("Where the yields come from"), validators=[Optional(), Length(max=2000)])

    def fill(self, process: ChainProcess) -> None:
        self.name.data = process.name
        self.key.data = process.key
        self.position.data = str(process.position)
        self.whole_runs.data = process.whole_runs
        self.yield_source.data = process.yield_source

    def values(self) -> ProcessInput:
        return ProcessInput(name=self.name.data or "", key=self.key.data or "", whole_runs=bool(self.whole_runs.data),
                            yield_source=self.yield_source.data or "", position=self.position.data or None)


def _unit_choices() -> list[SelectChoice]:
    return [SelectChoice("butir", str(_l("butir (whole pieces)")))] + [
        SelectChoice(unit.value, labels.unit_label(unit)) for unit in Unit
    ]


def _direction_choices() -> list[SelectChoice]:
    return [SelectChoice("in", str(_l("Input (taken in)"))), SelectChoice("out", str(_l("Output (made)")))]


class FlowForm(Form):
    """An input or an output of a process, per run."""

    direction = SelectField(_l("Input or output"), choices=_direction_choices)
    item_name = StringField(_l("Item"), validators=[DataRequired(), Length(max=120)])
    item = StringField(_l("Item code"), validators=[Optional(), Length(max=120)])
    unit = SelectField(_l("Unit"), choices=_unit_choices)
    amount = StringField(_l("Amount per run"), validators=[DataRequired(), Length(max=30)])
    price = StringField(_l("Chain price per unit (Rp)"), validators=[Optional(), Length(max=24)])

    def fill(self, flow: ProcessFlow) -> None:
        self.direction.data = flow.direction
        self.item_name.data = flow.item_name
        self.item.data = flow.item
        self.unit.data = flow.unit
        self.amount.data = decimal_text(flow.amount)
        self.price.data = "" if flow.price is None else str(flow.price)

    def values(self) -> FlowInput:
        return FlowInput(direction=self.direction.data, item_name=self.item_name.data or "", unit=self.unit.data,
                         amount=self.amount.data or "", item=self.item.data or "", price=self.price.data or None)


class AssignForm(Form):
    """Put a KUBE in a process (the list holds the KUBEs the signed-in user may place)."""

    kube = SelectField(_l("KUBE"), choices=[], validate_choice=False, validators=[DataRequired()])
    capacity = StringField(_l("Runs a week"), validators=[DataRequired(), Length(max=30)])

    def fill_choices(self, kubes: list[Kube]) -> None:
        self.kube.choices = [SelectChoice("", str(_l("Choose a KUBE")))] + [
            SelectChoice(kube.slug, kube.name) for kube in kubes
        ]


class CapacityForm(Form):
    capacity = StringField(_l("Runs a week"), validators=[DataRequired(), Length(max=30)])



def decimal_text(value: object) -> str:
    """An exact amount as Indonesians write it, without trailing zeros: 0,4375; 6.000; 1,5 (the services read
    it back as it is shown)."""
    whole, _dot, decimals = format(value, "f").partition(".")
    decimals = decimals.rstrip("0")
    return f"{int(whole):,}".replace(",", ".") + (f",{decimals}" if decimals else "")
