"""The demo's content-systems step: caption two photos in a tone, turn a text into a meme, write a
story thread from an image; one of each is approved (demo mode) and published to the outbox."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.app import App

ACCOUNT = "demo"
PHOTOS = ("cat", "coffee")  # scikit-image photos shipped as meme templates
TEXT = "when the deploy fails on friday"


def content_systems(app: App, console, step: Callable) -> dict[str, Any]:
    from generator.meme.templates import load_templates

    console.rule("[bold]content systems: your photo, your text, a story")
    topics, writer = step(console, "loading EfficientNet-Lite0 (ImageNet) and the GPT-2 writer",
                          lambda: (app.content_models().topics(), app.content_models().writer()))
    templates = {t.slug: t for t in load_templates(app.config.generator.meme.templates)}
    photos = [templates[name].image_path for name in PHOTOS if name in templates]
    captioned = step(console, "captioning 2 photos in a funny tone (topic from the photo)",
                     lambda: app.caption(photos, tone="funny", audience="general", account=ACCOUNT, n=2, seed=7,
                                         topics=topics, writer=writer))
    for index, topic in enumerate(captioned.topics):
        made = next(m for m in captioned.candidates if m.params.get("photo_index") == index)
        text = " ".join(made.text.split())
        console.print(f"  photo topic [bold]{topic['topic']}[/bold] ({topic['labels'][0]['name']}): {text!r}")
    meme = step(console, f"text -> meme: {TEXT!r}", lambda: app.make(TEXT, account=ACCOUNT, seed=7))
    console.print(f"  template [bold]{meme.template.slug}[/bold]; also "
                  + ", ".join(f"{a.slug} {a.prob:.2f}" for a in meme.alternatives))
    story = step(console, "image -> story thread (2 parts, each written after the one before)",
                 lambda: app.story("rocket", parts=2, tone="funny", audience="general", account=ACCOUNT, seed=7,
                                   topics=topics, writer=writer))
    thread = app.thread(story.candidates[0].id)
    for i, part in enumerate(thread.parts, start=1):
        console.print(f"  {i}/{len(thread.parts)} {part}")
    chosen = [m.id for m in (captioned.candidates[0], meme.candidates[0]) if m.status == "pending"]
    console.print(f"[yellow]auto-approving (demo mode only)[/yellow] candidates {chosen} and thread {thread.candidate_id}")
    for candidate_id in chosen:
        app.approve(candidate_id, actor="demo-auto-approve", at=app.clock())
    if thread.status == "pending":
        app.approve_thread(thread.candidate_id, actor="demo-auto-approve", at=app.clock())
    summary = step(console, "publishing them to the outbox (the thread as a reply chain)",
                   lambda: app.publish_due(owner="memeloop-demo"))
    return {"photo_topics": [t["topic"] for t in captioned.topics], "template": meme.template.slug,
            "thread_parts": len(thread.parts), "published": summary.published}
