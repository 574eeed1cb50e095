"""Talk to the running bot as an SMS user: signed webhooks in, replies read back from the fake gateway.

    make sms                       (after `make run` in another terminal)
    python -m bot.channels.sms.cli --say "jai perdu ma cni" --say 0
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import aiohttp

from bot.gsm7 import is_gsm7, segment_count
from devtools.fake_sms_gateway import post_android_webhook

# A number from the range ARCEP reserves for fiction (06 39 98 xx xx): it reaches nobody.
DEMO_NUMBER = "+33639980001"


async def _latest_id(session: aiohttp.ClientSession, gateway_url: str) -> int:
    async with session.get(f"{gateway_url}/messages") as response:
        messages = await response.json()
    return max((m["id"] for m in messages), default=0)


async def wait_for_replies(session: aiohttp.ClientSession, gateway_url: str, phone: str, after: int,
                           first_timeout: float = 60.0, quiet: float = 2.5) -> list[dict]:
    """SMS recorded for this number after `after`: waits for the first, then until `quiet` s pass with no more."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + first_timeout
    found: list[dict] = []
    while loop.time() < deadline:
        async with session.get(f"{gateway_url}/messages", params={"phoneNumber": phone, "after": str(after)}) as r:
            messages = await r.json()
        if len(messages) > len(found):
            found = messages
            deadline = loop.time() + quiet
        await asyncio.sleep(0.25)
    return found


async def exchange(session: aiohttp.ClientSession, args: argparse.Namespace, text: str, after: int) -> int:
    """Send one SMS and print the replies; the id of the last reply seen."""
    status = await post_android_webhook(session, args.bot_url, args.signing_key, args.phone, text)
    if status != 200:
        print(f"  (le bot a refusé le message : HTTP {status})")
        return after
    replies = await wait_for_replies(session, args.gateway_url, args.phone, after, args.timeout)
    if not replies:
        print("  (pas de réponse)")
    for sms in replies:
        label = f"{segment_count(sms['text'])} SMS" if is_gsm7(sms["text"]) else "UCS-2 !"
        print(f"\nNumécrivain ({label}) :\n{sms['text']}\n")
    return max((sms["id"] for sms in replies), default=after)


async def run(args: argparse.Namespace) -> int:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        try:
            after = await _latest_id(session, args.gateway_url)
        except aiohttp.ClientError:
            print(f"La passerelle factice ne répond pas sur {args.gateway_url} : lancez d'abord `make run`.",
                  file=sys.stderr)
            return 1
        if args.say:
            for text in args.say:
                print(f"Vous : {text}")
                after = await exchange(session, args, text, after)
            return 0
        print(f"Conversation SMS simulée depuis le {args.phone}. Essayez : jai perdu ma cni, 1, 0, PLUS, "
              "AIDE, STOP, START. Ctrl-D pour quitter.")
        while True:
            try:
                text = await asyncio.to_thread(input, "Vous : ")
            except EOFError:
                print()
                return 0
            if text.strip():
                after = await exchange(session, args, text, after)


def main(argv: list[str] | None = None) -> int:
    from bot.channels.sms.config import SmsSettings
    from bot.settings import ListenSettings, local_secret

    listen, sms = ListenSettings(), SmsSettings()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phone", default=sms.demo_number or DEMO_NUMBER)
    parser.add_argument("--bot-url", default=f"http://localhost:{listen.rasa_port}/webhooks/sms/android")
    parser.add_argument("--gateway-url", default=sms.gateway_url or f"http://localhost:{sms.fake_gateway_port}")
    parser.add_argument("--say", action="append", help="send this SMS (repeatable), print the replies, exit")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for a first reply")
    args = parser.parse_args(argv)
    args.gateway_url = args.gateway_url.rstrip("/")
    args.signing_key = local_secret("SMS_WEBHOOK_SIGNING_KEY")
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
