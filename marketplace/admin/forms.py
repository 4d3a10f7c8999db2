"""Forms of the operator pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from marketplace import labels
from marketplace.catalog.models import Category
from marketplace.forms import Form
from marketplace.web import MAX_ID


class CategoryForm(Form):
    """Create (no category_id) or rename/move (with category_id) a category."""

    category_id = IntegerField(widget=HiddenInput(), validators=[Optional(), NumberRange(1, MAX_ID)])
    name_id = StringField(_l("Name (Indonesian)"), validators=[DataRequired(), Length(max=80)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=80)])
    parent_id = SelectField(_l("Parent"), choices=[], validate_choice=False)
    icon = StringField(_l("Icon (emoji)"), validators=[Optional(), Length(max=8)])
    position = IntegerField(_l("Position"), default=0, validators=[Optional(), NumberRange(0, 10_000)])

    def fill_choices(self, top_level: list[Category]) -> None:
        self.parent_id.choices = [SelectChoice("", str(_l("— none (top level) —")))] + [
            SelectChoice(str(c.id), labels.category_name(c)) for c in top_level
        ]

    def parent(self) -> int | None:
        raw = (self.parent_id.data or "").strip()
        return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 10 else None


class DeleteForm(Form):
    category_id = IntegerField(widget=HiddenInput(), validators=[DataRequired(), NumberRange(1, MAX_ID)])


class RolesForm(Form):
    user_id = IntegerField(widget=HiddenInput(), validators=[DataRequired(), NumberRange(1, MAX_ID)])
    is_operator = BooleanField(_l("Operator"))
    is_facilitator = BooleanField(_l("Facilitator"))
    is_ministry = BooleanField(_l("Ministry / Dinas Sosial"))
    is_disabled = BooleanField(_l("Disabled"))


class UnlockForm(Form):
    """End a sign-in lockout early."""

    user_id = IntegerField(widget=HiddenInput(), validators=[DataRequired(), NumberRange(1, MAX_ID)])


class AssignForm(Form):
    kube_id = SelectField(_l("KUBE"), coerce=int, choices=[])
    facilitator_id = SelectField(_l("Facilitator"), coerce=int, choices=[])


class UnassignForm(Form):
    kube_id = IntegerField(widget=HiddenInput(), validators=[DataRequired(), NumberRange(1, MAX_ID)])
    facilitator_id = IntegerField(widget=HiddenInput(), validators=[DataRequired(), NumberRange(1, MAX_ID)])


class ConfirmForm(Form):
    """A bare POST button (confirm a bank transfer): only the CSRF token."""
