"""Forms of the sourcing pages: requests, quotes, deliveries, lots and delivery payments.

Quantities, prices and dates the services parse are plain text or optional fields on purpose: the services
read "1.500" and "2,5" and name the field in their error, which the view puts back on the form.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import DateField, FieldList, FormField, HiddenField, SelectField, StringField, TextAreaField
from wtforms import Form as PlainForm
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from marketplace import labels
from marketplace.catalog.models import Unit
from marketplace.forms import Form
from marketplace.sourcing.models import Schedule
from marketplace.sourcing.services import UNITS

MAX_SOURCE_ROWS = 5  # rows of the "made from" part of the lot form
MAX_JOINT_ROWS = 3  # other products of the same run (a nut gives four)

SCHEDULE_LABELS = {
    Schedule.ONCE: _l("Once"),
    Schedule.WEEKLY: _l("Every week"),
    Schedule.MONTHLY: _l("Every month"),
}


def unit_name(unit: str) -> str:
    """A unit of a request or lot in the page's language (units the shop does not sell as they are)."""
    try:
        return labels.unit_label(Unit(unit))
    except ValueError:
        return unit


def _unit_choices() -> list[SelectChoice]:
    return [SelectChoice(unit, unit_name(unit)) for unit in UNITS]


def _schedule_choices() -> list[SelectChoice]:
    return [SelectChoice(schedule.value, str(label)) for schedule, label in SCHEDULE_LABELS.items()]


class RequestForm(Form):
    """What an order taker wants. The delivery region is a province and, optionally, one of its kabupaten
    (the kabupaten list follows the province, as in the KUBE profile's region picker)."""

    item_name = StringField(_l("Item"), validators=[Optional(), Length(max=120)])
    item = SelectField(_l("Or a product of an integrated business"), choices=[], validate_choice=False)
    quantity = StringField(_l("Quantity per delivery"), validators=[DataRequired()])
    unit = SelectField(_l("Unit"), choices=_unit_choices, validate_choice=False)
    schedule = SelectField(_l("How often"), choices=_schedule_choices, validate_choice=False,
                           default=Schedule.ONCE.value)
    starts_on = DateField(_l("First delivery"), validators=[Optional()])
    until = DateField(_l("Last delivery by"), validators=[Optional()])
    target_price = StringField(_l("Target price per unit (Rp, optional)"), validators=[Optional()])
    province_code = SelectField(_l("Delivered to (province)"), choices=[], validate_choice=False)
    regency_code = SelectField(_l("Kabupaten / kota (optional)"), choices=[], validate_choice=False)
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=2000)])


class QuoteForm(Form):
    """A price for a request, for one of the KUBEs or chains the user may quote for ("kube:<id>" or
    "chain:<slug>")."""

    quote_for = SelectField(_l("Quote for"), choices=[], validate_choice=False)
    price_per_unit = StringField(_l("Price per unit (Rp)"), validators=[DataRequired()])
    quantity = StringField(_l("Quantity per delivery"), validators=[DataRequired()])
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=2000)])


class DeliveryForm(Form):
    """Goods sent against a contract: from one lot, for one scheduled date."""

    lot_code = SelectField(_l("From lot"), choices=[], validate_choice=False)
    due_on = SelectField(_l("For the delivery due on"), choices=[], validate_choice=False)
    quantity = StringField(_l("Quantity sent"), validators=[DataRequired()])
    delivered_on = DateField(_l("Sent on"), validators=[Optional()], default=date.today)


class SourceRow(PlainForm):
    """One lot this lot was made from (a row of the lot form; the CSRF token is the outer form's)."""

    lot_code = StringField(_l("Lot code"))
    quantity = StringField(_l("Quantity used"))


class RowList(FieldList):
    """Rows of a form ("sources-0-lot_code"): a row number is ASCII digits ("sources-²-x" is no row; WTForms
    would take it as one and fail on int("²"))."""

    def _extract_indices(self, prefix: str, formdata: Iterable[str]) -> Iterator[int]:
        offset = len(prefix) + 1
        for key in formdata:
            if key.startswith(prefix):
                index = key[offset:].split(self._field_separator, 1)[0]
                if index.isascii() and index.isdigit() and len(index) < 4:
                    yield int(index)


class JointRow(PlainForm):
    """Another product of the same run (joint products: the husk, shell and water of the same nuts)."""

    output = SelectField(_l("Product"), choices=[], validate_choice=False)
    quantity = StringField(_l("Quantity made"))


class LotForm(Form):
    """A batch the KUBE made: a free item, or an output of a process it runs in a chain ("<chain slug>/<process
    key>/<item>"); and the lots it was made from."""

    output = SelectField(_l("Made in an integrated business"), choices=[], validate_choice=False)
    item_name = StringField(_l("Item"), validators=[Optional(), Length(max=120)])
    unit = SelectField(_l("Unit"), choices=_unit_choices, validate_choice=False)
    quantity = StringField(_l("Quantity made"), validators=[DataRequired()])
    made_on = DateField(_l("Made on"), validators=[Optional()], default=date.today)
    joint = RowList(FormField(JointRow), min_entries=MAX_JOINT_ROWS, max_entries=MAX_JOINT_ROWS)
    sources = RowList(FormField(SourceRow), min_entries=MAX_SOURCE_ROWS, max_entries=MAX_SOURCE_ROWS)
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=2000)])

    def joint_pairs(self) -> list[tuple[str, str]]:
        """The filled joint-product rows as (output "<chain>/<process>/<item>", quantity made)."""
        pairs = []
        for row in self.joint:
            output, made = (row.form.output.data or "").strip(), (row.form.quantity.data or "").strip()
            if output or made:
                pairs.append((output, made))
        return pairs

    def source_pairs(self) -> list[tuple[str, str]]:
        """The filled rows as (lot code, quantity used)."""
        pairs = []
        for row in self.sources:
            code, used = (row.form.lot_code.data or "").strip(), (row.form.quantity.data or "").strip()
            if code or used:
                pairs.append((code, used))
        return pairs


class HandoverForm(Form):
    """A KUBE hands one of its chain lots over to the next KUBE of the chain (empty: takes it back)."""

    kube = SelectField(_l("Hand over to"), choices=[], validate_choice=False)


class DeliveryPaidForm(Form):
    """An operator saw the order taker's bank transfer for one delivery."""

    delivery_id = HiddenField()
    reference = StringField(_l("Bank reference of the transfer"), validators=[Length(max=80)])
