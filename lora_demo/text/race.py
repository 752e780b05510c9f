"""Every word of the race panel, in English and Chinese. Plain data."""

WORDS = {
    "en": {
    },
    "zh": {
    },
}
