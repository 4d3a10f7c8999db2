"""Forms of the webhook pages."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from marketplace.forms import Form
from marketplace.webhooks.services import EVENTS


class EndpointForm(Form):
    """Add or edit a partner's endpoint."""

    url = StringField(_l("URL"), validators=[DataRequired(), Length(max=500)])
    description = StringField(_l("Description"), validators=[Length(max=200)])
    events = SelectMultipleField(_l("Events"), choices=[], validate_choice=False,
                                 widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())

    def fill_choices(self) -> None:
        self.events.choices = [SelectChoice(name, f"{name}: {gettext(label)}") for name, label in EVENTS.items()]

