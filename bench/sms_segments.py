"""SMS figures: segments per reply over every procedure (GSM-7 share, median) and reply latency of the channel.

    .venv/bin/python bench/sms_segments.py                  # rendering + channel latency (stub bot, in-process)
    .venv/bin/python bench/sms_segments.py --stack 20       # also 20 real turns through `make run` (port 5005/9090)
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from aiohttp.test_utils import TestServer

from bot.channels.sms.config import AndroidGatewayConfig, SmsConfig, TwilioConfig
from bot.channels.sms.render import render_messages
from bot.gsm7 import is_gsm7, segment_count
from bot.knowledge import get_knowledge_base
from bot.knowledge.render import render_sms, render_web
from devtools.fake_sms_gateway import FakeGateway, android_webhook_body, android_webhook_headers


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def segments_report(max_segments: int) -> None:
    """Segments of the first SMS and of the whole answer (with PLUS pages), for every procedure."""
    for label, renderer in (("SMS answer (sms field)", render_sms), ("full answer (web text, paged)", render_web)):
        firsts, totals, pages, gsm7 = [], [], [], 0
        for procedure in get_knowledge_base():
            messages = [r.with_human_offer().as_dispatch_kwargs() for r in renderer(procedure)]
            reply = render_messages(messages, max_segments=max_segments)
            gsm7 += all(is_gsm7(p) for p in reply.pages)
            firsts.append(segment_count(reply.first))
            totals.append(sum(segment_count(p) for p in reply.pages))
            pages.append(len(reply.pages))
        count = len(firsts)
        print(f"\n{label}: {count} procedures, max {max_segments} segments per SMS")
        print(f"  GSM-7: {100 * gsm7 / count:.0f} %")
        print(f"  first SMS segments: median {statistics.median(firsts):g}, "
              f"distribution {dict(sorted(Counter(firsts).items()))}")
        print(f"  whole answer segments: median {statistics.median(totals):g}, max {max(totals)}, "
              f"distribution {dict(sorted(Counter(totals).items()))}")
        print(f"  answers needing PLUS: {sum(p > 1 for p in pages)} ({100 * sum(p > 1 for p in pages) / count:.0f} %)")


async def channel_latency(turns: int) -> None:
    """Webhook in -> SMS recorded by the fake gateway, with a stub bot: what the channel itself costs."""
    from rasa.core.channels.channel import UserMessage
    from sanic import Sanic

    from bot.channels.sms.channel import SmsInput
    from bot.channels.sms.store import SmsStore
    from bot.db import make_engine

    procedure = get_knowledge_base().get("lost_papers") or next(iter(get_knowledge_base()))

    async def stub_bot(message: UserMessage) -> None:
        for reply in render_sms(procedure):
            await message.output_channel.send_response(message.sender_id, reply.with_human_offer().as_dispatch_kwargs())

    gateway = FakeGateway()
    gateway_server = TestServer(gateway.app(), host="127.0.0.1")
    await gateway_server.start_server()
    workdir = Path(tempfile.mkdtemp())
    config = SmsConfig(
        android=AndroidGatewayConfig(str(gateway_server.make_url("")).rstrip("/"), "numecrivain", "", "bench-key"),
        twilio=TwilioConfig("", "", ""), pepper="bench-pepper", coalesce_seconds=0, max_replies_per_hour=10**6,
        max_inbound_per_hour=10**6, max_replies_per_hour_total=10**6,
    )
    channel = SmsInput(config, store=SmsStore(make_engine(f"sqlite:///{workdir / 'sms.db'}")), internal_token="x")
    Sanic.test_mode = True
    app = Sanic(f"sms_bench_{uuid.uuid4().hex[:6]}")
    app.blueprint(channel.blueprint(stub_bot), url_prefix="/webhooks/sms")
    server = await app.create_server(host="127.0.0.1", port=0, return_asyncio_server=True, debug=False)
    assert server is not None
    await server.startup()
    # Sanic 21.12 types AsyncioServer.server as None (its __init__ value); startup() sets the asyncio server.
    port = server.server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    latencies: list[float] = []
    async with aiohttp.ClientSession() as session:
        for i in range(turns):
            phone = f"+336399800{i % 100:02d}"
            before = len(gateway.sent)
            body = android_webhook_body(phone, "jai perdu ma cni")
            started = time.perf_counter()
            async with session.post(f"http://127.0.0.1:{port}/webhooks/sms/android", data=body,
                                    headers=android_webhook_headers("bench-key", body)) as response:
                assert response.status == 200
            while len(gateway.sent) == before:
                await asyncio.sleep(0.001)
            latencies.append((time.perf_counter() - started) * 1000)
    await channel.idle()
    server.close()
    await gateway_server.close()
    print(f"\nChannel latency, stub bot, {turns} turns (webhook -> SMS at the fake gateway, SQLite, coalescing off):")
    print(f"  median {statistics.median(latencies):.1f} ms, p95 {percentile(latencies, 0.95):.1f} ms, "
          f"max {max(latencies):.1f} ms")


async def stack_latency(turns: int, rasa_url: str, gateway_url: str) -> None:
    """Real turns through the running stack (`make run`): includes NLU, actions and the 2 s coalescing window."""
    from bot.settings import local_secret

    key = local_secret("SMS_WEBHOOK_SIGNING_KEY")
    questions = ["jai perdu ma cni", "aide au logement", "carte vitale perdue", "AIDE", "passeport"]
    latencies: list[float] = []
    segments: list[int] = []
    async with aiohttp.ClientSession() as session:
        for i in range(turns):
            phone = f"+336399801{i % 100:02d}"
            async with session.get(f"{gateway_url}/messages", params={"phoneNumber": phone}) as r:
                after = max((m["id"] for m in await r.json()), default=0)
            body = android_webhook_body(phone, questions[i % len(questions)])
            started = time.perf_counter()
            async with session.post(f"{rasa_url}/webhooks/sms/android", data=body,
                                    headers=android_webhook_headers(key, body)) as response:
                assert response.status == 200, response.status
            while True:
                async with session.get(f"{gateway_url}/messages",
                                       params={"phoneNumber": phone, "after": str(after)}) as r:
                    found = await r.json()
                if found:
                    break
                await asyncio.sleep(0.02)
            latencies.append((time.perf_counter() - started) * 1000)
            segments.append(segment_count(found[0]["text"]))
    print(f"\nReal stack, {turns} turns (webhook -> SMS at the fake gateway, including the coalescing window):")
    print(f"  median {statistics.median(latencies):.0f} ms, p95 {percentile(latencies, 0.95):.0f} ms, "
          f"max {max(latencies):.0f} ms; segments {dict(sorted(Counter(segments).items()))}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-segments", type=int, default=2)
    parser.add_argument("--turns", type=int, default=200, help="turns for the in-process channel latency")
    parser.add_argument("--stack", type=int, default=0, help="also N real turns through the running stack")
    parser.add_argument("--rasa-url", default="http://localhost:5005")
    parser.add_argument("--gateway-url", default="http://localhost:9090")
    args = parser.parse_args(argv)
    segments_report(args.max_segments)
    asyncio.run(channel_latency(args.turns))
    if args.stack:
        asyncio.run(stack_latency(args.stack, args.rasa_url.rstrip("/"), args.gateway_url.rstrip("/")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
