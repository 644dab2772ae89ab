"""Generate a realistic corpus: 3-6 KB Dutch articles, written for nieuwsbrief, Hugo and Pelican.

Text is composed from sentence patterns with many slots (subjects, situations, advice,
reasons, moments), so paragraphs vary rather than repeat a handful of sentences. Each
article has front matter (title, date, tags from ~40 topics, often a summary, sometimes an
author and an image), headings, paragraphs with emphasis and links, bulleted and numbered
lists, quotes and inline images. About 1 in 100 is a draft and 1 in 100 dated after the
benchmark's moment; all three generators skip both.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

TOPICS = [
    "angst", "paniek", "fobieën", "slaap", "piekeren", "somberheid", "depressie", "rouw",
    "verlies", "eenzaamheid", "relaties", "ouderschap", "gezin", "werk", "burn-out",
    "werkstress", "re-integratie", "zelfzorg", "zelfcompassie", "grenzen", "trauma", "emdr",
    "cgt", "act", "mindfulness", "behandeling", "praktijk", "hulp zoeken", "jongeren",
    "ouderen", "studenten", "verslaving", "alcohol", "eetproblemen", "adhd", "autisme",
    "hoogsensitiviteit", "zelfbeeld", "perfectionisme", "suïcide",
]  # fmt: skip
WHO = [
    "veel mensen", "sommige cliënten", "jongeren", "ouders", "studenten", "werknemers",
    "mantelzorgers", "ouderen", "partners", "nieuwe cliënten", "mensen met een drukke baan",
    "wie net een verlies heeft meegemaakt", "mensen die alleen wonen", "zzp'ers",
]  # fmt: skip
FEEL = [
    "voelen zich onrustig", "slapen slechter", "piekeren meer dan anders", "trekken zich terug",
    "hebben minder energie", "schrikken sneller", "zijn prikkelbaar", "voelen zich somber",
    "raken het overzicht kwijt", "vermijden situaties die spanning geven", "eten onregelmatig",
    "merken dat hun concentratie afneemt", "worden 's nachts wakker met een bonzend hart",
]  # fmt: skip
WHEN = [
    "in de donkere maanden", "na een ingrijpende gebeurtenis", "tijdens een reorganisatie",
    "rond de feestdagen", "in de eerste weken na een verhuizing", "tijdens de examens",
    "als de kinderen het huis uit zijn", "na een periode van ziekte", "op zondagavond",
    "wanneer er veel tegelijk gebeurt", "na de geboorte van een kind", "bij het ouder worden",
]  # fmt: skip
ADVICE = [
    "plan elke dag een korte wandeling buiten", "houd een vast slaapritme aan",
    "schrijf je zorgen op een vast moment van de dag op",
    "bespreek het met iemand die je vertrouwt",
    "beperk koffie en alcohol in de avond", "maak een lijstje van wat wél lukte",
    "zeg vaker nee tegen extra taken", "oefen dagelijks tien minuten met ademhalen",
    "zoek contact met je huisarts", "verdeel grote taken in kleine stappen",
    "leg je telefoon een uur voor het slapengaan weg", "plan ook iets leuks in je week",
]  # fmt: skip
WHY = [
    "omdat je lichaam dan tot rust kan komen", "zodat je gedachten minder rondmalen",
    "want dat geeft houvast", "omdat vermijden de angst op den duur groter maakt",
    "zodat je merkt dat je zelf invloed hebt", "want daglicht helpt je biologische klok",
    "omdat steun van anderen de klachten verlicht", "zodat je weer overzicht krijgt",
]  # fmt: skip
THERAPY = [
    "cognitieve gedragstherapie", "EMDR", "acceptance and commitment therapy",
    "mindfulness-training", "schematherapie", "interpersoonlijke therapie", "lichttherapie",
    "een kortdurende behandeling bij de praktijkondersteuner", "groepstherapie",
]  # fmt: skip
PATTERNS = [
    "{Who} {feel} {when}.",
    "{When_cap} {who} {feel}; dat is begrijpelijk en vaak tijdelijk.",
    "Herken je dit? Probeer dan dit: {advice}, {why}.",
    "Het helpt om *klein te beginnen*: {advice}.",
    "Bij ons in de praktijk zien we dat {who} {feel} {when}.",
    "Blijven de klachten langer dan een paar weken, dan kan **{therapy}** helpen.",
    "Uit onderzoek blijkt dat {therapy} goed werkt voor wie {feel_short}.",
    "Een tip die vaak werkt: {advice}, {why}.",
    "Meer lezen? Bekijk [ons artikel over {topic}](/artikelen/{topic_slug}/).",
    "Op [Thuisarts](https://www.thuisarts.nl/{topic_slug}) staat betrouwbare informatie.",
    "Wie {feel_short}, hoeft zich daar niet voor te schamen.",
    "Vraag je je af of je hulp nodig hebt? {Advice}.",
]  # fmt: skip
FIRST = ["Anna", "Mark", "Fatima", "Joost", "Lieke", "Sanne", "Ahmed", "Noor", "Pieter"]
LAST = ["Jansen", "de Vries", "Bakker", "El Amrani", "Visser", "Smit", "Mulder", "de Boer"]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def sentence(rng: random.Random) -> str:
    topic = rng.choice(TOPICS)
    feel = rng.choice(FEEL)
    return rng.choice(PATTERNS).format(
        Who=_cap(rng.choice(WHO)),
        who=rng.choice(WHO),
        feel=feel,
        feel_short=feel.replace("voelen zich", "zich voelt").replace("zijn ", "is "),
        when=rng.choice(WHEN),
        When_cap=_cap(rng.choice(WHEN)),
        advice=rng.choice(ADVICE),
        Advice=_cap(rng.choice(ADVICE)),
        why=rng.choice(WHY),
        therapy=rng.choice(THERAPY),
        topic=topic,
        topic_slug=topic.replace(" ", "-").replace("ë", "e").replace("ï", "i"),
    )


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(3, 6)))


def body(rng: random.Random, number: int, size: int) -> str:
    blocks = [paragraph(rng)]
    section = 0
    while sum(len(block) + 2 for block in blocks) < size:
        roll = rng.random()
        if roll < 0.15:
            section += 1
            blocks.append(f"## {_cap(rng.choice(WHEN))}: wat kun je doen?")
        elif roll < 0.27:
            blocks.append("\n".join(f"- {_cap(rng.choice(ADVICE))};" for _ in range(3)))
        elif roll < 0.35:
            blocks.append(
                "\n".join(f"{i}. {_cap(rng.choice(ADVICE))}." for i in range(1, rng.randint(3, 5)))
            )
        elif roll < 0.42:
            blocks.append(f"> {_cap(rng.choice(WHO))} zeggen vaak: '{_cap(rng.choice(FEEL))}.'")
        elif roll < 0.47:
            blocks.append(f"![{_cap(rng.choice(WHEN))}](/images/{number}-{section}.jpg)")
        else:
            blocks.append(paragraph(rng))
    return "\n\n".join(blocks)


def articles(count: int, seed: int, now: dt.datetime) -> list[dict[str, object]]:
    """Return ``count`` articles; dates run up to ``now``, a few after it."""
    rng = random.Random(seed)
    # One article every 7 hours (8 years at 10,000); a larger corpus is packed into 40
    # years, so that its dates stay after 1970, the earliest a front matter date may be.
    step = min(dt.timedelta(hours=7), dt.timedelta(days=40 * 365) / count)
    start = now - step * count
    found = []
    for number in range(count):
        topic = rng.choice(TOPICS)
        date = start + step * number + dt.timedelta(minutes=rng.randint(0, 300))
        if rng.random() < 0.01:
            date = now + dt.timedelta(days=rng.randint(1, 30))
        title = f"{_cap(topic)} {rng.choice(WHEN)} ({number})"
        slug = f"{topic.replace(' ', '-').replace('ë', 'e').replace('ï', 'i')}-{number}"
        found.append(
            {
                "title": title,
                "slug": slug,
                "date": date,
                "tags": [topic, *rng.sample([t for t in TOPICS if t != topic], rng.randint(0, 3))],
                "summary": sentence(rng) if rng.random() < 0.7 else None,
                "author": f"{rng.choice(FIRST)} {rng.choice(LAST)}" if rng.random() < 0.5 else None,
                "image": f"/images/{number}.jpg" if rng.random() < 0.3 else None,
                "draft": rng.random() < 0.01,
                "body": body(rng, number, rng.randint(2900, 5700)),
            }
        )
    return found


def _yaml(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write(root: Path, count: int, now: dt.datetime, seed: int = 15) -> dict[str, Path]:
    """Write the corpus as a nieuwsbrief project, a Hugo site and Pelican content."""
    project = root / "nieuwsbrief" / "articles"
    hugo = root / "hugo" / "content" / "artikelen"
    pelican = root / "pelican" / "content"
    for folder in (project, hugo, pelican):
        folder.mkdir(parents=True)
    for data in articles(count, seed, now):
        date: dt.datetime = data["date"]  # type: ignore[assignment]
        tags: list[str] = data["tags"]  # type: ignore[assignment]
        front = [
            f"title: {_yaml(str(data['title']))}",
            f"date: {date.isoformat()}",
            "tags: [" + ", ".join(_yaml(tag) for tag in tags) + "]",
            f"slug: {data['slug']}",
        ]
        meta = [
            f"Title: {data['title']}",
            f"Date: {date:%Y-%m-%d %H:%M}",
            f"Tags: {', '.join(tags)}",
            f"Slug: {data['slug']}",
            "Category: artikelen",
        ]
        for key in ("summary", "author"):
            if data[key]:
                front.append(f"{key}: {_yaml(str(data[key]))}")
                meta.append(f"{key.title()}: {data[key]}")
        if data["image"]:
            alt = _yaml("Illustratie bij " + tags[0])
            front += [f"image: {data['image']}", f"image_alt: {alt}"]
        if data["draft"]:
            front.append("draft: true")
            meta.append("Status: draft")
        text = str(data["body"]) + "\n"
        name = f"{date:%Y-%m-%d}-{data['slug']}.md"
        markdown = "---\n" + "\n".join(front) + "\n---\n\n" + text
        (project / name).write_text(markdown, encoding="utf-8")
        (hugo / name).write_text(markdown, encoding="utf-8")
        (pelican / name).write_text("\n".join(meta) + "\n\n" + text, encoding="utf-8")
    return {"nieuwsbrief": project.parent, "hugo": hugo.parent.parent, "pelican": pelican.parent}
