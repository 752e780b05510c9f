"""Reading a server-sent event stream as the REST route sends it (shared by the API tests)."""


def sse_events(text: str) -> list[tuple[str, str]]:
    """(event, data) pairs of a server-sent event stream."""
    events, kind = [], None
    for line in text.splitlines():
        if line.startswith("event:"):
            kind = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            events.append((kind, line.split(":", 1)[1].strip()))
    return events
