"""Every word of the library panel, in English and Chinese. Plain data."""

WORDS = {
    "en": {
    },
    "zh": {
    },
}
