"""All callback mapping tables, by direction, and their README rendering."""

from __future__ import annotations

from translators.callbacks import v1_to_v2, v2_to_twilio, v2_to_v1
from translators.callbacks.event_map import EventMap, map_rows

V2_TO_V1: tuple[EventMap, ...] = (v2_to_v1.GATHER, v2_to_v1.GATHER_HUNG_UP, v2_to_v1.DTMF, v2_to_v1.INCOMING_CALL,
                                  v2_to_v1.ANSWER, v2_to_v1.TIMEOUT, v2_to_v1.HANGUP)
V2_TO_TWILIO: tuple[EventMap, ...] = (v2_to_twilio.GATHER, v2_to_twilio.INITIATE, v2_to_twilio.ANSWER,
                                      v2_to_twilio.DISCONNECT)
V1_TO_V2: tuple[EventMap, ...] = (v1_to_v2.GATHER, v1_to_v2.DTMF)
ALL_MAPS: tuple[EventMap, ...] = (*V2_TO_V1, *V2_TO_TWILIO, *V1_TO_V2)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def event_map_table(event_map: EventMap) -> str:
    lines = [f"#### {event_map.name}", "", f"Required: {', '.join(f'`{r}`' for r in event_map.required)}. "
             + ("Unknown fields are kept." if event_map.keep_unknown else "Unknown fields are dropped."), "",
             "| field | from | rule |", "|---|---|---|"]
    for row in map_rows(event_map):
        source = row["source"] if row["source"].startswith('"') else f"`{row['source']}`"
        lines.append(f"| `{row['target']}` | {_cell(source)} | {_cell(row['note'])} |")
    return "\n".join(lines)


def documentation_table() -> str:
    """Markdown for the README: every callback mapping table."""
    return "\n\n".join(event_map_table(m) for m in ALL_MAPS)
