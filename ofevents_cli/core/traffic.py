"""Believable EventBus traffic for the emulator: many chats and typing, fewer tips and PPV.

Pure: the randomness (`random.Random`) and the time (`now` as ISO text) are passed in, so a
seed reproduces the same stream.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["WEIGHTS", "Account", "Traffic", "accounts"]

# event type -> relative frequency
WEIGHTS: dict[str, int] = {
    "typing": 30, "chat_message": 28, "online": 12, "counts": 8, "chat_message_like": 5,
    "tip": 4, "ppv_sent": 3, "system_message": 2, "ppv_purchase": 2, "new_subscriber": 2,
    "chat_message_unlike": 1, "returning_subscriber": 1,
}

_CREATORS = (
    ("384751629", "Lena Rose", "lenarose"), ("518273946", "Mia Hart", "miahart"),
    ("602938174", "Sofia Vale", "sofiavale"), ("729384615", "Ava Monroe", "avamonroe"),
    ("835172649", "Chloe Bennett", "chloeb"), ("946281735", "Ruby Lane", "rubylane"),
)
_FANS = ("Jake M", "Tom Becker", "Chris", "Daniel R", "Marco", "Sam W", "Luis G", "Ben",
         "Alex T", "Ryan", "Noah P", "Kevin", "Jordan", "Eli", "Matt D", "Oscar")
_FROM_FAN = (
    "<p>hey babe 😘 did you like the new set?</p>", "<p>good morning beautiful ☀️</p>",
    "<p>that last post <b>wow</b></p>", "<p>are you doing a stream tonight?</p>",
    "<p>just tipped you, check it 💸</p>", "<p>can I get a custom? what's the price</p>",
    "<p>miss you already</p>", "<p>lol you're the best &amp; you know it</p>",
    "<p>unlocked it, worth every cent 🔥</p>", "<p>how was your weekend?</p>",
)
_FROM_CREATOR = (
    "<p>thank you so much babe 💕</p>", "<p>new set drops tonight, stay tuned 😉</p>",
    "<p>something special for you… 🔒</p>", "<p>aww you're sweet</p>",
    "<p>streaming at 9pm, don't be late!</p>",
)
_TIP_NOTES = ("for the new set 🔥", "you deserve it", "", "coffee on me ☕", "custom request",
              "happy birthday!!", "")
_PRICES = (4.99, 7.99, 9.99, 12.99, 15.0, 20.0, 25.0, 30.0, 49.99)
_TIPS = (1.0, 2.0, 5.0, 5.0, 10.0, 10.0, 15.0, 20.0, 25.0, 50.0, 100.0)


@dataclass(frozen=True)
class Account:
    """One managed creator account."""

    id: str
    name: str
    username: str


def accounts(count: int, rng: random.Random) -> tuple[Account, ...]:
    """`count` creator accounts: the well-known ones first, then made-up ones."""
    out = [Account(*c) for c in _CREATORS[:count]]
    while len(out) < count:
        out.append(Account(str(rng.randrange(100_000_000, 999_999_999)),
                           f"Creator {len(out) + 1}", f"creator{len(out) + 1}"))
    return tuple(out)


@dataclass(frozen=True)
class _Fan:
    id: int
    name: str
    username: str

    @property
    def uid(self) -> str:
        """The id as EventBus `userId` fields carry it: BetterFans documents them as strings
        (a message's fromUser / toUser keep the numeric OnlyFans id)."""
        return str(self.id)


class Traffic:
    """An endless, seedable stream of (event, accountId, data) triples."""

    def __init__(self, rng: random.Random, creators: Sequence[Account]) -> None:
        self._rng = rng
        self._creators = tuple(creators)
        self._fans = tuple(_Fan(n, name, f"u{n}") for name in _FANS
                           for n in [rng.randrange(100_000_000, 999_999_999)])
        self._message_id = rng.randrange(4_800_000_000, 4_900_000_000)
        self._types = tuple(WEIGHTS)
        self._weights = tuple(WEIGHTS.values())

    def next(self, now: str) -> tuple[str, str, dict[str, Any]]:
        """The next event: its type, the account it belongs to, and its data."""
        rng = self._rng
        event = rng.choices(self._types, self._weights)[0]
        creator = rng.choice(self._creators)
        fan = rng.choice(self._fans)
        return event, creator.id, self._data(event, creator, fan, now)

    def _new_message_id(self) -> int:
        self._message_id += self._rng.randrange(1, 40)
        return self._message_id

    def _data(self, event: str, creator: Account, fan: _Fan, now: str) -> dict[str, Any]:
        rng = self._rng
        if event == "chat_message":
            return self._chat(creator, fan, now)
        if event == "typing":
            return {"userId": fan.uid, "chatId": fan.uid, "isTyping": rng.random() < 0.8}
        if event == "online":
            return {"userId": fan.uid, "isOnline": rng.random() < 0.6, "lastSeen": now}
        if event == "counts":
            return {"chats": {"unread": rng.randrange(0, 60), "priority": rng.randrange(0, 8)},
                    "notifications": {"new": rng.randrange(0, 120)}}
        if event in ("chat_message_like", "chat_message_unlike"):
            return {"messageId": self._message_id - rng.randrange(0, 50), "userId": fan.uid}
        if event == "tip":
            return {"amount": rng.choice(_TIPS), "userId": fan.uid,
                    "message": rng.choice(_TIP_NOTES),
                    "context": rng.choice(("message", "message", "post", "stream", "profile"))}
        if event == "ppv_sent":
            return {"messageId": self._new_message_id(), "toUserId": fan.uid,
                    "price": rng.choice(_PRICES), "mediaCount": rng.randrange(1, 12)}
        if event == "ppv_purchase":
            return {"messageId": self._message_id - rng.randrange(0, 80), "userId": fan.uid,
                    "price": rng.choice(_PRICES)}
        if event == "system_message":
            what = rng.choice(("renewed their subscription", "subscribed", "sent you a tip"))
            return {"id": self._new_message_id(), "text": f"<p>{fan.name} {what}</p>",
                    "createdAt": now}
        trial = rng.random() < 0.2
        return {"userId": fan.uid, "price": 0.0 if trial else rng.choice(_PRICES[:4]),
                "isTrial": trial}

    def _chat(self, creator: Account, fan: _Fan, now: str) -> dict[str, Any]:
        rng = self._rng
        fan_user = {"id": fan.id, "name": fan.name, "username": fan.username}
        creator_user = {"id": int(creator.id), "name": creator.name, "username": creator.username}
        inbound = rng.random() < 0.7
        price = 0.0 if inbound or rng.random() < 0.7 else rng.choice(_PRICES)
        media = [] if price == 0 and rng.random() < 0.85 else [
            {"id": self._new_message_id(), "type": rng.choice(("photo", "video")),
             "canView": price == 0} for _ in range(rng.randrange(1, 5))]
        return {"id": self._new_message_id(),
                "text": rng.choice(_FROM_FAN if inbound else _FROM_CREATOR),
                "fromUser": fan_user if inbound else creator_user,
                "toUser": creator_user if inbound else fan_user,
                "price": price, "media": media, "createdAt": now,
                "isFree": price == 0, "isOpened": inbound and rng.random() < 0.5}
