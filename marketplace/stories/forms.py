"""Forms of the stories pages. The services check the lengths again and name the field in their errors."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from marketplace.forms import Form
from marketplace.stories.services import BODY_MAX, CAPTION_MAX, NOTE_MAX, SUMMARY_MAX, TITLE_MAX, StoryInput


class StoryForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=TITLE_MAX)])
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=SUMMARY_MAX)])
    body = TextAreaField(_l("The story"), validators=[Optional(), Length(max=BODY_MAX)])
    photo = FileField(_l("Add a photo"))
    caption = StringField(_l("Photo caption"), validators=[Optional(), Length(max=CAPTION_MAX)])
    save = SubmitField(_l("Save as draft"))
    send = SubmitField(_l("Save and send to the operators"))

    def values(self) -> StoryInput:
        return StoryInput(title=self.title.data or "", summary=self.summary.data or "", body=self.body.data or "")



class NoteForm(Form):
    """Send back (a note is needed) or unpublish (a note is optional): the service decides."""

    note = TextAreaField(_l("Note for the facilitator"), validators=[Optional(), Length(max=NOTE_MAX)])
