"""Forms of the privacy pages: asking for deletion (with the password), withdrawing, and the operators' answers."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, TextAreaField
from wtforms.validators import DataRequired, Length

from marketplace.forms import Form


class ErasureForm(Form):
    password = PasswordField(_l("Your password, to confirm"), validators=[DataRequired(), Length(max=200)])



class RefuseForm(Form):
    reason = TextAreaField(_l("Why (the user reads it)"), validators=[DataRequired(), Length(max=1000)])
