"""Forms of the "my KUBE" pages: products, stock, the KUBE profile, delivery, bank account, members and
orders.

Numbers are plain text fields on purpose: the services parse them (so "15.000" works) and name the
field in their error, which the view puts back on the form.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from marketplace import labels, regions
from marketplace.catalog.models import BusinessKind, Category, MemberRole, Unit
from marketplace.catalog.services import DeliveryOptions, KubeInput
from marketplace.forms import Form


class ProductForm(Form):
    name = StringField(_l("Product name"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    category_id = SelectField(_l("Category"), choices=[], validate_choice=False)
    unit = SelectField(_l("Sold per"), choices=[], validate_choice=False)
    price = StringField(_l("Price per unit (Rp)"), validators=[DataRequired()])
    stock = StringField(_l("Stock"), default="0")
    min_order_qty = StringField(_l("Minimum order"), default="1")
    weight_grams = StringField(_l("Weight per unit (grams)"), default="0")
    stock_shown = HiddenField()  # what the form showed: the change is applied on top of later orders
    photo = MultipleFileField(_l("Add photos"))
    save = SubmitField(_l("Save as draft"))
    send = SubmitField(_l("Save and send for review"))

    def fill_choices(self, categories: list[Category]) -> None:
        """Category select with sub-categories indented under their parent; units with their labels."""
        choices: list[SelectChoice] = [SelectChoice("", str(_l("Choose a category")))]
        for parent in categories:
            choices.append(SelectChoice(str(parent.id), labels.category_name(parent)))
            choices += [SelectChoice(str(child.id), "\u00a0\u00a0\u00a0– " + labels.category_name(child))
                        for child in parent.children]
        self.category_id.choices = choices
        self.unit.choices = [SelectChoice(unit.value, labels.unit_label(unit)) for unit in Unit]

    def values(self) -> dict[str, object]:
        """The fields as the product services take them."""
        return {
            "name": self.name.data or "",
            "description": self.description.data or "",
            "category_id": self.category_id.data or "",
            "unit": self.unit.data or "",
            "price": self.price.data or "",
            "stock": self.stock.data or "",
            "min_order_qty": self.min_order_qty.data or "",
            "weight_grams": self.weight_grams.data or "",
        }


class StockForm(Form):
    stock = StringField(_l("Stock"), validators=[DataRequired()])
    stock_shown = HiddenField()  # what the page showed: the change is applied on top of later orders



def _role_choices() -> list[SelectChoice]:
    return [SelectChoice(role.value, labels.role_label(role)) for role in MemberRole]


class KubeForm(Form):
    """A KUBE's profile; the region is chosen province -> kabupaten -> kecamatan -> desa."""

    name = StringField(_l("KUBE name"), validators=[DataRequired(), Length(max=120)])
    business_kind = SelectField(_l("Kind of business"), choices=[], validate_choice=False)
    founded_on = DateField(_l("Founded on"), validators=[Optional()])
    story = TextAreaField(_l("Our story"), validators=[Optional(), Length(max=5000)])
    phone = StringField(_l("Phone / WhatsApp"), validators=[Optional(), Length(max=30)])
    address = StringField(_l("Address (street, RT/RW, dusun)"), validators=[Optional(), Length(max=255)])
    province_code = SelectField(_l("Province"), choices=[], validate_choice=False)
    regency_code = SelectField(_l("Kabupaten / kota"), choices=[], validate_choice=False)
    district_code = SelectField(_l("Kecamatan"), choices=[], validate_choice=False)
    village_code = SelectField(_l("Desa / kelurahan"), choices=[], validate_choice=False)

    def fill_choices(self) -> None:
        """Fill the selects; a lower region that does not belong to the chosen upper one is cleared."""
        self.business_kind.choices = [SelectChoice("", str(_l("Choose")))] + [
            SelectChoice(kind.value, labels.business_kind_label(kind)) for kind in BusinessKind
        ]
        levels = [self.province_code, self.regency_code, self.district_code, self.village_code]
        parent: str | None = None
        for level, field in enumerate(levels):
            options = regions.children(parent) if level == 0 or parent else ()
            codes = {region.code for region in options}
            if field.data not in codes:
                field.data = ""
            field.choices = [SelectChoice("", str(_l("Choose")))] + [
                SelectChoice(region.code, region.name) for region in options
            ]
            parent = field.data or None


    def values(self) -> KubeInput:
        """The profile as the KUBE services take it."""
        return KubeInput(
            name=self.name.data or "",
            village_code=self.village_code.data or "",
            business_kind=self.business_kind.data or "",
            address=self.address.data or "",
            founded_on=self.founded_on.data,
            story=self.story.data or "",
            phone=self.phone.data,
        )


class KubePhotoForm(Form):
    photo = FileField(_l("Group photo"))


class BankForm(Form):
    bank_name = StringField(_l("Bank"), validators=[DataRequired(), Length(max=60)])
    account_number = StringField(_l("Account number"), validators=[DataRequired(), Length(max=34)])
    account_holder = StringField(_l("Account holder"), validators=[DataRequired(), Length(max=120)])


class MemberForm(Form):
    email = EmailField(_l("Member's e-mail"), validators=[DataRequired(), Length(max=254)])
    role = SelectField(_l("Role"), choices=_role_choices, default=MemberRole.ANGGOTA.value)
    # Checked by the service (16 digits, a province code first); only officers, facilitators and operators see it.
    nik = StringField(_l("NIK (16 digits, as in the poverty register)"), validators=[Optional(), Length(max=40)])


class NikForm(Form):
    """Enter or correct one member's NIK (empty clears it)."""

    nik = StringField(_l("NIK"), validators=[Optional(), Length(max=40)])


class MemberRoleForm(Form):
    role = SelectField(_l("Role"), choices=_role_choices)


class DeliveryForm(Form):
    """The KUBE's delivery options; the fees are whole Rupiah (parsed by the service, "10.000" works)."""

    pickup_enabled = BooleanField(_l("Buyers can pick up their order at the KUBE"))
    courier_enabled = BooleanField(_l("We send orders by courier"))
    courier_base_fee = StringField(_l("Courier base fee (Rp)"), validators=[DataRequired()])
    courier_fee_per_kg = StringField(_l("Courier fee per kg (Rp)"), validators=[DataRequired()])

    def values(self) -> DeliveryOptions:
        return DeliveryOptions(
            pickup_enabled=bool(self.pickup_enabled.data),
            courier_enabled=bool(self.courier_enabled.data),
            courier_base_fee=self.courier_base_fee.data or "",
            courier_fee_per_kg=self.courier_fee_per_kg.data or "",
        )


class ShipForm(Form):
    """Mark an order shipped: the courier and tracking number (a pickup order needs neither)."""

    courier = StringField(_l("Courier"), validators=[Optional(), Length(max=60)])
    tracking_number = StringField(_l("Tracking number"), validators=[Optional(), Length(max=80)])


class CancelOrderForm(Form):
    reason = TextAreaField(_l("Reason (the buyer sees it)"), validators=[Optional(), Length(max=500)])
