"""Name matching for English and Arabic place names.

`match_key` folds case, accents, Arabic letter variants and diacritics, punctuation and
the definite article, so that "Al Kufra", "Alkufra" and "الكفرة" / "الكفره" meet. `skeleton`
goes further for Latin transliterations (vowels and doubled letters dropped, q/k and
trailing h folded) so that "Darnah" meets "Derna"; it is used only as a fallback.
"""

from __future__ import annotations

import re
import unicodedata

_ARABIC_DIACRITICS = re.compile("[\u064b-\u065f\u0670\u0640]")  # tashkeel, dagger alef, tatweel
_ARABIC_FOLD = str.maketrans(
    {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي", "ؤ": "و", "ئ": "ي"}
)
_ARABIC_LETTER = re.compile("[\u0600-\u06ff]")
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
_LATIN_ARTICLE = re.compile(r"^(al|el)(?=[a-z]{3})")
_ARABIC_ARTICLE = re.compile(r"^ال(?=..)")


def is_arabic(text: str) -> bool:
    return bool(_ARABIC_LETTER.search(text))


def match_key(name: str) -> str:
    """Normalised form of a place name for exact look-ups (English or Arabic)."""
    text = unicodedata.normalize("NFKC", name).strip()
    if is_arabic(text):
        text = _ARABIC_DIACRITICS.sub("", text).translate(_ARABIC_FOLD)
        words = [_ARABIC_ARTICLE.sub("", w) for w in _NOT_WORD.split(text) if w]
        return "".join(words)
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    joined = "".join(w for w in _NOT_WORD.split(text) if w)
    return _LATIN_ARTICLE.sub("", joined)


def skeleton(name: str) -> str:
    """A looser key for Latin transliterations; Arabic names fall back to match_key."""
    key = match_key(name)
    if is_arabic(key):
        return key
    key = key.replace("q", "k").replace("ph", "f").replace("ou", "u")
    key = re.sub(r"h$", "", key)
    key = re.sub(r"(?<=[^aeiouy])h", "", key)  # kh/gh/sh/th spelled with or without the h
    key = re.sub(r"(.)\1+", r"\1", key)
    first, rest = key[:1], re.sub(r"[aeiouy]", "", key[1:])
    return first + rest if first not in "aeiouy" else rest or first


def closest(name: str, candidates: dict[str, str], limit: int = 3) -> list[str]:
    """Up to `limit` candidate labels closest to `name` ({key: label})."""
    import difflib

    key = match_key(name)
    hits = difflib.get_close_matches(key, list(candidates), n=limit * 3, cutoff=0.6)
    labels: list[str] = []
    for hit in hits:
        if candidates[hit] not in labels:
            labels.append(candidates[hit])
    return labels[:limit]
