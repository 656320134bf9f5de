"""Voices and languages: Twilio ``<Say>`` voices to Bandwidth ``<SpeakSentence>`` attributes.

Sources: ``shared/spec/bxml-v2.md`` §2.3 (Bandwidth voices, locales, the BCP-47 -> locale
table) and ``shared/spec/twiml.md`` §4 (Twilio voices, the Polly -> Bandwidth name
mapping).  The language and gender of each Amazon Polly voice come from Amazon Polly's
published voice list.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

# Bandwidth voices: name -> (locale, gender).  "enhanced" voices are billed extra.
BANDWIDTH_VOICES: dict[str, tuple[str, str]] = {
    "julie": ("en_US", "female"), "kate": ("en_US", "female"), "susan": ("en_US", "female"),
    "dave": ("en_US", "male"), "paul": ("en_US", "male"),
    "bridget": ("en_UK", "female"), "simon": ("en_UK", "male"),
    "katrin": ("de", "female"), "stefan": ("de", "male"),
    "esperanza": ("es", "female"), "violeta": ("es", "female"), "jorge": ("es", "male"),
    "rosa": ("es_MX", "female"),
    "jolie": ("fr", "female"), "bernard": ("fr", "male"),
    "paola": ("it", "female"), "luca": ("it", "male"),
    "masako": ("ja", "female"), "kenji": ("ja", "male"),
    "nadiya": ("ru", "female"), "anatoli": ("ru", "male"),
    "zeina": ("arb", "female"), "zhiyu": ("cmn-CN", "female"),
    "ruth": ("en_US", "female"), "stephen": ("en_US", "male"),
    "lupe": ("es_US", "female"), "pedro": ("es_US", "male"),
    "gabrielle": ("fr_CA", "female"), "liam": ("fr_CA", "male"),
}
ENHANCED_VOICES = frozenset({"ruth", "stephen", "lupe", "pedro", "gabrielle", "liam"})

BANDWIDTH_LOCALES = ("en_US", "en_UK", "es", "es_MX", "es_US", "fr", "fr_CA", "de", "it", "ja", "ru", "arb",
                     "cmn-CN")

# Polly voices Bandwidth exposes under its own names (twiml.md §4).
POLLY_TO_BANDWIDTH: dict[str, str] = {
    "Joanna": "julie", "Kendra": "kate", "Kimberly": "susan", "Matthew": "dave", "Amy": "bridget",
    "Brian": "simon", "Marlene": "katrin", "Hans": "stefan", "Conchita": "esperanza", "Lucia": "violeta",
    "Enrique": "jorge", "Mia": "rosa", "Celine": "jolie", "Mathieu": "bernard", "Carla": "paola",
    "Giorgio": "luca", "Mizuki": "masako", "Takumi": "kenji", "Tatyana": "nadiya", "Maxim": "anatoli",
    "Zeina": "zeina", "Zhiyu": "zhiyu",
}
# Neural-only Bandwidth voices: only the -Neural Polly voice maps to them.
POLLY_NEURAL_TO_BANDWIDTH: dict[str, str] = {
    "Ruth": "ruth", "Stephen": "stephen", "Lupe": "lupe", "Pedro": "pedro", "Gabrielle": "gabrielle",
    "Liam": "liam",
}

_F, _M = "female", "male"
# Amazon Polly voices: name -> (BCP-47 language, gender).
POLLY_VOICES: dict[str, tuple[str, str]] = {
    "Aditi": ("hi-IN", _F), "Amy": ("en-GB", _F), "Astrid": ("sv-SE", _F), "Bianca": ("it-IT", _F),
    "Brian": ("en-GB", _M), "Camila": ("pt-BR", _F), "Carla": ("it-IT", _F), "Carmen": ("ro-RO", _F),
    "Celine": ("fr-FR", _F), "Chantal": ("fr-CA", _F), "Conchita": ("es-ES", _F), "Cristiano": ("pt-PT", _M),
    "Dora": ("is-IS", _F), "Emma": ("en-GB", _F), "Enrique": ("es-ES", _M), "Ewa": ("pl-PL", _F),
    "Filiz": ("tr-TR", _F), "Geraint": ("en-GB-WLS", _M), "Giorgio": ("it-IT", _M), "Gwyneth": ("cy-GB", _F),
    "Hans": ("de-DE", _M), "Ines": ("pt-PT", _F), "Ivy": ("en-US", _F), "Jacek": ("pl-PL", _M),
    "Jan": ("pl-PL", _M), "Joanna": ("en-US", _F), "Joey": ("en-US", _M), "Justin": ("en-US", _M),
    "Karl": ("is-IS", _M), "Kendra": ("en-US", _F), "Kevin": ("en-US", _M), "Kimberly": ("en-US", _F),
    "Lea": ("fr-FR", _F), "Liv": ("nb-NO", _F), "Lotte": ("nl-NL", _F), "Lucia": ("es-ES", _F),
    "Lupe": ("es-US", _F), "Mads": ("da-DK", _M), "Maja": ("pl-PL", _F), "Marlene": ("de-DE", _F),
    "Mathieu": ("fr-FR", _M), "Matthew": ("en-US", _M), "Maxim": ("ru-RU", _M), "Mia": ("es-MX", _F),
    "Miguel": ("es-US", _M), "Mizuki": ("ja-JP", _F), "Naja": ("da-DK", _F), "Nicole": ("en-AU", _F),
    "Penelope": ("es-US", _F), "Raveena": ("en-IN", _F), "Ricardo": ("pt-BR", _M), "Ruben": ("nl-NL", _M),
    "Russell": ("en-AU", _M), "Salli": ("en-US", _F), "Seoyeon": ("ko-KR", _F), "Takumi": ("ja-JP", _M),
    "Tatyana": ("ru-RU", _F), "Vicki": ("de-DE", _F), "Vitoria": ("pt-BR", _F), "Zeina": ("arb", _F),
    "Zhiyu": ("cmn-CN", _F),
    # neural-only voices
    "Adriano": ("it-IT", _M), "Andres": ("es-MX", _M), "Aria": ("en-NZ", _F), "Arlet": ("ca-ES", _F),
    "Arthur": ("en-GB", _M), "Ayanda": ("en-ZA", _F), "Burcu": ("tr-TR", _F), "Daniel": ("de-DE", _M),
    "Danielle": ("en-US", _F), "Elin": ("sv-SE", _F), "Gabrielle": ("fr-CA", _F), "Gregory": ("en-US", _M),
    "Hala": ("ar-AE", _F), "Hannah": ("de-AT", _F), "Hiujin": ("yue-CN", _F), "Ida": ("nb-NO", _F),
    "Isabelle": ("fr-BE", _F), "Kajal": ("en-IN", _F), "Kazuha": ("ja-JP", _F), "Laura": ("nl-NL", _F),
    "Liam": ("fr-CA", _M), "Lisa": ("nl-BE", _F), "Niamh": ("en-IE", _F), "Ola": ("pl-PL", _F),
    "Olivia": ("en-AU", _F), "Pedro": ("es-US", _M), "Remi": ("fr-FR", _M), "Ruth": ("en-US", _F),
    "Sergio": ("es-ES", _M), "Sofie": ("da-DK", _F), "Stephen": ("en-US", _M), "Suvi": ("fi-FI", _F),
    "Thiago": ("pt-BR", _M), "Tomoko": ("ja-JP", _F), "Zayd": ("ar-AE", _M),
}

# Legacy Twilio voices -> gender (the mapping; the locale comes from `language`).
LEGACY_VOICES: dict[str, str] = {"man": "male", "woman": "female", "alice": "female"}
TWILIO_DEFAULT_VOICE = "man"
TWILIO_DEFAULT_LANGUAGE = "en-US"

# BCP-47 (lower-cased) -> Bandwidth locale (bxml-v2.md §2.3).
_LOCALES: dict[str, str] = {
    "en-us": "en_US", "en": "en_US", "en-gb": "en_UK",
    "es-es": "es", "es": "es", "es-mx": "es_MX", "es-us": "es_US",
    "fr-fr": "fr", "fr": "fr", "fr-ca": "fr_CA",
    "de-de": "de", "de": "de", "it-it": "it", "it": "it",
    "ja-jp": "ja", "ru-ru": "ru", "arb": "arb",
    "zh-cn": "cmn-CN", "cmn-cn": "cmn-CN",
}


def bandwidth_locale(language: str) -> str | None:
    """Bandwidth's ``locale`` for a BCP-47 tag, or None when Bandwidth documents no voice for it."""
    tag = language.strip().lower().replace("_", "-")
    if tag in _LOCALES:
        return _LOCALES[tag]
    if tag.startswith("ar-"):
        return "arb"
    return None


@dataclass(frozen=True)
class VoiceChoice:
    """``<SpeakSentence>`` attributes for one Twilio voice/language pair, and what was lost."""

    voice: str | None = None
    gender: str | None = None
    locale: str | None = None
    approximated: str | None = None  # message for BXM205
    unknown: bool = False  # BXM206
    unsupported_language: str | None = None  # BXM207: the language that has no locale


def _unknown_voice(language: str | None) -> VoiceChoice:
    """An unknown voice: nothing to derive from it, but a stated ``language`` still gives the locale."""
    if language is None:
        return VoiceChoice(unknown=True)
    locale = bandwidth_locale(language)
    return VoiceChoice(locale=locale, unknown=True, unsupported_language=None if locale else language)


@lru_cache(maxsize=1024)
def choose_voice(voice: str | None, language: str | None) -> VoiceChoice:
    """Map a Twilio ``voice``/``language`` pair (either may be absent) to Bandwidth attributes.

    Pure, and its result is immutable: kept per pair (documents repeat the same few voices).
    """
    name = (voice or TWILIO_DEFAULT_VOICE).strip()
    lang = (language or "").strip() or None

    if name in LEGACY_VOICES:
        effective = lang or TWILIO_DEFAULT_LANGUAGE
        locale = bandwidth_locale(effective)
        return VoiceChoice(gender=LEGACY_VOICES[name], locale=locale,
                           unsupported_language=None if locale else effective)

    if name.startswith("Polly."):
        base, _, engine = name[len("Polly."):].partition("-")
        if engine and engine not in ("Neural", "Generative"):
            return _unknown_voice(lang)
        mapped = POLLY_TO_BANDWIDTH.get(base) or (POLLY_NEURAL_TO_BANDWIDTH.get(base) if engine else None)
        if mapped:
            note = None
            if engine and mapped not in ENHANCED_VOICES:
                note = f"{name} is a {engine.lower()} voice; Bandwidth's {mapped} is the standard engine voice"
            return VoiceChoice(voice=mapped, approximated=note)
        if base in POLLY_VOICES:
            poly_lang, gender = POLLY_VOICES[base]
            locale = bandwidth_locale(poly_lang)
            message = (f"{name} has no Bandwidth voice of that name; using a {gender} "
                       f"{locale or 'default-locale'} voice")
            return VoiceChoice(gender=gender, locale=locale, approximated=message,
                               unsupported_language=None if locale else poly_lang)
        return _unknown_voice(lang)

    if name.startswith("Google."):
        parts = name[len("Google."):].split("-")
        if len(parts) >= 3:
            google_lang = "-".join(parts[:2])
            locale = bandwidth_locale(google_lang)
            message = (f"{name} has no Bandwidth voice of that name; using the {locale or 'default'} locale "
                       "(the Google voice's gender is not derivable from its name)")
            return VoiceChoice(locale=locale, approximated=message,
                               unsupported_language=None if locale else google_lang)
        return _unknown_voice(lang)

    return _unknown_voice(lang)
