"""Run the whole pipeline: settings and articles in, feeds and digests written crash-safely."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nieuwsbrief.errors import (
    ArgumentError,
    BuildError,
    InputError,
    local_time,
)
from nieuwsbrief.output import check_out, claim, publish_claimed, quote

# The article loader, the settings and the schedule are imported where they are used: a
# build that stops early (shortcut.py) never loads them, nor YAML and Markdown with them.
if TYPE_CHECKING:
    from nieuwsbrief.articles import Article, Progress
    from nieuwsbrief.config import Settings
    from nieuwsbrief.digest import Digest
    from nieuwsbrief.reuse import Reuse
    from nieuwsbrief.schedule import Window
    from nieuwsbrief.shortcut import Listed


@dataclass
class Site:
    """Settings and every article of one project, loaded and validated."""

    settings: Settings
    articles: list[Article]
    warnings: list[str] = field(default_factory=list)


@dataclass
class Rendered:
    """Every output file of a build, and what the editor should know.

    ``files`` is a dict in memory, or a build's staged files (output.StagedFiles: on disk,
    read back on access).
    """

    files: MutableMapping[str, bytes]
    warnings: list[str] = field(default_factory=list)
    digest: Digest | None = None
    # Weeks whose digest (read back from the output folder) must go: all articles retracted.
    removed_weeks: list[str] = field(default_factory=list)

    @property
    def digest_week(self) -> str | None:
        """Return the ISO week of the digest this build wrote, if it wrote one."""
        return self.digest.week if self.digest else None


@dataclass
class BuildResult:
    """What a build wrote and what the editor should know about it."""

    out: Path
    files: dict[str, int]
    # Articles, or (from a build that stopped before loading them) what the record says of them.
    published: Sequence[Listed]
    digest_week: str | None
    warnings: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    # Left out of every output: drafts, and articles dated after --now.
    drafts: Sequence[Listed] = field(default_factory=list)
    scheduled: Sequence[Listed] = field(default_factory=list)


_WEEK_FILE = re.compile(r"^digests/\d{4}-W\d{2}/")


class EmptyFeedsError(BuildError):
    """The feeds would lose every item the published feeds hold; refused unless allowed."""


def load_site(project: Path, progress: Progress | None = None, *, cache: bool = False) -> Site:
    """Load and validate ``schedule.yaml`` and ``articles/`` of a project folder.

    With ``cache``, unchanged articles come from ``.nieuwsbrief-cache/`` in the project.
    """
    from nieuwsbrief.articles import ARTICLES_DIR, load_articles, scan_folder
    from nieuwsbrief.cache import ArticleCache
    from nieuwsbrief.config import SETTINGS_FILE, load_settings

    settings = load_settings(project / SETTINGS_FILE)
    articles_dir = project / ARTICLES_DIR
    if not articles_dir.is_dir():
        # Without this check a wrong --project publishes empty feeds over the real ones.
        raise InputError(
            articles_dir,
            "the articles folder is missing",
            # Absolute: "in ." names no folder a reader can find.
            fix=f"create the folder {articles_dir.absolute()}, even empty, or point to the "
            "project folder that has it",
        )
    article_cache = ArticleCache(project, settings.site) if cache else None
    # The cache wraps the loader from outside: articles.py never sees the cache.
    load = article_cache.load if article_cache is not None else None
    # One scan for the articles and the folder's warnings (10,000 lstat calls each).
    folder = scan_folder(articles_dir)
    articles = load_articles(articles_dir, settings.site, progress, load, folder)
    warnings = list(folder.warnings)
    if article_cache is not None:
        article_cache.save()
        warnings.extend(article_cache.warnings)
    return Site(settings, articles, warnings)


def digest_window(settings: Settings, now: dt.datetime, week: str | None = None) -> Window:
    """Return the window of the digest for ``week``, or of the latest send moment at ``now``."""
    from nieuwsbrief.schedule import latest_send_moment, send_moment_in_week, window_ending_at

    if week is None:
        return window_ending_at(settings.digest, latest_send_moment(settings.digest, now))
    try:
        return window_ending_at(settings.digest, send_moment_in_week(settings.digest, week))
    except ValueError as exc:
        raise ArgumentError("digest_week", str(exc)) from None


def render_site(
    site: Site,
    now: dt.datetime,
    *,
    digest_week: str | None = None,
    archive: Sequence[dict[str, Any]] = (),
    topic_archive: Sequence[dict[str, Any]] = (),
    topic_reuse: Reuse | None = None,
    files: MutableMapping[str, bytes] | None = None,
) -> Rendered:
    """Render every output file, by path relative to the output folder.

    ``topic_archive`` holds the per-topic digest manifests read back from the output folder.
    The files go into ``files`` (a build passes its staged files, and hands them to
    ``topic_reuse`` as well), or into a new dict in memory.
    """
    from nieuwsbrief import topics
    from nieuwsbrief.archive import render_archive
    from nieuwsbrief.digest import DIGESTS_DIR, render_digest
    from nieuwsbrief.feeds import render_feeds
    from nieuwsbrief.notice import notice_warnings
    from nieuwsbrief.select import digest_articles, published

    settings = site.settings
    rendered = Rendered(files={} if files is None else files)
    # Selected and sorted once (10,000 articles: 50 ms a time); each stage gets its own list.
    readable = published(site.articles, now)
    rendered.files.update(render_feeds(settings, list(readable), topic_reuse))
    rendered.files.update(render_topics(settings, list(readable), topic_reuse))
    topic_manifests = {(m["week"], m["topic"]["slug"]): m for m in topic_archive}
    rendered.warnings += [f"{f}: field '{k}': {m}" for f, k, m in notice_warnings(settings)]
    window = digest_window(settings, now, digest_week)
    zone = settings.digest.timezone
    articles = digest_articles(site.articles, window, now)
    if window.end.astimezone(dt.UTC) > now.astimezone(dt.UTC):
        # A --digest-week still to come: articles dated after --now are not published yet.
        rendered.warnings.append(
            f"digest {window.week} goes out at {local_time(window.end, zone)}, after now "
            f"({local_time(now, zone)}): it holds only the articles published by now"
        )
    manifests = {manifest["week"]: manifest for manifest in archive}
    if articles or settings.digest.empty_week == "send":
        digest, warnings = render_digest(settings, window, articles)
        rendered.files.update(digest.files())
        rendered.warnings.extend(warnings)
        rendered.digest = digest
        manifests[digest.week] = digest.manifest
        found = topics.group_topics(settings, list(readable))
        topic_digests, warnings = topics.render_topic_digests(settings, window, articles, found)
        for topic_digest in [digest, *topic_digests]:
            rendered.warnings.extend(topics.missing_notices(settings, topic_digest))
        for topic_digest in topic_digests:
            rendered.files.update(topic_digest.files())
            topic_manifests[(topic_digest.week, topic_digest.topic)] = topic_digest.manifest
        rendered.warnings.extend(warnings)
    else:
        rendered.warnings.append(
            f"no digest for {window.week}: no articles were published between "
            f"{local_time(window.start, zone)} and {local_time(window.end, zone)}"
        )
        if manifests.pop(window.week, None) is not None:
            rendered.removed_weeks.append(window.week)
            rendered.warnings.append(
                f"digest {window.week} removed from the output and the archive: "
                "none of its articles is published any more"
            )
    for week, manifest in sorted(manifests.items()):
        if week != window.week:
            _revisit(site, now, manifest, rendered, manifests)
    for week in rendered.removed_weeks:
        manifests.pop(week, None)
    shown = [m for (week, _), m in sorted(topic_manifests.items()) if week in manifests]
    extras = {
        "feeds": topics.archive_feeds(settings, list(readable)),
        "digests": topics.archive_topics(shown),
    }
    rendered.files[f"{DIGESTS_DIR}/index.html"] = render_archive(
        settings, list(manifests.values()), extras
    )
    return rendered


def _slugs(manifest: Mapping[str, Any]) -> list[str]:
    listed = [*manifest["articles"], *manifest.get("overflow", [])]
    return [str(item["slug"]) for item in listed]


def _names(slugs: Sequence[str]) -> str:
    return ", ".join(quote(slug) for slug in slugs[:5]) + (" …" if len(slugs) > 5 else "")


def _revisit(
    site: Site,
    now: dt.datetime,
    manifest: Mapping[str, Any],
    rendered: Rendered,
    manifests: dict[str, Any],
) -> None:
    """Decide what happens to an earlier digest read back from the output folder.

    A digest whose send moment is still to come is rebuilt from the articles published
    now (or removed when it has none). A sent digest is kept as it was sent, unless some of
    its articles were retracted (made drafts or deleted): then it is rebuilt with the ones
    still published, or removed with all of them gone.
    """
    from nieuwsbrief.digest import render_digest
    from nieuwsbrief.select import digest_articles, published

    settings = site.settings
    week = str(manifest["week"])
    window = digest_window(settings, now, week)
    listed = _slugs(manifest)
    if window.end.astimezone(dt.UTC) > now.astimezone(dt.UTC):
        keep = digest_articles(site.articles, window, now)
        if not keep and settings.digest.empty_week != "send":
            rendered.removed_weeks.append(week)
            rendered.warnings.append(
                f"digest {week} (goes out after now) removed: it has no published articles"
            )
            return
        if [article.slug for article in keep] != listed:
            rendered.warnings.append(
                f"digest {week} (goes out after now) rebuilt: its articles changed"
            )
    else:
        still = {article.slug for article in published(site.articles, now)}
        gone = [slug for slug in listed if slug not in still]
        if not gone:
            return
        keep = [
            article for article in published(site.articles, now) if article.slug in set(listed)
        ]
        if not keep:
            rendered.removed_weeks.append(week)
            rendered.warnings.append(
                f"digest {week} removed from the output and the archive: all its articles "
                f"were retracted ({_names(gone)})"
            )
            return
        rendered.warnings.append(
            f"digest {week} rebuilt without the retracted article(s) {_names(gone)}"
        )
    digest, warnings = render_digest(settings, window, keep)
    rendered.files.update(digest.files())
    rendered.warnings.extend(warnings)
    manifests[week] = digest.manifest


def _feed_items(data: bytes | None) -> int:
    """Return how many items a JSON Feed holds (0 when it cannot be read)."""
    if data is None:
        return 0
    try:
        feed = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):
        return 0
    items = feed.get("items") if isinstance(feed, dict) else None
    return len(items) if isinstance(items, list) else 0


def build(
    project: Path,
    out: Path,
    now: dt.datetime,
    *,
    digest_week: str | None = None,
    progress: Progress | None = None,
    cache: bool = True,
    allow_empty_feeds: bool = False,
) -> BuildResult:
    """Build the project into ``out``; on any error ``out`` keeps its previous contents.

    Only files nieuwsbrief wrote are ever replaced or removed. Unless ``allow_empty_feeds``,
    a build whose feeds would hold no items while the published feeds hold some is refused.
    """
    from nieuwsbrief import shortcut

    # The cache holds drafts' and future articles' titles and summaries: never a website.
    protect = (
        project,
        project / shortcut.ARTICLES_DIR,
        project / shortcut.TEMPLATES_DIR,
        project / shortcut.CACHE_DIR,
    )
    check_out(out, protect)
    # Stat every input before reading any: what is loaded below is at least as new.
    inputs = (
        shortcut.take_inputs(project, out, now, digest_week, allow_empty_feeds) if cache else None
    )
    if inputs is not None and inputs.as_recorded():
        with claim(out, protect) as folder:
            replayed = shortcut.replay(inputs, folder)
        if replayed is not None:
            # Inputs and --out as a build that wrote nothing found them: so would this one.
            return BuildResult(
                out=out,
                files=replayed.report.files,
                published=replayed.loaded.published,
                digest_week=replayed.report.digest_week,
                warnings=[*replayed.loaded.warnings, *replayed.report.warnings],
                removed=[],
                drafts=replayed.loaded.drafts,
                scheduled=replayed.loaded.scheduled,
            )
    from nieuwsbrief.articles import ARTICLES_DIR, InvalidArticles, date_errors
    from nieuwsbrief.select import held_back, published

    site = load_site(project, progress, cache=cache)
    now = site.settings.localize(now)
    if date_errors(site.articles, now):
        raise InvalidArticles(date_errors(site.articles, now))
    readable = published(site.articles, now)  # each use below gets its own copy
    from nieuwsbrief.reuse import shared_fingerprints

    # Read the old digests under the lock, so a build that finishes meanwhile is not lost
    # from the archive. The stop key and the topic files hash each article once.
    with claim(out, protect) as folder, shared_fingerprints():
        key = (
            shortcut.build_key(
                site.settings, site.articles, folder.path, now, digest_week, allow_empty_feeds
            )
            if cache
            else ""
        )
        known = shortcut.lookup(site.settings, key, folder) if cache else None
        if known is not None:
            # Inputs and --out as a build that wrote nothing left them: it would write nothing.
            drafts, scheduled = held_back(site.articles, now)
            if shortcut.worth_recording(inputs):
                loaded = shortcut.Loaded(
                    site.warnings, list(readable), drafts, scheduled
                )
                shortcut.save(site.settings, key, folder, known, inputs, loaded)
            return BuildResult(
                drafts=drafts,
                scheduled=scheduled,
                out=out,
                files=known.files,
                published=list(readable),
                digest_week=known.digest_week,
                warnings=[*site.warnings, *known.warnings],
                removed=[],
            )
        # Imported only by a build that renders: a stopped build never needs them.
        from nieuwsbrief.digest import DIGESTS_DIR
        from nieuwsbrief.feeds import FEED_FILES, JSON_FILE, MAX_OLD_FEED_BYTES, feed_changes

        archive, warnings = read_manifests(folder.path, owned=folder.record)
        from nieuwsbrief.reuse import Reuse

        def own(name: str) -> bytes | None:
            return folder.read_own(name, 50_000_000)

        # Each file is staged as soon as it is rendered; memory keeps its size and hash only.
        files = folder.stage()
        # Unchanged files whose lstat is as the last build found them stay in place unread.
        reuse = Reuse(
            site.settings,
            own if cache else None,
            files.update,
            files.keep if cache else None,
            files.digest,
        )
        rendered = render_site(
            site,
            now,
            digest_week=digest_week,
            archive=archive,
            topic_archive=read_topic_manifests(folder.path, folder.record),
            topic_reuse=reuse,
            files=files,
        )
        rendered.warnings[:0] = warnings
        before = _feed_items(folder.read_own(JSON_FILE, 50_000_000))
        if before and not _feed_items(rendered.files.get(JSON_FILE)) and not allow_empty_feeds:
            raise EmptyFeedsError(
                f"{folder.path / JSON_FILE} holds {before} item(s), and this build would "
                f"publish feeds without any (no published article in {project / ARTICLES_DIR}); "
                "nothing was written. Check the project folder and the drafts; if every "
                "article was retracted on purpose, allow empty feeds explicitly"
            )
        gone = tuple(f"{DIGESTS_DIR}/{week}/" for week in rendered.removed_weeks)
        # Earlier weeks' digests stay unless retracted; another file an earlier build wrote
        # in digests/ that this one does not (an archive page that no longer exists, which
        # would still list retracted weeks) goes too.
        removed = sorted(
            name
            for name in folder.record
            if name.startswith(gone)
            or (
                name.startswith(f"{DIGESTS_DIR}/")
                and name not in rendered.files
                and not _WEEK_FILE.match(name)
            )
        )
        # Topic files of a topic or article no longer published go with it.
        removed += read_topic_stale(folder.record, rendered.files)
        # Only feeds nieuwsbrief wrote (and nobody edited since) tell what was published.
        old_feeds = {
            name: data
            for name in FEED_FILES
            if (data := folder.read_own(name, MAX_OLD_FEED_BYTES)) is not None
        }
        rendered.warnings.extend(feed_changes(old_feeds, list(readable)))
        wrote = publish_claimed(folder, rendered.files, removed)
        reuse.save(folder.proven_files())
        if wrote or removed or not cache:
            shortcut.forget(site.settings)
        else:
            report = shortcut.Report(files.sizes(), rendered.digest_week, rendered.warnings)
            loaded = shortcut.Loaded(
                site.warnings, list(readable), *held_back(site.articles, now)
            )
            shortcut.save(site.settings, key, folder, report, inputs, loaded)
    drafts, scheduled = held_back(site.articles, now)
    return BuildResult(
        drafts=drafts,
        scheduled=scheduled,
        out=out,
        files=files.sizes(),
        published=list(readable),
        digest_week=rendered.digest_week,
        warnings=[*site.warnings, *rendered.warnings],
        removed=removed,
    )


def check_digest_current(
    project: Path, out: Path, now: dt.datetime, digest_week: str | None = None
) -> None:
    """Refuse a built digest that no longer matches what the articles would produce now.

    The digest of ``digest_week`` (or of the latest send moment at ``now``) in ``out`` must
    be what a build with the same ``now`` and week writes: same articles, subject and bytes.
    A digest with retracted or changed articles is stale and must not be sent. A week
    without a digest in ``out`` passes; the sender reports the missing file. Whether the
    digest.eml on disk is the one the build wrote is send.read_built_digest's check.
    """
    from nieuwsbrief.digest import DIGESTS_DIR, render_digest
    from nieuwsbrief.manifest import MAX_MANIFEST_BYTES, check_manifest
    from nieuwsbrief.select import digest_articles

    site = load_site(project, cache=False)
    now = site.settings.localize(now)
    window = digest_window(site.settings, now, digest_week)
    folder = Path(out) / DIGESTS_DIR / window.week
    path = folder / "manifest.json"
    if not path.is_file():
        return
    fix = "run 'nieuwsbrief build' for the same moment and week first"
    try:
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise ValueError("too large")
        old = check_manifest(json.loads(path.read_bytes().decode("utf-8")), window.week)
    except (OSError, ValueError, RecursionError):
        raise BuildError(f"{path}: not a manifest nieuwsbrief wrote; {fix}") from None
    articles = digest_articles(site.articles, window, now)
    if not articles and site.settings.digest.empty_week != "send":
        raise BuildError(
            f"{folder}: stale digest: none of its articles is published any more; {fix}"
        )
    fresh, _ = render_digest(site.settings, window, articles)
    new = fresh.manifest
    fresh_hashes = {entry["name"]: entry["sha256"] for entry in new.get("files", [])}
    changed = [key for key in ("subject", "articles", "overflow") if old.get(key) != new.get(key)]
    changed += [
        entry["name"]
        for entry in old.get("files", [])
        if entry["name"] in ("digest.html", "digest.txt")
        and entry["sha256"] != fresh_hashes.get(entry["name"], entry["sha256"])
    ]
    if changed:
        raise BuildError(
            f"{folder}: stale digest: {', '.join(changed)} differ from what the articles "
            f"produce now; {fix}"
        )


# --- Reading back what earlier builds wrote ----------------------------------------------

_MANIFEST_PATH = re.compile(r"^digests/(\d{4}-W\d{2})/manifest\.json$")


# --- The topic layer: rendered here, where feeds, lists and topics meet ------------------


def render_topics(
    settings: Settings, published: Sequence[Article], reuse: Reuse | None = None
) -> dict[str, bytes]:
    """Return every topic file of a build: per-topic feeds and lists, the index, related lists.

    With ``reuse`` (a build with the cache on), files whose fingerprint is unchanged are
    taken from the previous build's output instead of rendered again (see reuse.py).
    """
    from nieuwsbrief.lists import render_lists
    from nieuwsbrief.reuse import Reuse
    from nieuwsbrief.topics import INDEX_FILE, group_topics, topic_feeds, topic_index

    reuse = reuse or Reuse(settings, None)
    topics = group_topics(settings, published)
    files: dict[str, bytes] = {}
    for topic in topics:
        # Page by page: an article changed or added re-renders only the pages it is on.
        files.update(topic_feeds(settings, topic, reuse))
    files[INDEX_FILE] = topic_index(settings, topics)
    files.update(render_lists(settings, published, topics, reuse))
    return files


def read_topic_stale(owned: Iterable[str], files: Mapping[str, bytes]) -> list[str]:
    """Return the topic-layer files an earlier build wrote that this build no longer writes.

    A topic without published articles loses its folder (feeds, list); a retracted article
    its related list. Only names in the record (``owned``) are returned.
    """
    from nieuwsbrief.lists import LISTS_DIR, RELATED_DIR
    from nieuwsbrief.topics import TAGS_DIR

    prefixes = (f"{TAGS_DIR}/", f"{RELATED_DIR}/", f"{LISTS_DIR}/")
    return sorted(name for name in owned if name.startswith(prefixes) and name not in files)


def read_manifests(
    out: Path, owned: Iterable[str] | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """Read back the manifests of the digests already in ``out``; return them and warnings.

    ``owned`` names the files nieuwsbrief wrote (its record); only their manifests are read.
    A manifest is untrusted input: one that fails the rules fresh input meets (see
    :func:`nieuwsbrief.manifest.check_manifest`) is left out, with a warning naming the file.
    """
    from nieuwsbrief.digest import DIGESTS_DIR
    from nieuwsbrief.manifest import CONTROL

    if owned is None:
        names = [path.relative_to(out).as_posix() for path in (out / DIGESTS_DIR).glob("*/*")]
    else:
        names = list(owned)
    manifests: list[dict[str, Any]] = []
    warnings: list[str] = []
    for name in sorted(names):
        match = _MANIFEST_PATH.match(name)
        if not match:
            continue
        try:
            manifests.append(_read_manifest(out, name, match[1]))
        except FileNotFoundError:
            continue
        except (OSError, ValueError, RecursionError) as exc:
            problem = str(exc) if not isinstance(exc, RecursionError) else "is nested too deeply"
            warnings.append(
                f"{out / name}: left out of the digest archive: {CONTROL.sub('?', problem)[:200]}; "
                "rebuild that week's digest or delete its folder"
            )
    return manifests, warnings


_TOPIC_MANIFEST_PATH = re.compile(
    r"^digests/(\d{4}-W\d{2})/([a-z0-9]+(?:-[a-z0-9]+)*)/manifest\.json$"
)


def read_topic_manifests(out: Path, owned: Iterable[str]) -> list[dict[str, Any]]:
    """Read back the per-topic digest manifests a build wrote into ``out`` (its record).

    Untrusted input, read like the main manifests; each must also name its own topic.
    Anything else is left out of the archive.
    """
    found = []
    for name in sorted(owned):
        match = _TOPIC_MANIFEST_PATH.match(name)
        if not match:
            continue
        try:
            data = _read_manifest(out, name, match[1])
        except (OSError, ValueError, RecursionError):
            continue
        topic = data.get("topic")
        if isinstance(topic, dict) and topic.get("slug") == match[2]:
            found.append(data)
    return found


def _read_manifest(out: Path, name: str, week: str) -> dict[str, Any]:
    """Read one manifest from ``out``: a regular file inside it, bounded, checked as fresh."""
    from nieuwsbrief.cache import read_bounded
    from nieuwsbrief.manifest import MAX_MANIFEST_BYTES, load_manifest

    path = out / name
    inside = Path(os.path.realpath(path)).is_relative_to(out.resolve())
    if path.is_symlink() or not inside:
        raise ValueError("is not a regular file inside the output folder")
    try:
        return load_manifest(read_bounded(path, MAX_MANIFEST_BYTES), week)
    except ValueError as exc:
        if str(exc) == "is not a regular file":
            raise ValueError("is not a regular file inside the output folder") from None
        raise
