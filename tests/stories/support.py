"""Stories test data, made through the services."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from marketplace.catalog.services import ImageLimits
from marketplace.stories import services
from marketplace.stories.models import Story
from marketplace.stories.services import StoryInput
from tests import factories
from tests.factories import World

BODY = "Kami mulai dengan lima kepala keluarga.\n\nSekarang sabut kelapa kami dijual ke pabrik."


def limits(media_root: str | Path) -> ImageLimits:
    return ImageLimits(str(media_root), 5 * 1024 * 1024, 20_000_000)


def draft(session: Session, world: World, title: str = "Dari sabut jadi penghasilan", *,
          summary: str = "Sabut kelapa yang dulu dibuang kini dijual.", body: str = BODY) -> Story:
    return services.create_story(session, world.facilitator_a, world.kube_a.id,
                                 StoryInput(title=title, summary=summary, body=body))


def published(session: Session, world: World, title: str = "Dari sabut jadi penghasilan", *,
              media_root: str | Path | None = None, photos: int = 0) -> Story:
    story = draft(session, world, title)
    for _ in range(photos):
        assert media_root is not None
        services.add_photo(session, world.facilitator_a, story.id, factories.png_bytes(), limits(media_root))
    services.submit_story(session, world.facilitator_a, story.id)
    services.publish_story(session, world.operator, story.id)
    return story
