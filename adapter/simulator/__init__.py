"""A Bandwidth Voice API v2 simulator for testing migrated voice flows offline.

A real HTTP server on loopback that serves the v2 REST calls (create, get and update a call, PUT
BXML), runs the BXML it gets back from your application (Gather with scripted key presses,
StartGather, Redirect, Pause, Hangup ...) and posts the v2 webhooks (JSON, Basic auth with
Bandwidth's challenge flow) the way Bandwidth does.  It is an independent implementation of the
platform's rules (``shared/spec/bxml-v2.md``): BXML the platform would refuse ends the call with
``cause=invalid-bxml`` and is recorded, so tests catch bad translator output.

Example::

    from adapter.simulator import BandwidthSimulator

    with BandwidthSimulator(time_scale=0.01) as sim:          # calls run 100x faster
        call = sim.inbound_call("+15551112222", "+15553334444",
                                initiate_url="http://127.0.0.1:8080/voice",
                                disconnect_url="http://127.0.0.1:8080/status",
                                keys=[("await", "Gather"), ("press", "12#")])
        assert call.wait_until_ended(timeout=5) == "hangup"
        gather = call.events("gather")[0]
        assert (gather["digits"], gather["terminatingDigit"]) == ("12", "#")

Your code under test talks to ``sim.api_url`` (``http://127.0.0.1:PORT/api/v2``) with
``sim.auth``.  Everything is recorded: ``sim.webhooks()``, ``sim.documents()``, ``sim.verbs()``,
``sim.rest_requests()``, ``sim.log()`` and per call ``call.events()``, ``call.verbs()``; wait with
``sim.wait_for(...)``, ``call.wait_until_ended()``, ``call.wait_for_webhook(...)``.  Faults:
``sim.fail_next(status=429)``, ``sim.hang_next()``.

Timing is on each call's own simulated clock (see ``adapter.simulator.caller``), so key presses,
prompts and timeouts happen in the same order on every run.
"""

from adapter.simulator.bxml import Document, InvalidBxml, Verb, parse_document
from adapter.simulator.call import Callee, SimulatedCall
from adapter.simulator.caller import Await, HangUp, Press, Wait, gather_input, press_keys
from adapter.simulator.config import SimulatorConfig
from adapter.simulator.records import DocumentRecord, LogLine, RestRecord, VerbRecord, WebhookAttempt, WebhookRecord
from adapter.simulator.simulator import BandwidthSimulator

__all__ = [
    "Await",
    "BandwidthSimulator",
    "Callee",
    "Document",
    "DocumentRecord",
    "HangUp",
    "InvalidBxml",
    "LogLine",
    "Press",
    "RestRecord",
    "SimulatedCall",
    "SimulatorConfig",
    "Verb",
    "VerbRecord",
    "Wait",
    "WebhookAttempt",
    "WebhookRecord",
    "gather_input",
    "parse_document",
    "press_keys",
]
