"""Every word of the real panel, in English and Chinese. Plain data."""

WORDS = {
    "en": {
    },
    "zh": {
    },
}
