"""The digest archive page, ``digests/index.html``: every digest sent, newest first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from nieuwsbrief.config import Settings
from nieuwsbrief.dutch import dutch_date
from nieuwsbrief.feeds import RSS_FILE, feed_url
from nieuwsbrief.templating import TEMPLATES_DIR, filter_links, render_template

ARCHIVE_TEMPLATE = "archive.html.j2"


def render_archive(
    settings: Settings,
    manifests: Sequence[Mapping[str, Any]],
    topics: Mapping[str, Any] | None = None,
) -> bytes:
    """Render ``digests/index.html``: every digest, newest first.

    ``topics`` holds the topic layer's additions (docs/topics.md): ``feeds``, the per-topic
    feeds to advertise, and ``digests``, per week the per-topic digests.
    """
    digests = [
        {
            "week": manifest["week"],
            "subject": manifest["subject"],
            "send_date": dutch_date(
                dt.datetime.fromisoformat(manifest["send_at"]).astimezone(settings.digest.timezone)
            ),
            "count": len(manifest["articles"]) + len(manifest.get("overflow", [])),
            "href": f"{manifest['week']}/digest.html",
        }
        for manifest in sorted(manifests, key=lambda m: str(m["week"]), reverse=True)
    ]
    html = render_template(
        settings.project_dir / TEMPLATES_DIR,
        ARCHIVE_TEMPLATE,
        {
            "site": settings.site,
            "digests": digests,
            "rss_url": feed_url(settings, RSS_FILE),
            "topic_feeds": (topics or {}).get("feeds", []),
            "topic_digests": (topics or {}).get("digests", {}),
        },
        html=True,
    )
    html = filter_links(html, settings.project_dir / TEMPLATES_DIR / ARCHIVE_TEMPLATE)
    return html.encode("utf-8")
