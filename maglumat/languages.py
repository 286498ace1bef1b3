"""The languages Maglumat speaks, in the order it names things: Turkmen, Russian, English."""

LANGUAGES = ("tk", "ru", "en")
