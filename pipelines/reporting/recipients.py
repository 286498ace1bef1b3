"""Who receives which report: the recipients file (``recipients.yml``) read and checked into
addresses by report kind, ministry and language."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from maglumat.languages import LANGUAGES
from pipelines.reporting.periods import REPORT_KINDS, WEEKLY, ministry_ids

RECIPIENTS_FILE = Path(__file__).with_name("recipients.yml")


@dataclass(frozen=True)
class RecipientBook:
    """Recipients by (report kind, ministry or None, language)."""

    addresses: dict[tuple[str, str | None, str], tuple[str, ...]]

    def recipients(self, kind: str, scope: str | None, language: str) -> tuple[str, ...]:
        return self.addresses.get((kind, scope, language), ())


def _addresses(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{where}: expected a list of e-mail addresses")
    for address in value:
        local, at, domain = address.partition("@")
        if not (local and at and "." in domain) or " " in address:
            raise ValueError(f"{where}: {address!r} is not an e-mail address")
    return tuple(value)


def _by_language(section: Any, where: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(section, dict):
        raise ValueError(f"{where}: expected languages ({', '.join(LANGUAGES)})")
    unknown = set(section) - set(LANGUAGES)
    if unknown:
        raise ValueError(f"{where}: unknown languages {sorted(unknown)}")
    return {lang: _addresses(value, f"{where}.{lang}") for lang, value in section.items()}


def load_recipients(path: Path = RECIPIENTS_FILE) -> RecipientBook:
    """Read and check the recipients file (see ``recipients.yml`` for its shape)."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    unknown = set(document) - set(REPORT_KINDS)
    if unknown:
        raise ValueError(f"{path}: unknown reports {sorted(unknown)}")
    addresses: dict[tuple[str, str | None, str], tuple[str, ...]] = {}
    for kind, section in document.items():
        if kind == WEEKLY:
            if not isinstance(section, dict):
                raise ValueError(f"{path}: {kind}: expected ministries")
            for ministry, languages in section.items():
                if ministry not in ministry_ids():
                    raise ValueError(f"{path}: {kind}: unknown ministry {ministry!r}")
                for language, values in _by_language(languages, f"{kind}.{ministry}").items():
                    addresses[(kind, ministry, language)] = values
        else:
            for language, values in _by_language(section, kind).items():
                addresses[(kind, None, language)] = values
    return RecipientBook(addresses)
