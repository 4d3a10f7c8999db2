"""Forms of the payments feature."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField
from wtforms.validators import Length

from marketplace.forms import Form


class RefundSentForm(Form):
    refund_id = HiddenField()
    reference = StringField(_l("Bank reference of the transfer"), validators=[Length(max=80)])
