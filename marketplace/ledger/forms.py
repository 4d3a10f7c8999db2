"""Forms of the ledger pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from marketplace.forms import Form


class PayoutForm(Form):
    """A bank transfer the operator made to a KUBE. The amount is text on purpose: the service parses it
    ("150.000" works) and names the field in its error."""

    amount = StringField(_l("Amount transferred (Rp)"), validators=[DataRequired()])
    reference = StringField(_l("Bank reference"), validators=[DataRequired(), Length(max=80)])
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=1000)])
