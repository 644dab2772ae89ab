"""Decide which articles each output gets: plain functions over lists of articles."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from nieuwsbrief.articles import Article
from nieuwsbrief.schedule import Window


def newest_first(articles: Iterable[Article]) -> list[Article]:
    """Sort by date, newest first; the slug breaks ties so the order is stable."""
    return sorted(
        articles, key=lambda article: (article.date.astimezone(dt.UTC), article.slug), reverse=True
    )


def published(articles: Iterable[Article], now: dt.datetime) -> list[Article]:
    """Return the articles readers may see at ``now``: no drafts, nothing dated later."""
    moment = now.astimezone(dt.UTC)
    return newest_first(a for a in articles if not a.draft and a.date.astimezone(dt.UTC) <= moment)


def feed_articles(articles: Iterable[Article], now: dt.datetime, limit: int) -> list[Article]:
    """Return the newest ``limit`` published articles for the feeds."""
    return published(articles, now)[:limit]


def digest_articles(articles: Iterable[Article], window: Window, now: dt.datetime) -> list[Article]:
    """Return the published articles of a digest window, newest first."""
    return [article for article in published(articles, now) if window.covers(article.date)]


def held_back(articles: Iterable[Article], now: dt.datetime) -> tuple[list[Article], list[Article]]:
    """Return the articles readers cannot see at ``now``: (drafts, scheduled for later)."""
    moment = now.astimezone(dt.UTC)
    ordered = newest_first(articles)
    drafts = [article for article in ordered if article.draft]
    later = [a for a in ordered if not a.draft and a.date.astimezone(dt.UTC) > moment]
    return drafts, later
