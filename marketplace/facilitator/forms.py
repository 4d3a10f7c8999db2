"""Forms of the facilitator pages (the KUBE form itself is shared with "my KUBE")."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, DateField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from marketplace.facilitator.services import VisitInput
from marketplace.forms import Form
from marketplace.shop.forms import KubeForm

__all__ = ["KubeForm", "SendBackForm", "VisitForm"]


class SendBackForm(Form):
    """Sending a product back to its KUBE needs a note saying what to fix (the service requires it)."""

    note = TextAreaField(_l("What should the KUBE fix?"), validators=[Length(max=1000)])


class VisitForm(Form):
    """A field visit report; the service checks the date, the links and the photos again."""

    visited_on = DateField(_l("Date of the visit"), validators=[InputRequired()])
    notes = TextAreaField(_l("What happened on the visit"), validators=[DataRequired(), Length(max=5000)])
    guidance_given = BooleanField(_l("Technical or motivational guidance given"))
    business_monitored = BooleanField(_l("Business monitored (production, sales, stock)"))
    bookkeeping_checked = BooleanField(_l("Cash book checked"))
    problems_found = BooleanField(_l("Problems found"))
    problems = TextAreaField(_l("Problems"), validators=[Optional(), Length(max=2000)])
    follow_up = TextAreaField(_l("Follow-up planned"), validators=[Optional(), Length(max=2000)])
    video_links = TextAreaField(_l("Video links"), validators=[Optional(), Length(max=6000)])
    photos = MultipleFileField(_l("Add photos"))

    def values(self) -> VisitInput:
        return VisitInput(
            visited_on=self.visited_on.data,
            notes=self.notes.data or "",
            video_links=self.video_links.data or "",
            guidance_given=bool(self.guidance_given.data),
            business_monitored=bool(self.business_monitored.data),
            bookkeeping_checked=bool(self.bookkeeping_checked.data),
            problems_found=bool(self.problems_found.data),
            problems=self.problems.data or "",
            follow_up=self.follow_up.data or "",
        )
