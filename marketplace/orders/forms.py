"""Forms of the cart, checkout and a buyer's orders. Quantities are text: the services parse and name them."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from marketplace.forms import Form


class AddToCartForm(Form):
    product_id = HiddenField()
    quantity = StringField(_l("Quantity"), default="1")


class QuantityForm(Form):
    quantity = StringField(_l("Quantity"))


class CheckoutForm(Form):
    """Recipient and address (used by the KUBEs that send by courier) and the payment method. Each KUBE's
    delivery choice comes as a radio named delivery-<kube id> (read by the view)."""

    recipient_name = StringField(_l("Recipient's name"), validators=[Optional(), Length(max=120)])
    recipient_phone = StringField(_l("Phone number"), validators=[Optional(), Length(max=30)])
    address = TextAreaField(_l("Delivery address"), validators=[Optional(), Length(max=1000)])
    payment_method = RadioField(_l("Payment"), choices=[], validate_choice=False, default="manual")


class CancelForm(Form):
    reason = StringField(_l("Reason"), validators=[Length(max=500)])


class MessageForm(Form):
    body = TextAreaField(_l("Message"), validators=[Length(max=2000)])
