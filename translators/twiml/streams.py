"""Media streams: ``<Start><Stream>`` -> ``<StartStream>``, ``<Stop><Stream>`` -> ``<StopStream>``."""

from __future__ import annotations

from lxml import etree

from translators.attribute_rules import plan_for
from translators.bxml_writer import VERB_LEVEL, container, markup, start_tag
from translators.twiml import tables
from translators.twiml.context import TwimlContext, element_children, local_name

# The verb tables, compiled once.
_STREAM = plan_for(tables.STREAM)
_START = plan_for(tables.START)
_STOP = plan_for(tables.STOP)
_STOP_STREAM = plan_for(tables.STOP_STREAM)

MAX_STREAM_PARAMS = 12


def _stream(noun: etree._Element, ctx: TwimlContext) -> str | None:
    noted = len(ctx.callback_urls)
    result = ctx.attributes(_STREAM, noun)
    destination = result.attributes.get("destination")
    if destination is None or not destination.lower().startswith("wss://"):
        del ctx.callback_urls[noted:]  # a stream that is left out calls nothing back
        if destination is None:
            ctx.add("BXM307", "<Stream> has no url; left out", noun, field_name="url")
        else:
            ctx.add("BXM307", f'<Stream url="{destination}"> is not a wss:// URL: Twilio accepts only wss:// (the '
                    "stream never ran there) and BXML <StartStream> requires one; left out", noun, field_name="url")
        return None
    stream_params: list[str] = []
    params = [p for p in element_children(noun) if local_name(p) == "Parameter"]
    for child in element_children(noun):
        if local_name(child) != "Parameter":
            ctx.add("BXM009", f"<{local_name(child)}> is not a <Stream> noun; left out", child)
    if len(params) > MAX_STREAM_PARAMS:
        ctx.add("BXM308", f"<Stream> has {len(params)} parameters; BXML passes at most {MAX_STREAM_PARAMS}", noun)
    for param in params[:MAX_STREAM_PARAMS]:
        unknown = set(param.attrib) - {"name", "value"}
        for name in sorted(unknown):
            ctx.add("BXM012", f"<Parameter> has no attribute {name!r}; dropped", param, field_name=name)
        if not param.get("name"):
            ctx.add("BXM016", "<Parameter> has no name: BXML <StreamParam> needs one; left out", param,
                    field_name="name")
            continue
        stream_params.append(markup("StreamParam", {"name": param.get("name", ""), "value": param.get("value", "")}))
    return container(start_tag("StartStream", result.attributes), "StartStream", stream_params, VERB_LEVEL)


def start(node: etree._Element, ctx: TwimlContext) -> list[str]:
    ctx.check(_START, node)
    out: list[str] = []
    for noun in element_children(node):
        name = local_name(noun)
        if name == "Stream":
            stream = _stream(noun, ctx)
            if stream is not None:
                out.append(stream)
        else:
            ctx.add("BXM010", f"<Start><{name}> has no Bandwidth equivalent here; left out", noun)
    return out


def stop(node: etree._Element, ctx: TwimlContext) -> list[str]:
    ctx.check(_STOP, node)
    out: list[str] = []
    for noun in element_children(node):
        name = local_name(noun)
        if name != "Stream":
            ctx.add("BXM010", f"<Stop><{name}> has no Bandwidth equivalent here; left out", noun)
            continue
        result = ctx.attributes(_STOP_STREAM, noun)
        if "name" not in result.attributes:
            ctx.add("BXM307", "<Stop><Stream> without name: BXML stops streams by name only; left out", noun,
                    field_name="name")
            continue
        out.append(markup("StopStream", result.attributes))
    return out
