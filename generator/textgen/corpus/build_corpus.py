"""Build the demo caption corpus (captions.jsonl) from hand-written parts, deterministically.

    python -m generator.textgen.corpus.build_corpus [OUT_FILE]

Each caption is one or two lines written for its topic and tone, often with a line that fits any
photo written for its tone and audience (GENERAL_LINES), then a few hashtags. No line
is appended to every caption of a tone or audience: the tone shows in the wording. Every part was
written for this project. One JSON object per line: tone, audience, topic, text.
"""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path

TOPICS = {
    "abstract textures": {
        "funny": ["This texture has more layers than my excuses.",
                  "Zoomed in on the wallpaper and the wallpaper zoomed back.",
                  "My brain at 3am, in one picture.",
                  "Not a glitch, a personality.",
                  "Somewhere in here is the sock I lost in 2019.",
                  "When the wallpaper has more going on than my weekend."],
        "inspirational": ["Every pattern starts with a single mark.",
                          "Beauty hides in the details most people scroll past.",
                          "Chaos is just order you have not met yet.",
                          "Let the colours find their own way.",
                          "Small textures, big feelings.",
                          "Look closer: there is always more."],
        "informative": ["Warm colours seem to come forward; cool colours seem to sit back.",
                        "Our eyes find faces and shapes even in noise; it is called pareidolia.",
                        "Complementary colours sit opposite each other on the colour wheel.",
                        "Bark, clouds and coastlines repeat their patterns at many scales.",
                        "Soft edges read as calm; hard edges read as tension.",
                        "Painters squint to see the big shapes before the details."],
    },
    "space": {
        "funny": ["Tried to take a selfie, got the whole galaxy.",
                  "Space: the only place with worse wifi than my flat.",
                  "Me pretending to understand the universe.",
                  "Those are not stars, those are my unread messages.",
                  "Plot twist: the universe is also just vibing."],
        "inspirational": ["We are made of the same dust as these stars.",
                          "The sky is not the limit, it is the view.",
                          "Every light up there travelled a long way to be seen.",
                          "Dream big; the universe already does.",
                          "Stay curious. The cosmos is."],
        "informative": ["Deep field images show thousands of galaxies in a patch of sky smaller than a grain of sand.",
                        "The light in this picture left its stars long before any of us were born.",
                        "Most of the dots in a deep field are whole galaxies, not single stars.",
                        "Telescopes collect faint light for hours to see this far.",
                        "Space looks dark because most light there never reaches our eyes."],
    },
    "coffee": {
        "funny": ["Coffee first, personality later.",
                  "My blood type is espresso.",
                  "Decaf? In this economy?",
                  "This cup has seen things.",
                  "I like my coffee like my deadlines: in large amounts."],
        "inspirational": ["A fresh cup, a fresh start.",
                          "Slow mornings make strong days.",
                          "Pour yourself some calm.",
                          "Good things brew slowly.",
                          "Today is a blank mug; fill it well."],
        "informative": ["Crema forms when pressure pushes oils and gases out of fresh grounds.",
                        "Lighter roasts keep more of the bean's own flavour and acidity.",
                        "Water just off the boil, around 93 degrees, suits most brewing.",
                        "Coffee beans are the seeds of a cherry-like fruit.",
                        "Grind size changes everything: finer for espresso, coarser for a press."],
    },
    "nature": {
        "funny": ["Touched grass. Grass touched back.",
                  "The gravel path and I have a complicated history.",
                  "Nature called; I let it go to voicemail, then went outside anyway.",
                  "Bricks, moss and one very judgemental pigeon.",
                  "Outdoor mode: activated, reluctantly."],
        "inspirational": ["Grow where you are planted.",
                          "Even stones are shaped by patience.",
                          "Roots first, then everything else.",
                          "There is rhythm in every leaf and every wall.",
                          "Slow down and let the world texture your day."],
        "informative": ["Gravel is sorted by size; the smallest grains travel the furthest in water.",
                        "Moss holds many times its own weight in water.",
                        "Old brick walls weather unevenly, which is why no two look alike.",
                        "Grass blades grow from the base, so mowing does not stop them.",
                        "Lichens on stone can be centuries old."],
    },
    "cats": {
        "funny": ["This cat has a meeting at noon and it is with the sunbeam.",
                  "Professional napper, amateur lamp-knocker.",
                  "He did not ask to be this majestic.",
                  "Look at that face. Now look at the broken vase.",
                  "The cat approved this post. Barely."],
        "inspirational": ["Be like a cat: rest boldly and land on your feet.",
                          "Curiosity is a superpower.",
                          "Find your sunbeam and stay a while.",
                          "Softness is a kind of strength.",
                          "Trust your whiskers."],
        "informative": ["Cats sleep twelve to sixteen hours a day.",
                        "A cat's whiskers are about as wide as its body.",
                        "Cats see well in low light thanks to a reflective layer behind the retina.",
                        "A purr runs at roughly 25 to 150 vibrations per second.",
                        "Cats walk by moving both legs on one side, then the other."],
    },
}

# Seven more lines per topic and tone (issue 29): with five, a 4-6 part story of one topic and tone
# ran out of sentences it had not told yet. Written for this project like the rest.
MORE_TOPIC_LINES = {
    "abstract textures": {
        "funny": ["Stared at this for ten minutes and it stared back for eleven.",
                  "This is what my notes look like after a long meeting.",
                  "If you squint, it is a map of my group chat.",
                  "Swirls, dots and one line that refuses to behave.",
                  "My playlist, but as a picture.",
                  "The colours had an argument and everybody won.",
                  "I asked for something calm and got this, which is fair."],
        "inspirational": ["Not every beautiful thing needs a name.",
                          "Let the lines wander; they know the way.",
                          "There is calm in the repeat of a simple shape.",
                          "Mix the colours you were told not to mix.",
                          "Every layer adds a little more depth.",
                          "Patterns remind us that small things add up.",
                          "Find the one bright spot and follow it."],
        "informative": ["Artists have used repeating patterns for thousands of years, from pottery to tiles.",
                        "Red, yellow and blue were the classic painter's primaries.",
                        "Mixing every colour of light makes white; mixing every paint makes a muddy brown.",
                        "Texture in a picture can be real, like thick paint, or only suggested.",
                        "Contrast between light and dark leads the eye around a picture.",
                        "Tiny dots of pure colour blend into new colours when seen from a distance.",
                        "Fractal patterns look much the same however far you zoom in."],
    },
    "space": {
        "funny": ["The moon has been following me home again.",
                  "Looked up for five minutes and now I need a nap and a telescope.",
                  "The rocket is ready. My courage is still packing.",
                  "Astronauts pack light. I pack three jumpers for a weekend.",
                  "Somewhere out there an alien is also avoiding emails.",
                  "Gravity keeps me grounded, and so does my rent.",
                  "Counting stars because counting sheep stopped working."],
        "inspirational": ["The same moon shines over everyone you miss.",
                          "Every rocket starts on the ground.",
                          "Look up tonight; it puts the day in its place.",
                          "Far away does not mean out of reach.",
                          "The stars were always there; it just had to get dark enough to see them.",
                          "Launch the idea. Adjust the course later.",
                          "Wonder is the fuel that never runs out."],
        "informative": ["The Moon always shows us the same face because it turns once per orbit.",
                        "Astronauts on the space station see about sixteen sunrises a day.",
                        "A day on Venus is longer than its year.",
                        "Light from the Sun takes about eight minutes to reach us.",
                        "There is no wind on the Moon, so the first footprints are still there.",
                        "Rockets carry their own oxygen because space has none to burn.",
                        "Saturn is less dense than water."],
    },
    "coffee": {
        "funny": ["I am not a morning person; I am a coffee person in the morning.",
                  "Second cup, same plan, more confidence.",
                  "My coffee went cold while I looked for my coffee.",
                  "Espresso: a small cup with big opinions.",
                  "The barista knows my order and most of my secrets.",
                  "Spilled the coffee. Kept the attitude.",
                  "One more cup and I will answer that email. Maybe."],
        "inspirational": ["Start with one warm cup and one clear goal.",
                          "Let the kettle sing and the worries wait.",
                          "Steam rising, ideas rising.",
                          "A quiet cup is a small act of care.",
                          "Take the time to taste it.",
                          "Every great plan began at a kitchen table with a mug.",
                          "Warm hands, open heart, slow start."],
        "informative": ["A shot of espresso holds less caffeine than a large mug of filter coffee.",
                        "Coffee was first grown in the highlands of Ethiopia and Yemen.",
                        "Green coffee beans turn brown as sugars and proteins react in the roaster.",
                        "Most coffee comes from two species: arabica and robusta.",
                        "Ground coffee starts to lose its aroma within minutes.",
                        "Cold brew steeps for hours in cool water instead of minutes in hot.",
                        "A latte is espresso with steamed milk and a thin layer of foam."],
    },
    "nature": {
        "funny": ["The tree has been standing there all day and still looks better than me.",
                  "A squirrel stole my snack and my dignity.",
                  "I went for a short walk. The hill had other plans.",
                  "The birds start their meeting at five every morning, no agenda.",
                  "Found a leaf shaped like my week.",
                  "The grass is greener because I forgot to walk on it.",
                  "Hiked for an hour to sit on a rock. Worth it."],
        "inspirational": ["Mud on the boots, calm in the head.",
                          "Trees do not rush, and still they reach the sky.",
                          "After the rain, everything smells like a new start.",
                          "Walk slowly enough to hear the birds.",
                          "Seasons change, and so can we.",
                          "The river finds a way around every stone.",
                          "Take a breath where the air is green."],
        "informative": ["Many trees trade sugar with fungi that live around their roots.",
                        "Part of the smell after rain is oil that dry soil gives off.",
                        "A single oak can host hundreds of kinds of insects.",
                        "Leaves turn yellow in autumn when their green pigment breaks down.",
                        "Bees visit thousands of flowers to make one spoonful of honey.",
                        "Moss has no true roots; it takes in water through its leaves.",
                        "Old stone walls give homes to lichens, insects and small plants."],
    },
    "cats": {
        "funny": ["The cat knocked my pen off the desk and waited for applause.",
                  "Bought a new chair; the cat is sitting in the box it came in.",
                  "Dinner is at six; the cat starts reminding me at four.",
                  "He fits in the sink, so the sink is his now.",
                  "Every keyboard is a warm bed if you are brave enough.",
                  "The sunbeam moved, so the cat moved, so I moved.",
                  "Caught him staring at the wall again. The wall blinked first."],
        "inspirational": ["Stretch slowly; the day will wait for you.",
                          "Rest is part of the work, ask any cat.",
                          "Land softly, then carry on as if nothing happened.",
                          "Curl up where it is warm and let the world be loud.",
                          "A small creature can fill a whole room with calm.",
                          "Keep your eyes bright and your steps light.",
                          "Some days you hunt, some days you nap, and both count."],
        "informative": ["Cats can turn their ears to follow a sound without moving their heads.",
                        "The ridges on a cat's nose are as unique as a fingerprint.",
                        "Kittens usually open their eyes in their second week.",
                        "Cats lap water with the tip of the tongue, pulling up a small column.",
                        "Adult cats meow mostly at people, rarely at other cats.",
                        "Cats spend a large part of their waking hours grooming.",
                        "A cat's tail helps it balance on narrow ledges."],
    },
}

for _topic, _by_tone in MORE_TOPIC_LINES.items():
    for _tone, _lines in _by_tone.items():
        TOPICS[_topic][_tone] = TOPICS[_topic][_tone] + _lines

# Lines that fit a photo of anything, in the tone's own words and the audience's own voice ("I" for
# general, the page's "we" for promotional). A caption carries one in about two of five (general) or
# seven of ten (promotional), before or after its topic lines; each line is one of 14, not a formula.
# The writer learns them under every topic, which is how generator.textgen.neutral finds lines for a
# photo it cannot name. No sign-off slogan ("Keep
# going.", "Science is everywhere."), no call to action, offer, code, price or link: those are stock
# lines (generator.stock_lines) or the brand profile's to give.
GENERAL_LINES = {
    "funny": {
        "general": ["Took one photo and then forty more just in case.",
                    "My camera roll is mostly this now, and I am fine with that.",
                    "I stood here for much longer than planned.",
                    "Posting it before I talk myself out of it.",
                    "Nobody asked, but here it is anyway.",
                    "Came for five minutes, stayed for an hour.",
                    "The group chat has already seen this one three times.",
                    "My mum says it is lovely, so it is official.",
                    "Would have posted this sooner, but lunch happened.",
                    "This was supposed to be a quick one.",
                    "It is my lock screen now, at least until Friday.",
                    "Still thinking about this one on the bus home.",
                    "I have a whole folder of these and it keeps growing.",
                    "Showed this to my neighbour and he just nodded slowly."],
        "promotional": ["The whole studio stopped work to look at this one.",
                        "Somebody in the office has already given this one a name.",
                        "We said we would pick one favourite. We picked six.",
                        "This has been pinned above the studio kettle all week.",
                        "Chosen by a very serious vote and one very loud opinion.",
                        "Our team tried to stay calm about this one and failed.",
                        "Half the team wants this on their own wall at home.",
                        "We showed this to our neighbours and they asked for a copy of the photo.",
                        "The studio playlist was loud today, and so is this.",
                        "Our newest favourite, and the desk plant agrees.",
                        "Every one of us had a different name for this, so it has four.",
                        "We looked at this for so long that the tea went cold.",
                        "The team lunch turned into a long talk about this one.",
                        "Even the quiet one in our office said wow."],
    },
    "inspirational": {
        "general": ["Some of the best days start with noticing one small thing.",
                    "Nothing here had to be perfect to be worth keeping.",
                    "Let the quiet moments count as much as the loud ones.",
                    "Slow looking is its own kind of rest.",
                    "Leave a little room in the day for things like this.",
                    "Beauty is usually closer than the plan said.",
                    "Stopping for a minute was the best choice of the afternoon.",
                    "Ordinary days hold more than they get credit for.",
                    "Be where your feet are.",
                    "Hold on to the calm you find in small places.",
                    "The world looks kinder up close.",
                    "You do not have to go far to find something worth a second look.",
                    "Give yourself the time to look twice.",
                    "A good moment does not need an audience to count."],
        "promotional": ["We make things slowly, because the good parts take time.",
                        "Everything we share starts with a moment like this.",
                        "This is the reason we started in the first place.",
                        "We keep coming back to simple things, and they keep giving back.",
                        "Behind every post here is someone who stopped to look.",
                        "We started with one idea and a lot of patience.",
                        "Our favourite work begins when we slow down.",
                        "This one reminds our whole team why we do this.",
                        "We hope this brings a little calm to your day.",
                        "Good work grows from small, steady habits.",
                        "We believe the small details are worth the extra hour.",
                        "Thank you for being part of this little corner of the internet.",
                        "We never get tired of moments like this one.",
                        "Some ideas take a year to grow, and that is fine with us."],
    },
    "informative": {
        "general": ["Light from a window is usually softer than a lamp or a flash.",
                    "The eye tends to go first to the brightest part of a scene.",
                    "Photos taken in the hour before sunset tend to look warmer.",
                    "A subject placed a little off centre often makes a picture feel calmer.",
                    "Colours look different under daylight, under bulbs and on a phone.",
                    "Cool shadows next to warm highlights make a scene look deeper.",
                    "We tend to remember colours as brighter than they really were.",
                    "Cloudy days give even light with almost no hard shadows.",
                    "Looking at something for a full minute shows details a glance misses.",
                    "The oldest surviving photograph needed hours of light to appear.",
                    "Grey skies make colours look richer than bright sun does.",
                    "Close up, most surfaces turn out to be full of tiny patterns.",
                    "Our eyes adjust to dim light over about twenty minutes.",
                    "A scene looks calmer when most of its colours come from one family."],
        "promotional": ["Our team kept talking about this one over lunch.",
                        "We looked this up after someone asked, and it stuck with us.",
                        "We find the small details are always the most interesting part.",
                        "Knowing how something works makes us like it even more.",
                        "This is the kind of detail we love to notice.",
                        "We learned this while working on something else entirely.",
                        "Our favourite facts are the ones that change how you look at things.",
                        "We keep a list of facts like this on the studio wall.",
                        "Every time we read about this, we found something new.",
                        "We always look twice at details like this now.",
                        "It surprised half our team, so here it is.",
                        "We asked around the studio and nobody knew this either.",
                        "One of us read this aloud and the whole room went quiet.",
                        "We had to check this twice because it sounded made up."],
    },
}

HASHTAGS = {
    "abstract textures": ["#abstractart", "#texture", "#generativeart", "#patterns", "#digitalart", "#colour",
                          "#artdaily"],
    "space": ["#space", "#galaxy", "#astronomy", "#stars", "#universe", "#cosmos"],
    "coffee": ["#coffee", "#coffeetime", "#espresso", "#morning", "#coffeelover", "#barista"],
    "nature": ["#nature", "#outdoors", "#naturelovers", "#moss", "#walk", "#earth"],
    "cats": ["#cats", "#catsofinstagram", "#catlife", "#meow", "#kitty", "#petsofinstagram"],
}
TONE_TAGS = {"funny": ["#funny", "#lol", "#mood"], "inspirational": ["#motivation", "#inspiration", "#mindset"],
             "informative": ["#funfacts", "#science", "#learn"]}
# no tag that promises a product ("#newdrop", "#artprint"): the brand profile's own hashtags do that
AUDIENCE_TAGS = {"general": ["#daily", "#instagood", "#photooftheday"],
                 "promotional": ["#smallbusiness", "#studiolife", "#behindthescenes"]}

PER_COMBINATION = 36  # 5 topics x 3 tones x 2 audiences x 36 = 1,080 captions
MAX_CHARS = 180  # a caption with its hashtags stays well inside the writer's 64 new tokens
# caption shapes: one topic line, two, a topic line then a general line, or the general line first;
# a page that promotes speaks as "we" in most of its captions (7 in 10), a person in some (4 in 10):
# with fewer, the small writer learns no difference between the audiences
SHAPES = (("topic",), ("topic", "topic"), ("topic", "general"), ("general", "topic"))
SHAPE_WEIGHTS = {"general": (0.3, 0.3, 0.25, 0.15), "promotional": (0.15, 0.15, 0.45, 0.25)}


class _Deck:
    """The general lines of a tone and audience dealt in shuffled rounds, shared by the topics, so
    every line is written under most topics (a line under one topic reads as that topic's line)."""

    def __init__(self, rng: random.Random, lines: list[str]) -> None:
        self.rng, self.lines = rng, lines
        self.left: list[str] = []

    def deal(self) -> str:
        if not self.left:
            self.left = self.rng.sample(self.lines, len(self.lines))
        return self.left.pop()


def _caption(rng: random.Random, topic: str, tone: str, audience: str, deck: _Deck) -> tuple[str, str]:
    """(body, text) of one caption; a shape too long for MAX_CHARS is drawn again with other lines,
    so long lines do not tilt the shares of SHAPES."""
    shape = rng.choices(SHAPES, weights=SHAPE_WEIGHTS[audience])[0]
    while True:
        picked = rng.sample(TOPICS[topic][tone], shape.count("topic"))
        body = " ".join(picked.pop() if kind == "topic" else deck.deal() for kind in shape)
        text = body + " " + " ".join(_tags(rng, topic, tone, audience))
        if len(text) <= MAX_CHARS or len(shape) == 1:
            return body, text


def _tags(rng: random.Random, topic: str, tone: str, audience: str) -> list[str]:
    tags = rng.sample(HASHTAGS[topic], rng.randint(1, 3))
    if rng.random() < 0.5:
        tags += rng.sample(TONE_TAGS[tone], 1)
    if rng.random() < 0.4:
        tags += rng.sample(AUDIENCE_TAGS[audience], 1)
    return tags


def build(seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    rows: list[dict] = []
    seen: set[object] = set()
    decks = {(tone, audience): _Deck(rng, lines) for tone, by_audience in GENERAL_LINES.items()
             for audience, lines in by_audience.items()}
    for topic, by_tone in TOPICS.items():
        for tone in by_tone:
            for audience in GENERAL_LINES[tone]:
                made = 0
                while made < PER_COMBINATION:
                    body, text = _caption(rng, topic, tone, audience, decks[tone, audience])
                    # no caption body twice for one audience, whatever its hashtags, and no text twice
                    if (audience, body) not in seen and text not in seen:
                        seen.update({(audience, body), text})
                        rows.append({"tone": tone, "audience": audience, "topic": topic, "text": text})
                        made += 1
    rng.shuffle(rows)
    return rows


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("captions.jsonl")
    rows = build()
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"wrote {len(rows)} captions to {out}")


if __name__ == "__main__":
    main()
