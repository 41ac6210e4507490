"""Demo users for development: fictional people, videos and phone numbers.

The numbers are in Ofcom's range kept for drama, +44 20 7946 0000 to 0999 (London, never
assigned to anyone), which `phonenumbers` accepts as valid. The named users take 0001 to
0004; generated users take 0100 on.
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers

DRAMA_PREFIX = "+44207946"  # followed by four digits
FIRST_GENERATED = 100
MAX_GENERATED = 900  # 0100 to 0999
_MEDIA = "https://example.com/demo"  # a reserved domain: nothing real is linked


@dataclass(frozen=True, slots=True)
class DemoVideo:
    """A video a demo user lists."""

    title: str
    duration_s: int


@dataclass(frozen=True, slots=True)
class DemoUser:
    """A demo user: the number they log in with (E.164) and what their profile shows."""

    phone: str
    display_name: str
    bio: str
    videos: tuple[DemoVideo, ...]

    @property
    def slug(self) -> str:
        """A stable name for the user's demo media URLs."""
        return "u" + self.phone[-4:]

    def avatar_url(self) -> str:
        """The avatar's URL."""
        return f"{_MEDIA}/avatars/{self.slug}.png"

    def cover_url(self, index: int) -> str:
        """The cover image URL of video `index`."""
        return f"{_MEDIA}/covers/{self.slug}-{index}.jpg"


def drama_number(n: int) -> str:
    """The `n`th number of the drama range, checked with `phonenumbers`."""
    if not 0 <= n <= 999:
        raise ValueError("the drama range has 1,000 numbers: 0 to 999")
    e164 = f"{DRAMA_PREFIX}{n:04d}"
    if not phonenumbers.is_valid_number(phonenumbers.parse(e164)):
        raise ValueError("phonenumbers does not accept the drama range any more")
    return e164


def named_users() -> list[DemoUser]:
    """The fixed demo users, each with a fictional profile and videos."""
    people = [
        (
            "Ada Lumen",
            "Makes ten-second desk-lamp time-lapses.",
            ["Sunrise on a desk", "Lamp tour"],
        ),
        ("Bruno Vale", "Street-food reviews from a city that does not exist.", ["Noodle night"]),
        ("Chiara Rhee", "Loops on a toy piano.", ["Toy piano loop 1", "Toy piano loop 2", "Duet"]),
        ("Dev Tester", "The account the examples log in with.", []),
    ]
    return [
        DemoUser(
            phone=drama_number(i + 1),
            display_name=name,
            bio=bio,
            videos=tuple(DemoVideo(title=t, duration_s=15 + 7 * j) for j, t in enumerate(titles)),
        )
        for i, (name, bio, titles) in enumerate(people)
    ]


def generated_users(count: int, *, videos_per_user: int) -> list[DemoUser]:
    """`count` numbered demo users with `videos_per_user` videos each."""
    if not 0 <= count <= MAX_GENERATED:
        raise ValueError(f"at most {MAX_GENERATED} generated demo users")
    return [
        DemoUser(
            phone=drama_number(FIRST_GENERATED + i),
            display_name=f"Demo User {i + 1:03d}",
            bio="A generated demo account.",
            videos=tuple(
                DemoVideo(title=f"Demo clip {j + 1}", duration_s=10 + (i + j) % 50)
                for j in range(videos_per_user)
            ),
        )
        for i in range(count)
    ]
