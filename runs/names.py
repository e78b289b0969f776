"""Run display names: a run logged without a name gets "adjective-noun-N", N counting the
runs created in its project (W&B's convention, which the client then prints)."""

import random

from django.db.models import F

from projects.models import Project

ADJECTIVES = (
    "amber", "ancient", "autumn", "azure", "balmy", "bold", "brave", "breezy", "bright", "brisk",
    "bubbly", "calm", "cheerful", "clever", "cloudy", "cosmic", "cozy", "crimson", "crisp",
    "curious", "dainty", "dapper", "dashing", "dawn", "deft", "dewy", "dreamy", "dusky", "eager",
    "earnest", "easy", "electric", "elegant", "emerald", "fair", "fearless", "fluffy", "fresh",
    "friendly", "frosty", "gentle", "giddy", "gilded", "glad", "gleaming", "glowing", "golden",
    "graceful", "grand", "happy", "hardy", "hazy", "hearty", "helpful", "honest", "hopeful",
    "humble", "icy", "jolly", "jovial", "keen", "kind", "lively", "lucky", "lunar", "mellow",
    "merry", "mighty", "misty", "modest", "nimble", "noble", "peaceful", "plucky", "polished",
    "proud", "quick", "quiet", "radiant", "rapid", "rosy", "royal", "rustic", "serene", "shiny",
    "silent", "silver", "sleek", "smooth", "snowy", "solar", "sparkling", "spry", "stellar",
    "steady", "sunny", "swift", "tidy", "tranquil", "vivid", "warm", "wise", "witty", "zesty",
)  # fmt: skip

NOUNS = (
    "acorn", "aurora", "bay", "beacon", "bird", "blossom", "breeze", "brook", "butterfly",
    "canyon", "cedar", "cliff", "cloud", "clover", "comet", "coral", "cove", "creek", "dawn",
    "delta", "dew", "dune", "eagle", "ember", "falcon", "fern", "field", "firefly", "fjord",
    "flower", "fog", "forest", "fox", "frost", "galaxy", "garden", "glacier", "glade", "grove",
    "harbor", "hawk", "hill", "horizon", "island", "lagoon", "lake", "leaf", "lighthouse", "lily",
    "maple", "meadow", "meteor", "mist", "moon", "moss", "mountain", "nebula", "oak", "ocean",
    "orchard", "otter", "owl", "pebble", "pine", "planet", "pond", "prairie", "rain", "rainbow",
    "reef", "ridge", "river", "robin", "sea", "shadow", "shore", "sky", "snow", "sparrow", "spring",
    "star", "stone", "storm", "stream", "summit", "sun", "sunrise", "sunset", "surf", "thunder",
    "tide", "trail", "tree", "tulip", "valley", "violet", "water", "wave", "willow", "wind",
    "wood",
)  # fmt: skip


def run_name(number: int, rng: random.Random | None = None) -> str:
    """A friendly display name such as "keen-glade-300"; `rng` makes it repeatable (demo data)."""
    rng = rng or random
    return f"{rng.choice(ADJECTIVES)}-{rng.choice(NOUNS)}-{number}"


def run_numbers_reserve(project: Project, count: int = 1) -> range:
    """The sequence numbers of the next `count` runs created in `project`.

    A counter on the project row, raised by an UPDATE in the caller's transaction: the UPDATE
    holds the row's lock until that transaction ends, so two runs created at the same time get
    different numbers, and a creation that rolls back gives its number back. (Counting or taking
    the max of the runs instead would hand out the same number twice under concurrency, and
    would reuse numbers after runs are moved away or deleted.)"""
    Project.objects.filter(pk=project.pk).update(run_counter=F("run_counter") + count)
    last = Project.objects.filter(pk=project.pk).values_list("run_counter", flat=True).get()
    project.run_counter = last
    return range(last - count + 1, last + 1)
