"""Password policy: long enough, and not among the passwords people guess first.

zxcvbn scores a password by how many guesses an attacker needs, using lists of common
passwords, words and names plus keyboard patterns, repeats, sequences and dates. A score of
3 ("safely unguessable") or more is required; the user's own email counts as a known word.
"""

from __future__ import annotations

from collections.abc import Sequence

from zxcvbn import zxcvbn

from linktracker.errors import InvalidInput

MIN_LENGTH = 10
MAX_LENGTH = 200
MIN_SCORE = 3
# zxcvbn's matching grows quickly with length; the first 72 characters decide the score.
_SCORED_LENGTH = 72


def check_password(password: str, known_words: Sequence[str] = ()) -> None:
    """InvalidInput with a reason when the password is empty, short, long or easy to guess."""
    if not password.strip():
        _refuse("Set a password: an account without one cannot sign in.", "Required.")
    if len(password) < MIN_LENGTH:
        _refuse(
            f"Passwords need at least {MIN_LENGTH} characters.",
            f"At least {MIN_LENGTH} characters.",
        )
    if len(password) > MAX_LENGTH:
        _refuse(
            f"Passwords may have at most {MAX_LENGTH} characters.",
            f"At most {MAX_LENGTH} characters.",
        )
    inputs = [word for known in known_words for word in (known, known.split("@")[0]) if word]
    result = zxcvbn(password[:_SCORED_LENGTH], user_inputs=[*inputs, "linktracker"])
    if result["score"] < MIN_SCORE:
        feedback = result["feedback"]
        hints = [feedback["warning"], *feedback["suggestions"]]
        detail = " ".join(hint for hint in hints if hint)
        _refuse(
            "This password is too easy to guess. " + (detail or "Add another word or two."),
            "Too easy to guess.",
        )


def _refuse(message: str, field: str) -> None:
    raise InvalidInput(message, {"password": field})
