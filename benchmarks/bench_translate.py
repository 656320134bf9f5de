"""Throughput of ``translators.twiml_to_bxml`` against the floor of lxml parse + serialise.

    python benchmarks/bench_translate.py [--docs N] [--out-dir DIR] [--seed S] [--repeat R] [--profile]

Generates a seeded corpus of varied TwiML documents (Gathers with every kind of attribute and
nested Say/Play/Pause, Dial with nouns, Redirect, Record, SSML, comments, non-ASCII text,
single-quoted attributes ...), then in one run measures:

* documents/second of ``twiml_to_bxml`` (with a document URL, as ``convert --base-url`` does);
* the floor: ``lxml.etree.fromstring`` + ``etree.tostring`` of the same inputs, and the ratio;
* the floor of reading the input from Python: parse each input, read every node's tag,
  attributes, text and tail through lxml's API, and serialise it, with no translation logic at
  all (what any translator written in Python that walks the parsed tree pays at least);
* the floor of building the output with lxml: parse each input, then build that document's
  translated BXML tree element by element through lxml's API and serialise it (what a translator
  that builds lxml elements pays at least; ``twiml_to_bxml`` writes its output as markup instead);
* wall time of ``bxml-migrate convert --jobs 1`` and ``--jobs 2`` on the corpus written to disk
  (the two output trees and reports are checked to be identical).

Each in-process measurement is the best of ``--repeat`` passes (translation and floor passes
alternate).  ``--profile`` adds the
cProfile hot spots of one translation pass.
"""

from __future__ import annotations

import argparse
import cProfile
import filecmp
import io
import json
import os
import pstats
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree

from translators import TranslationError, twiml_to_bxml

DEFAULT_DOCS = 10_000
BASE_URL = "https://ivr.example.com/app/"
TARGET_RATIO = 3.0

# -- corpus ---------------------------------------------------------------------------

PHRASES = (
    "Thank you for calling Acme Widgets.",
    "Press 1 for sales, 2 for support, or 0 to speak with an operator.",
    "Please enter your account number followed by the pound key.",
    "Your balance is forty two dollars and seventeen cents.",
    "Bienvenue chez Acme. Appuyez sur le 1 pour le service après-vente.",
    "Para español, oprima el número dos.",
    "Für Deutsch drücken Sie die Drei.",
    "お電話ありがとうございます。",
    "Sorry, I didn't catch that.",
    "Your call may be recorded for quality & training purposes.",
    "Please hold while we connect you <to the next agent>.",
    "Goodbye!",
)
VOICES = ("man", "woman", "alice", "Polly.Joanna", "Polly.Matthew-Neural", "Polly.Celine", "Polly.Hans",
          "Google.en-US-Standard-C", "Polly.Lupe-Neural", "robot")
LANGUAGES = ("en-US", "en-GB", "es-MX", "es-ES", "fr-FR", "de-DE", "ja-JP", "pt-BR", "xx-YY")
AUDIO = ("https://cdn.example.com/prompts/welcome.mp3", "https://cdn.example.com/hold/music.wav",
         "/audio/menu.mp3", "http://static.example.org/ivr/beep.wav")
ACTIONS = ("/ivr/menu", "handle-key", "https://api.example.com/voice/gather?step=2&lang=en", "../main.xml",
           "/ivr/speech", "https://api.example.com/voice/gather?step=3")


class _Writer:
    """Builds one TwiML document with this document's quoting style."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.quote = "'" if rng.random() < 0.15 else '"'

    def attrs(self, pairs: Sequence[tuple[str, str]]) -> str:
        q = self.quote
        entities = {q: "&apos;" if q == "'" else "&quot;"}
        return "".join(f" {name}={q}{escape(value, entities)}{q}" for name, value in pairs)

    def maybe(self, probability: float) -> bool:
        return self.rng.random() < probability


def _ssml(w: _Writer, text: str) -> str:
    body = escape(text)
    roll = w.rng.random()
    if roll < 0.08:
        return f'{body} <break time="{w.rng.choice(("300ms", "1s", "2s"))}"/> {escape(w.rng.choice(PHRASES))}'
    if roll < 0.12:
        return f'Your code is <say-as interpret-as="digits">{w.rng.randint(1000, 99999)}</say-as>. {body}'
    if roll < 0.15:
        return f"<emphasis level=\"strong\">{body}</emphasis>"
    if roll < 0.17:
        return f'<amazon:effect name="whispered">{body}</amazon:effect>'
    if roll < 0.19:
        return f'<prosody rate="slow"><p>{body}</p></prosody>'
    return body


def _say(w: _Writer, indent: str) -> str:
    pairs: list[tuple[str, str]] = []
    if w.maybe(0.7):
        pairs.append(("voice", w.rng.choice(VOICES)))
    if w.maybe(0.4):
        pairs.append(("language", w.rng.choice(LANGUAGES)))
    if w.maybe(0.2):
        pairs.append(("loop", str(w.rng.choice((0, 1, 2, 3)))))
    return f"{indent}<Say{w.attrs(pairs)}>{_ssml(w, w.rng.choice(PHRASES))}</Say>"


def _play(w: _Writer, indent: str, *, digits: bool = True) -> str:
    pairs: list[tuple[str, str]] = []
    if w.maybe(0.3):
        pairs.append(("loop", str(w.rng.choice((0, 1, 2, 5)))))
    if digits and w.maybe(0.1):
        pairs.append(("digits", w.rng.choice(("1234#", "ww1", "9"))))
        return f"{indent}<Play{w.attrs(pairs)}/>"
    return f"{indent}<Play{w.attrs(pairs)}>{escape(w.rng.choice(AUDIO))}</Play>"


def _pause(w: _Writer, indent: str) -> str:
    pairs = [("length", str(w.rng.choice((1, 2, 3, 5, 12))))] if w.maybe(0.8) else []
    return f"{indent}<Pause{w.attrs(pairs)}/>"


def _gather(w: _Writer, indent: str) -> str:
    rng = w.rng
    pairs: list[tuple[str, str]] = []
    if w.maybe(0.75):
        pairs.append(("action", rng.choice(ACTIONS)))
    if w.maybe(0.4):
        pairs.append(("method", rng.choice(("GET", "POST", "POST", "POST", "post", "PUT"))))
    if w.maybe(0.6):
        pairs.append(("timeout", str(rng.choice((3, 5, 10, 15, 30, 90)))))
    if w.maybe(0.6):
        pairs.append(("numDigits", rng.choice(("1", "1", "1", "4", "4", "10", "16", "64", "0", "x"))))
    if w.maybe(0.4):
        pairs.append(("finishOnKey", rng.choice(("#", "#", "#", "*", "*", "", "0", "ab"))))
    if w.maybe(0.25):
        pairs.append(("input", rng.choice(("dtmf", "speech", "dtmf speech"))))
        if w.maybe(0.6):
            pairs.append(("speechTimeout", rng.choice(("auto", "3", "90"))))
        if w.maybe(0.5):
            pairs.append(("hints", "sales, support, billing, operator"))
        if w.maybe(0.4):
            pairs.append(("language", rng.choice(LANGUAGES)))
        if w.maybe(0.2):
            pairs.append(("speechModel", rng.choice(("default", "phone_call", "experimental_conversations"))))
        if w.maybe(0.2):
            pairs.append(("profanityFilter", rng.choice(("true", "false"))))
        if w.maybe(0.1):
            pairs.append(("partialResultCallback", "https://api.example.com/partial"))
    if w.maybe(0.2):
        pairs.append(("actionOnEmptyResult", rng.choice(("true", "false"))))
    if w.maybe(0.08):
        pairs.append(rng.choice((("enhanced", "true"), ("bargeIn", "false"), ("debug", "true"),
                                 ("maxSpeechTime", "30"), ("numdigits", "4"))))
    rng.shuffle(pairs)
    children: list[str] = []
    for _ in range(rng.choice((0, 1, 1, 2, 2, 3, 4))):
        roll = rng.random()
        inner = indent + "  "
        if roll < 0.6:
            children.append(_say(w, inner))
        elif roll < 0.85:
            children.append(_play(w, inner))
        else:
            children.append(_pause(w, inner))
    if not children:
        return f"{indent}<Gather{w.attrs(pairs)}/>"
    return f"{indent}<Gather{w.attrs(pairs)}>\n" + "\n".join(children) + f"\n{indent}</Gather>"


def _number(rng: random.Random) -> str:
    return f"+1{rng.randint(2000000000, 9999999999)}"


def _dial(w: _Writer, indent: str) -> str:
    rng = w.rng
    pairs: list[tuple[str, str]] = []
    if w.maybe(0.5):
        pairs.append(("action", rng.choice(("/dial/done", "https://api.example.com/dial-status"))))
    if w.maybe(0.4):
        pairs.append(("timeout", str(rng.choice((10, 20, 30, 600)))))
    if w.maybe(0.4):
        pairs.append(("callerId", _number(rng)))
    if w.maybe(0.1):
        pairs.append(rng.choice((("record", "record-from-answer"), ("hangupOnStar", "true"),
                                 ("timeLimit", "600"))))
    roll = rng.random()
    inner = indent + "  "
    if roll < 0.35:
        return f"{indent}<Dial{w.attrs(pairs)}>+1{rng.randint(2000000000, 9999999999)}</Dial>"
    if roll < 0.75:
        nouns = []
        for _ in range(rng.randint(1, 3)):
            noun_attrs = [("url", "/whisper")] if w.maybe(0.2) else []
            nouns.append(f"{inner}<Number{w.attrs(noun_attrs)}>+1{rng.randint(2000000000, 9999999999)}</Number>")
        body = "\n".join(nouns)
    elif roll < 0.85:
        body = f"{inner}<Sip>sip:agent{rng.randint(1, 99)}@pbx.example.com</Sip>"
    elif roll < 0.97:
        conf = [("muted", "true")] if w.maybe(0.2) else []
        if w.maybe(0.3):
            conf.append(("beep", "false"))
        body = f"{inner}<Conference{w.attrs(conf)}>room-{rng.randint(1, 500)}</Conference>"
    else:
        body = f"{inner}<Client>agent_{rng.randint(1, 9)}</Client>"
    return f"{indent}<Dial{w.attrs(pairs)}>\n{body}\n{indent}</Dial>"


def _record(w: _Writer, indent: str) -> str:
    rng = w.rng
    pairs: list[tuple[str, str]] = []
    if w.maybe(0.6):
        pairs.append(("action", rng.choice(("/voicemail/saved", "https://api.example.com/recording"))))
    if w.maybe(0.4):
        pairs.append(("maxLength", str(rng.choice((30, 120, 3600, 20000)))))
    if w.maybe(0.3):
        pairs.append(("finishOnKey", rng.choice(("#", "*", ""))))
    if w.maybe(0.3):
        pairs.append(("playBeep", rng.choice(("true", "false"))))
    if w.maybe(0.2):
        pairs.append(("transcribe", "true"))
    if w.maybe(0.2):
        pairs.append(("timeout", str(rng.choice((0, 3, 10)))))
    return f"{indent}<Record{w.attrs(pairs)}/>"


def _other(w: _Writer, indent: str) -> str:
    rng = w.rng
    roll = rng.random()
    if roll < 0.35:
        method = w.attrs([("method", rng.choice(("GET", "POST")))]) if w.maybe(0.3) else ""
        return f"{indent}<Redirect{method}>{escape(rng.choice(ACTIONS))}</Redirect>"
    if roll < 0.6:
        return f"{indent}<Hangup/>"
    if roll < 0.7:
        return f"{indent}<Reject{w.attrs([('reason', 'busy')]) if w.maybe(0.5) else ''}/>"
    if roll < 0.85:
        return (f"{indent}<Start>\n{indent}  <Stream{w.attrs([('url', 'wss://stream.example.com/audio')])}/>\n"
                f"{indent}</Start>")
    verb = rng.choice(("Enqueue", "Sms", "Leave"))
    return f"{indent}<{verb}>support</{verb}>"


def make_document(rng: random.Random) -> bytes:
    """One realistic TwiML document."""
    w = _Writer(rng)
    lines: list[str] = []
    if w.maybe(0.7):
        lines.append('<?xml version="1.0" encoding="UTF-8"?>')
    if w.maybe(0.2):
        lines.append(f"<!-- IVR step {rng.randint(1, 400)}, generated by the app -->")
    lines.append("<Response>")
    makers: tuple[tuple[float, Callable[[_Writer, str], str]], ...] = (
        (0.35, _gather), (0.55, _say), (0.65, _play), (0.72, _pause), (0.82, _dial), (0.88, _record),
        (1.0, _other),
    )
    for _ in range(rng.randint(1, 7)):
        roll = rng.random()
        maker = next(make for limit, make in makers if roll < limit)
        if w.maybe(0.05):
            lines.append("  <!-- next step -->")
        lines.append(maker(w, "  "))
    lines.append("</Response>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def make_corpus(count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    return [make_document(rng) for _ in range(count)]


def corpus_path(index: int) -> Path:
    """Where document ``index`` lives in the on-disk corpus: 100 per directory, some ``.twiml``."""
    suffix = ".twiml" if index % 7 == 3 else ".xml"
    return Path(f"app{index // 100:03d}") / f"step{index:05d}{suffix}"


def write_corpus(corpus: Sequence[bytes], root: Path) -> None:
    for index, document in enumerate(corpus):
        path = root / corpus_path(index)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(document)


# -- measurements ---------------------------------------------------------------------


def _best_interleaved(repeat: int, *runs: Callable[[], object]) -> list[float]:
    """The best wall time of each run over ``repeat`` rounds; rounds alternate the runs so that
    a busy machine slows them alike."""
    best = [float("inf")] * len(runs)
    for _ in range(repeat):
        for index, run in enumerate(runs):
            start = time.perf_counter()
            run()
            best[index] = min(best[index], time.perf_counter() - start)
    return best


def translate_all(corpus: Sequence[bytes], urls: Sequence[str]) -> int:
    failures = 0
    for document, url in zip(corpus, urls, strict=True):
        try:
            twiml_to_bxml(document, document_url=url)
        except TranslationError:
            failures += 1
    return failures


# Twilio documents use ``<amazon:effect>`` without declaring the prefix; libxml2 reports that as a
# namespace error, which ``recover`` tolerates (the corpus is otherwise well-formed).
_FLOOR_PARSER = etree.XMLParser(recover=True)


def floor_all(corpus: Sequence[bytes]) -> None:
    for document in corpus:
        etree.tostring(etree.fromstring(document, _FLOOR_PARSER))


OutputShape = tuple[str | None, dict[str, str], str | None, str | None, list["OutputShape"]]


def _shape(node: etree._Element) -> OutputShape:
    """A translated document's tree as plain data: tag (None: comment), attributes, text, tail, children."""
    tag = node.tag if isinstance(node.tag, str) else None
    return tag, dict(node.attrib), node.text, node.tail, [_shape(child) for child in node]


def output_shapes(corpus: Sequence[bytes], urls: Sequence[str]) -> list[OutputShape | None]:
    shapes: list[OutputShape | None] = []
    for document, url in zip(corpus, urls, strict=True):
        try:
            shapes.append(_shape(etree.fromstring(twiml_to_bxml(document, document_url=url).bxml.encode())))
        except TranslationError:
            shapes.append(None)
    return shapes


def _build(shape: OutputShape) -> etree._Element:
    tag, attributes, text, _, children = shape
    node = etree.Element(tag, attributes) if attributes else etree.Element(tag)  # type: ignore[arg-type]
    node.text = text
    for child in children:
        built = etree.Comment(child[2]) if child[0] is None else _build(child)
        node.append(built)
        built.tail = child[3]
    return node


def read_floor_all(corpus: Sequence[bytes]) -> None:
    for document in corpus:
        root = etree.fromstring(document, _FLOOR_PARSER)
        for node in root.iter():
            node.tag, node.items(), node.text, node.tail  # reading them is the point
        etree.tostring(root)


def build_floor_all(corpus: Sequence[bytes], shapes: Sequence[OutputShape | None]) -> None:
    for document, shape in zip(corpus, shapes, strict=True):
        etree.fromstring(document, _FLOOR_PARSER)
        if shape is not None:
            etree.tostring(_build(shape), encoding="unicode")


def run_convert(source: Path, out: Path, report: Path, jobs: int) -> tuple[float, int]:
    command = [sys.executable, "-m", "bxml_migrate", "convert", str(source), "--out", str(out),
               "--base-url", BASE_URL, "--report", str(report), "--jobs", str(jobs)]
    start = time.perf_counter()
    completed = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    elapsed = time.perf_counter() - start
    if completed.returncode not in (0, 1):
        raise SystemExit(f"convert --jobs {jobs} exited {completed.returncode}")
    return elapsed, completed.returncode


def _same_trees(left: Path, right: Path) -> bool:
    comparison = filecmp.dircmp(left, right)
    if comparison.left_only or comparison.right_only or comparison.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(left, right, comparison.common_files, shallow=False)
    if mismatch or errors:
        return False
    return all(_same_trees(left / name, right / name) for name in comparison.common_dirs)


def _report_without_outputs(path: Path, out: Path) -> dict[str, object]:
    """The report with the output directory name removed, so two runs' reports compare."""
    return json.loads(path.read_text(encoding="utf-8").replace(str(out), "OUT"))


def profile(corpus: Sequence[bytes], urls: Sequence[str], top: int = 25) -> str:
    profiler = cProfile.Profile()
    profiler.runcall(translate_all, corpus, urls)
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(top)
    return stream.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=DEFAULT_DOCS, help=f"corpus size (default {DEFAULT_DOCS})")
    parser.add_argument("--out-dir", type=Path, help="keep the corpus and converted trees here (default: a temp dir)")
    parser.add_argument("--seed", type=int, default=2, help="corpus seed (default 2)")
    parser.add_argument("--repeat", type=int, default=3, help="passes per in-process measurement (best is kept)")
    parser.add_argument("--profile", action="store_true", help="print cProfile hot spots of the translator")
    args = parser.parse_args(argv)
    if args.docs < 1 or args.repeat < 1:
        parser.error("--docs and --repeat must be positive")

    corpus = make_corpus(args.docs, args.seed)
    urls = [BASE_URL + corpus_path(i).with_suffix(".xml").as_posix() for i in range(len(corpus))]
    size = sum(len(d) for d in corpus)
    print(f"corpus: {len(corpus)} documents, {size / 1024:.0f} KiB (seed {args.seed})")

    translate_all(corpus[:200], urls[:200])  # warm up imports and caches
    failures = translate_all(corpus, urls)
    shapes = output_shapes(corpus, urls)
    translate_time, floor_time, read_time, build_time = _best_interleaved(
        args.repeat, lambda: translate_all(corpus, urls), lambda: floor_all(corpus), lambda: read_floor_all(corpus),
        lambda: build_floor_all(corpus, shapes))
    ratio = translate_time / floor_time

    keep = args.out_dir is not None
    work = args.out_dir if keep else Path(tempfile.mkdtemp(prefix="bench-translate-"))
    try:
        work.mkdir(parents=True, exist_ok=True)
        source = work / "corpus"
        for old in (source, work / "out-jobs1", work / "out-jobs2"):
            shutil.rmtree(old, ignore_errors=True)
        write_corpus(corpus, source)
        jobs1, code1 = run_convert(source, work / "out-jobs1", work / "report-jobs1.json", 1)
        jobs2, code2 = run_convert(source, work / "out-jobs2", work / "report-jobs2.json", 2)
        identical = (code1 == code2 and _same_trees(work / "out-jobs1", work / "out-jobs2")
                     and _report_without_outputs(work / "report-jobs1.json", work / "out-jobs1")
                     == _report_without_outputs(work / "report-jobs2.json", work / "out-jobs2"))
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)

    count = len(corpus)
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    rows = [
        ("twiml_to_bxml", f"{count / translate_time:,.0f} docs/s", f"{translate_time * 1e6 / count:,.1f} µs/doc"),
        ("floor: lxml parse + serialise", f"{count / floor_time:,.0f} docs/s",
         f"{floor_time * 1e6 / count:,.1f} µs/doc"),
        ("ratio (translate / floor)", f"{ratio:.1f}x", f"target ≤ {TARGET_RATIO:.0f}x: {verdict}"),
        ("floor: parse + read input in Python + serialise", f"{count / read_time:,.0f} docs/s",
         f"{read_time * 1e6 / count:,.1f} µs/doc, {read_time / floor_time:.1f}x the floor (no translation logic)"),
        ("floor: parse + build output with lxml + serialise", f"{count / build_time:,.0f} docs/s",
         f"{build_time * 1e6 / count:,.1f} µs/doc, {build_time / floor_time:.1f}x the floor (no translation logic)"),
        ("convert --jobs 1", f"{jobs1:.2f} s wall", f"{count / jobs1:,.0f} docs/s"),
        ("convert --jobs 2", f"{jobs2:.2f} s wall", f"{count / jobs2:,.0f} docs/s, {jobs1 / jobs2:.2f}x speed-up"),
    ]
    width = max(len(r[0]) for r in rows)
    middle = max(len(r[1]) for r in rows)
    print(f"{'measurement':<{width}}  {'result':>{middle}}  detail")
    for name, result, detail in rows:
        print(f"{name:<{width}}  {result:>{middle}}  {detail}")
    print(f"documents refused by the translator: {failures}; CPUs: {os.cpu_count()}; "
          f"jobs 1 and jobs 2 outputs and reports identical: {'yes' if identical else 'NO'}")
    if keep:
        print(f"corpus and outputs kept in {work}")
    if args.profile:
        print(profile(corpus, urls))
    return 0 if identical else 1


if __name__ == "__main__":
    raise SystemExit(main())
