"""The Atom feed of the progress of the collaborations with the city, made with feedgen on
the channel the event feeds use (`event_feeds.new_feed`).

An entry is one progress update: which collaboration and commitment, which party, the
value against the target where it is measurable, the note and the link. It carries only
what the collaboration's public page shows: never who recorded it. Its date is when it
was recorded (feed readers sort by it); the day the progress is of opens its text.
"""

from collections.abc import Iterable

from flask_babel import format_date
from flask_babel import gettext as _

from ..i18n import DATE, measure
from ..models import Collaboration, ProgressUpdate, utcnow
from .event_feeds import new_feed
from .mail import external_url


def update_anchor(update: ProgressUpdate) -> str:
    """The id of the update on its collaboration's page (the timeline's entry)."""
    return f"update-{update.id}"


def _value_text(update: ProgressUpdate) -> str:
    """`82 %`, or `82 % (target 70 %)` for a measurable commitment; empty without a value."""
    if update.value is None:
        return ""
    commitment = update.commitment
    unit = f" {commitment.unit}" if commitment.unit else ""
    text = f"{measure(update.value)}{unit}"
    if commitment.target is not None:
        text += " " + _("(target %(target)s)", target=f"{measure(commitment.target)}{unit}")
    return text


def _entry_text(update: ProgressUpdate) -> str:
    """The day and the party first, then the value, the note and the link."""
    commitment = update.commitment
    lines = [
        f"{format_date(update.on, DATE)} · {commitment.party.organisation.title}",
        commitment.title,
    ]
    value = _value_text(update)
    if value:
        lines.append(value)
    lines.extend(part for part in (update.note, update.link) if part)
    return "\n\n".join(lines)


def progress_feed(
    updates: Iterable[ProgressUpdate],
    *,
    page_url: str,
    self_url: str,
    lang: str | None = None,
    collaboration: Collaboration | None = None,
) -> bytes:
    """An Atom feed of `updates` in their order (newest first), in the current language:
    of the whole register, or of `collaboration` alone.

    `page_url` is the page the feed follows, `self_url` the feed's own address. An entry
    links to the update on its collaboration's page, in the language `lang` when one was
    asked for; its id is that address without a language, the same in both languages.
    Needs each update's commitment, party, organisation and collaboration loaded.
    """
    if collaboration is None:
        title = _("MeentCoop · Collaborations with the city")
        subtitle = _("Progress of the koppels, Green Deals and clusters")
    else:
        title = f"MeentCoop · {collaboration.title}"
        subtitle = _("Progress of this collaboration")
    feed = new_feed(title, subtitle, page_url=page_url, self_url=self_url)
    newest = None
    for update in updates:
        commitment = update.commitment
        slug = commitment.collaboration.slug
        anchor = update_anchor(update)
        entry = feed.add_entry(order="append")
        entry.id(f"{external_url('collaborations.show', slug=slug)}#{anchor}")
        value = _value_text(update)
        title = f"{commitment.collaboration.title}: {commitment.title}"
        entry.title(f"{title} · {value}" if value else title)
        link_args = {"lang": lang} if lang else {}
        entry.link(href=f"{external_url('collaborations.show', slug=slug, **link_args)}#{anchor}")
        entry.summary(_entry_text(update))
        entry.published(update.created_at)
        entry.updated(update.created_at)
        entry.author({"name": commitment.party.organisation.title})
        newest = max(newest or update.created_at, update.created_at)
    # The feed changes when an update is recorded; an empty one is as new as now.
    feed.updated(newest or utcnow())
    return feed.atom_str(pretty=False)
