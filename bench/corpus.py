"""Generate realistic Dutch article corpora, in nieuwsbrief's and in Pelican's format."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

SUBJECTS = [
    "somberheid",
    "angst",
    "slaap",
    "piekeren",
    "eenzaamheid",
    "werkstress",
    "rouw",
    "zelfcompassie",
    "grenzen stellen",
    "paniek",
    "burn-out",
    "relaties",
    "ouderschap",
]
TAGS = ["angst", "stemming", "slaap", "werk", "relaties", "behandeling", "praktijk", "tips"]
SENTENCES = [
    "Veel mensen herkennen dit gevoel, maar praten er zelden over.",
    "Het helpt om klein te beginnen en elke dag een stap te zetten.",
    "Een psycholoog kan samen met je kijken wat bij jou past.",
    "Soms is het genoeg om te weten dat je niet de enige bent.",
    "Beweging, daglicht en contact met anderen maken vaak meer verschil dan je denkt.",
    "Schrijf op wat je voelt; dat geeft overzicht en rust.",
    "Het is geen teken van zwakte om hulp te vragen.",
    "Wanneer klachten langer dan een paar weken duren, is het verstandig om je huisarts te bellen.",
]


def paragraph(rng: random.Random) -> str:
    sentences = rng.sample(SENTENCES, k=rng.randint(3, 6))
    if rng.random() < 0.4:
        subject = rng.choice(SUBJECTS)
        link = f"/artikelen/{rng.choice(SUBJECTS).replace(' ', '-')}/"
        sentences.append(f"Lees ook [ons artikel over {subject}]({link}).")
    if rng.random() < 0.2:
        sentences.append("Meer informatie vind je op [Thuisarts](https://www.thuisarts.nl).")
    return " ".join(sentences)


def article(rng: random.Random, number: int, start: dt.datetime) -> dict[str, object]:
    subject = rng.choice(SUBJECTS)
    date = start + dt.timedelta(hours=7 * number + rng.randint(0, 5))
    body = []
    for section in range(rng.randint(2, 4)):
        body.append(f"## Deel {section + 1}: over {subject}")
        body.extend(paragraph(rng) for _ in range(rng.randint(2, 3)))
        if rng.random() < 0.3:
            body.append("\n".join(f"- {rng.choice(SENTENCES)}" for _ in range(3)))
    return {
        "title": f"Over {subject}: deel {number}",
        "slug": f"over-{subject.replace(' ', '-')}-{number}",
        "date": date,
        "summary": rng.choice(SENTENCES) if rng.random() < 0.7 else None,
        "tags": rng.sample(TAGS, k=rng.randint(1, 3)),
        "image": f"/images/{number}.jpg" if rng.random() < 0.25 else None,
        "body": "\n\n".join(body),
    }


def write_corpus(root: Path, count: int, seed: int = 48) -> tuple[Path, Path]:
    """Write ``count`` articles twice: a nieuwsbrief project and a Pelican content folder."""
    rng = random.Random(seed)
    start = dt.datetime(2025, 11, 24, 8, tzinfo=dt.timezone(dt.timedelta(hours=1))) - dt.timedelta(
        hours=7 * count
    )
    project = root / "nieuwsbrief"
    pelican = root / "pelican" / "content"
    (project / "articles").mkdir(parents=True)
    pelican.mkdir(parents=True)
    for number in range(count):
        data = article(rng, number, start)
        date: dt.datetime = data["date"]  # type: ignore[assignment]
        tags = ", ".join(data["tags"])  # type: ignore[arg-type]
        front = [f'title: "{data["title"]}"', f"date: {date.isoformat()}", f"tags: [{tags}]"]
        meta = [
            f"Title: {data['title']}",
            f"Date: {date:%Y-%m-%d %H:%M}",
            f"Tags: {tags}",
            f"Slug: {data['slug']}",
        ]
        if data["summary"]:
            front.append(f'summary: "{data["summary"]}"')
            meta.append(f"Summary: {data['summary']}")
        if data["image"]:
            front += [f"image: {data['image']}", 'image_alt: "Een illustratie"']
        name = f"{date:%Y-%m-%d}-{data['slug']}.md"
        (project / "articles" / name).write_text(
            "---\n" + "\n".join(front) + "\n---\n\n" + str(data["body"]) + "\n", encoding="utf-8"
        )
        (pelican / name).write_text(
            "\n".join(meta) + "\n\n" + str(data["body"]) + "\n", encoding="utf-8"
        )
    return project, pelican.parent
