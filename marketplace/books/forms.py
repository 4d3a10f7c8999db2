"""Forms of the cash book pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from marketplace.books.models import EXPENSE_CATEGORIES, INCOME_CATEGORIES, Direction, ShareBasis
from marketplace.forms import Form
from marketplace.labels import CASH_CATEGORY_LABELS, SHARE_BASIS_LABELS


class EntryForm(Form):
    """Income or an expense typed into the cash book. The amount is text on purpose: the service parses it
    ("150.000" works) and names the field in its error."""

    direction = RadioField(_l("Kind"), choices=[SelectChoice(Direction.EXPENSE.value, _l("Expense")),
                                                SelectChoice(Direction.INCOME.value, _l("Income"))],
                           default=Direction.EXPENSE.value, validators=[DataRequired()])
    category = SelectField(_l("Category"), validators=[DataRequired()])
    amount = StringField(_l("Amount (Rp)"), validators=[DataRequired()], render_kw={"inputmode": "numeric"})
    occurred_on = DateField(_l("Date"), validators=[InputRequired()])
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=500)])
    receipt = FileField(_l("Receipt photo (optional)"), render_kw={"accept": "image/*"})

    def fill_choices(self) -> None:
        expense, income = str(_l("Expense")), str(_l("Income"))
        self.category.choices = [
            SelectChoice(c.value, str(CASH_CATEGORY_LABELS[c]), optgroup=expense) for c in EXPENSE_CATEGORIES
        ] + [SelectChoice(c.value, str(CASH_CATEGORY_LABELS[c]), optgroup=income) for c in INCOME_CATEGORIES]


class SettingsForm(Form):
    share_basis = RadioField(_l("Share the profit"),
                             choices=[SelectChoice(b.value, SHARE_BASIS_LABELS[b]) for b in ShareBasis],
                             validators=[DataRequired()])
    contribution_unit = StringField(_l("Unit of contribution (e.g. hari, kg)"),
                                    validators=[Optional(), Length(max=20)])

