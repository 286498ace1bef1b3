"""Numbers, dates and fixed labels in the reader's language (Turkmen, Russian, English).

Numbers: Turkmen and Russian group thousands with a no-break space and use a decimal comma;
English groups with a comma and uses a decimal point. Dates: Turkmen "2023-nji ýylyň
1-nji oktýabry", Russian "1 октября 2023 г.", English "1 October 2023".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

import yaml

from maglumat import clock
from maglumat.languages import LANGUAGES
from warehouse.reports.content import Headline

LABELS_FILE = Path(__file__).parent / "labels.yml"
NO_BREAK_SPACE = "\u00a0"
MISSING = "–"

# Month names: the Turkmen possessive form follows a day ("1-nji oktýabry"), the plain form a
# year ("2023-nji ýylyň oktýabry" uses the possessive too); Russian genitive after a day.
_MONTHS_TK = (
    "ýanwar", "fewral", "mart", "aprel", "maý", "iýun",
    "iýul", "awgust", "sentýabr", "oktýabr", "noýabr", "dekabr",
)  # fmt: skip
# On a chart axis: three letters, but June and July keep four to stay apart.
_MONTHS_TK_SHORT = (
    "ýan", "few", "mar", "apr", "maý", "iýun",
    "iýul", "awg", "sen", "okt", "noý", "dek",
)  # fmt: skip
_MONTHS_TK_POSSESSIVE = (
    "ýanwary", "fewraly", "marty", "apreli", "maýy", "iýuny",
    "iýuly", "awgusty", "sentýabry", "oktýabry", "noýabry", "dekabry",
)  # fmt: skip
_MONTHS_RU = (
    "январь", "февраль", "март", "апрель", "май", "июнь",
    "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь",
)  # fmt: skip
_MONTHS_RU_GENITIVE = (
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
)  # fmt: skip
_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

# Turkmen ordinals take -njy after a back vowel and -nji after a front one; the vowel is that of
# the last word spoken: alty (6), dokuz (9), on (10), otuz (30), kyrk (40), altmyş (60) and
# togsan (90) are back; the others (bir, iki, üç, dört, bäş, ýedi, sekiz, ýigrimi, elli, ýetmiş,
# segsen, ýüz, müň) are front.
_BACK_UNITS = {6, 9}
_BACK_TENS = {1, 3, 4, 6, 9}


def turkmen_ordinal(number: int) -> str:
    """``number`` with its Turkmen ordinal suffix: 1-nji, 6-njy, 10-njy, 2023-nji."""
    if number % 10:
        back = number % 10 in _BACK_UNITS
    elif number % 100:
        back = (number % 100) // 10 in _BACK_TENS
    else:
        back = False  # ýüz, müň
    return f"{number}-{'njy' if back else 'nji'}"


@cache
def _labels() -> dict[str, dict[str, str]]:
    with LABELS_FILE.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def all_labels() -> dict[str, dict[str, str]]:
    """Every fixed label, key -> {language: text}."""
    return _labels()


# Turkmen letters in English text: the transliteration the reference data uses for places
# (Daşoguz -> Dashoguz, Döwletli -> Dovletli), applied to every Turkmen name in English.
_LATIN_TRANSLITERATION = str.maketrans(
    {
        "ş": "sh", "Ş": "Sh", "ç": "ch", "Ç": "Ch", "ž": "zh", "Ž": "Zh",
        "ň": "n", "Ň": "N", "ý": "y", "Ý": "Y", "ä": "a", "Ä": "A",
        "ö": "o", "Ö": "O", "ü": "u", "Ü": "U", "w": "v", "W": "V",
    }
)  # fmt: skip


def english_name(turkmen: str) -> str:
    """A Turkmen proper name as English text writes it."""
    return turkmen.translate(_LATIN_TRANSLITERATION)


# Turkmen Latin in Russian text, letter by letter as Russian writes Turkmen names (Tejen -> Теджен,
# Büzmeýin -> Бузмейин). Names with an established Russian form (Aşgabat -> Ашхабад, Garagum ->
# Каракум) follow no rule: the reference's name is used for those, see Formatter.proper_name.
_CYRILLIC_CONSONANTS = {
    "b": "б", "c": "ц", "ç": "ч", "d": "д", "f": "ф", "g": "г", "h": "х", "j": "дж", "k": "к",
    "l": "л", "m": "м", "n": "н", "ň": "н", "p": "п", "q": "к", "r": "р", "s": "с", "ş": "ш",
    "t": "т", "v": "в", "w": "в", "x": "кс", "z": "з", "ž": "ж",
}  # fmt: skip
_CYRILLIC_VOWELS = {
    "a": "а", "ä": "а", "e": "е", "i": "и", "o": "о", "ö": "ё", "u": "у", "ü": "у", "y": "ы",
}  # fmt: skip
# ý and the vowel after it are one Cyrillic letter (Saýat -> Саят).
_CYRILLIC_Y_VOWEL = {"a": "я", "ä": "я", "e": "е", "o": "ё", "ö": "ё", "u": "ю", "ü": "ю"}
_TURKMEN_WORD = re.compile(r"[A-Za-zÄäÇçŇňÖöŞşÜüÝýŽž]+")


def _russian_word(word: str) -> str:
    lower = word.lower()
    letters: list[str] = []
    position = 0
    while position < len(lower):
        letter = lower[position]
        following = lower[position + 1 : position + 2]
        if letter == "ý" and following and following in _CYRILLIC_Y_VOWEL:
            letters.append(_CYRILLIC_Y_VOWEL[following])
            position += 2
            continue
        if letter == "ý":
            letters.append("й")
        elif letter == "e" and (position == 0 or lower[position - 1] in _CYRILLIC_VOWELS):
            letters.append("э")  # Esenguly -> Эсенгулы
        else:
            letters.append(_CYRILLIC_VOWELS.get(letter) or _CYRILLIC_CONSONANTS.get(letter, letter))
        position += 1
    text = "".join(letters)
    if word[:1].isupper():
        text = text[:1].upper() + text[1:]
    if len(word) > 1 and word.isupper():
        text = text.upper()
    return text


def russian_name(turkmen: str) -> str:
    """A Turkmen proper name as Russian text writes it, by the letter."""
    return _TURKMEN_WORD.sub(lambda match: _russian_word(match.group(0)), turkmen)


_TRANSLITERATIONS: dict[str, Callable[[str], str]] = {
    "en": english_name,
    "ru": russian_name,
    "tk": lambda turkmen: turkmen,
}


@dataclass(frozen=True)
class Formatter:
    """Formats values and looks up fixed labels for one language."""

    language: str = "tk"
    # Names of coded values (marts.dim_breakdowns) in this language, by code.
    names: Mapping[str, str] = field(default_factory=dict, compare=False)
    # Places in this language (reference.ref_provinces, ref_districts), by their Turkmen name.
    place_names: Mapping[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise ValueError(f"unknown language {self.language!r}; expected one of {LANGUAGES}")

    def proper_name(self, turkmen: str | None) -> str | None:
        """A name the warehouse holds only in Turkmen (an enterprise's) as this language writes it,
        one rule for every name: a place the reference knows takes the reference's name, whole or
        as a word of a longer name (Garagum -> Каракум); any other word is transliterated."""
        if turkmen is None or self.language == "tk":
            return turkmen
        if turkmen in self.place_names:
            return self.place_names[turkmen]
        transliterate = _TRANSLITERATIONS[self.language]
        return _TURKMEN_WORD.sub(
            lambda match: self.place_names.get(match.group(0)) or transliterate(match.group(0)),
            turkmen,
        )

    def label(self, key: str, **values: object) -> str:
        """The fixed label ``key`` in this language, with ``{name}`` placeholders filled."""
        try:
            text = _labels()[key][self.language]
        except KeyError as error:
            raise KeyError(f"label {key!r} has no {self.language!r} text in labels.yml") from error
        return text.format(**values) if values else text

    def number(self, value: float | int | None, digits: int = 0) -> str:
        """``value`` rounded to ``digits`` decimals with this language's separators."""
        if value is None:
            return MISSING
        text = f"{value:,.{digits}f}"
        if text in (f"-{0:.{digits}f}",):  # a value rounding to zero is not negative
            text = text[1:]
        if self.language == "en":
            return text
        return text.replace(",", NO_BREAK_SPACE).replace(".", ",")

    def signed(self, value: float | None, digits: int = 1) -> str:
        """A change with its sign: +1,5 / −0,3 (en: +1.5 / −0.3)."""
        if value is None:
            return MISSING
        text = self.number(abs(value), digits)
        zero = self.number(0, digits)
        if text == zero:
            return text
        return ("+" if value > 0 else "−") + text

    def percent(self, value: float | None, digits: int = 1) -> str:
        return MISSING if value is None else f"{self.number(value, digits)}{NO_BREAK_SPACE}%"

    def figure(
        self,
        amount: float | int | dt.date | None,
        label: str,
        *,
        kind: Literal["number", "percent", "date"] = "number",
        digits: int = 0,
        unit: str = "",
        status: str | None = None,
    ) -> Headline:
        """A headline figure: its text in this language derived from the typed amount the
        workbook keeps, so the two never disagree."""
        if kind == "percent":
            text = self.percent(amount, digits)  # type: ignore[arg-type]
        elif kind == "date":
            text = self.short_date(amount)  # type: ignore[arg-type]
        else:
            text = self.number(amount, digits)  # type: ignore[arg-type]
            if unit and amount is not None:
                text = f"{text} {unit}"
        return Headline(text, label, status, amount=amount, kind=kind, digits=digits, unit=unit)

    def date(self, value: dt.date | None) -> str:
        """A day written out: tk "2023-nji ýylyň 1-nji oktýabry", ru "1 октября 2023 г."."""
        if value is None:
            return MISSING
        month = value.month - 1
        if self.language == "tk":
            return (
                f"{turkmen_ordinal(value.year)} ýylyň "
                f"{turkmen_ordinal(value.day)} {_MONTHS_TK_POSSESSIVE[month]}"
            )
        if self.language == "ru":
            return f"{value.day} {_MONTHS_RU_GENITIVE[month]} {value.year} г."
        return f"{value.day} {_MONTHS_EN[month]} {value.year}"

    def short_date(self, value: dt.date | None) -> str:
        """A day in table cells: 01.10.2023 (tk, ru) or 1 Oct 2023 (en)."""
        if value is None:
            return MISSING
        if self.language == "en":
            return f"{value.day} {_MONTHS_EN[value.month - 1][:3]} {value.year}"
        return value.strftime("%d.%m.%Y")

    def month(self, value: dt.date) -> str:
        """A month: tk "2023-nji ýylyň oktýabry", ru "октябрь 2023 г.", en "October 2023"."""
        month = value.month - 1
        if self.language == "tk":
            return f"{turkmen_ordinal(value.year)} ýylyň {_MONTHS_TK_POSSESSIVE[month]}"
        if self.language == "ru":
            return f"{_MONTHS_RU[month]} {value.year} г."
        return f"{_MONTHS_EN[month]} {value.year}"

    def month_short(self, value: dt.date) -> str:
        """A month on a chart axis: "okt 2023", "окт 2023", "Oct 2023"; each month its own
        ("iýun" and "iýul" share their first three letters)."""
        if self.language == "tk":
            return f"{_MONTHS_TK_SHORT[value.month - 1]} {value.year}"
        names = _MONTHS_RU if self.language == "ru" else _MONTHS_EN
        return f"{names[value.month - 1][:3]} {value.year}"

    def week(self, monday: dt.date) -> str:
        """An ISO week: its number and its days."""
        sunday = monday + dt.timedelta(days=6)
        number = monday.isocalendar().week
        return self.label(
            "period.week",
            week=turkmen_ordinal(number) if self.language == "tk" else number,
            start=self.short_date(monday),
            end=self.short_date(sunday),
        )

    def timestamp(self, value: str | dt.datetime | None) -> str:
        """An instant (snapshot.json keeps UTC) as a reader in Aşgabat reads it: the date and
        time to the minute there, with the zone named."""
        if value is None:
            return MISSING
        moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)  # recorded in UTC
        local = moment.astimezone(clock.LOCAL_TIMEZONE)
        return f"{self.short_date(local.date())} {local:%H:%M} {self.label('time_zone')}"
