"""Webhook signatures of both gateways: valid, invalid, stale, missing, replayed."""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator

from bot.channels.sms.signatures import (
    ReplayGuard,
    SignatureError,
    android_signature,
    twilio_signature,
    verify_android,
    verify_twilio,
)

KEY = "signing-key-for-tests"
BODY = b'{"event":"sms:received","payload":{"message":"bonjour","phoneNumber":"+33639980001"}}'
NOW = 1_750_000_000
TOKEN = "twilio-auth-token"
URL = "https://numecrivain.example/webhooks/sms/twilio"
PARAMS = {"From": "+33639980001", "Body": "jai perdu ma cni", "MessageSid": "SM123", "To": "+33700000000"}


def test_android_signature_matches_documented_recipe() -> None:
    import hashlib
    import hmac

    expected = hmac.new(KEY.encode(), BODY + str(NOW).encode(), hashlib.sha256).hexdigest()
    assert android_signature(KEY, BODY, str(NOW)) == expected


def test_android_valid_signature_is_accepted() -> None:
    verify_android(KEY, BODY, str(NOW), android_signature(KEY, BODY, str(NOW)), window_seconds=300, now=NOW + 10)


def test_android_signature_in_upper_case_is_accepted() -> None:
    signature = android_signature(KEY, BODY, str(NOW)).upper()
    verify_android(KEY, BODY, str(NOW), signature, window_seconds=300, now=NOW)


@pytest.mark.parametrize("change", ["body", "timestamp", "key"])
def test_android_tampered_webhook_is_rejected(change: str) -> None:
    signature = android_signature(KEY, BODY, str(NOW))
    body = BODY.replace(b"bonjour", b"STOP") if change == "body" else BODY
    stamp = str(NOW + 1) if change == "timestamp" else str(NOW)
    key = "another-key" if change == "key" else KEY
    with pytest.raises(SignatureError, match="bad signature"):
        verify_android(key, body, stamp, signature, window_seconds=300, now=NOW)


@pytest.mark.parametrize("age", [301, -301, 86_400])
def test_android_stale_or_future_timestamp_is_rejected(age: int) -> None:
    signature = android_signature(KEY, BODY, str(NOW))
    with pytest.raises(SignatureError, match="stale"):
        verify_android(KEY, BODY, str(NOW), signature, window_seconds=300, now=NOW + age)


@pytest.mark.parametrize(("timestamp", "signature"), [(None, "abc"), (str(NOW), None), ("", ""), ("soon", "abc")])
def test_android_missing_headers_are_rejected(timestamp: str | None, signature: str | None) -> None:
    with pytest.raises(SignatureError):
        verify_android(KEY, BODY, timestamp, signature, window_seconds=300, now=NOW)


def test_android_without_configured_key_rejects_everything() -> None:
    with pytest.raises(SignatureError):
        verify_android("", BODY, str(NOW), android_signature("", BODY, str(NOW)), window_seconds=300, now=NOW)


def test_twilio_signature_matches_twilio_library() -> None:
    assert twilio_signature(TOKEN, URL, PARAMS) == RequestValidator(TOKEN).compute_signature(URL, PARAMS)


def test_twilio_valid_signature_is_accepted() -> None:
    verify_twilio(TOKEN, URL, PARAMS, RequestValidator(TOKEN).compute_signature(URL, PARAMS))


def test_twilio_signature_made_with_explicit_port_is_accepted() -> None:
    signed_url = "https://numecrivain.example:443/webhooks/sms/twilio"
    verify_twilio(TOKEN, URL, PARAMS, twilio_signature(TOKEN, signed_url, PARAMS))


@pytest.mark.parametrize("change", ["param", "url", "token"])
def test_twilio_tampered_webhook_is_rejected(change: str) -> None:
    signature = twilio_signature(TOKEN, URL, PARAMS)
    params = {**PARAMS, "Body": "STOP"} if change == "param" else PARAMS
    url = URL.replace("numecrivain", "evil") if change == "url" else URL
    token = "other" if change == "token" else TOKEN
    with pytest.raises(SignatureError, match="bad signature"):
        verify_twilio(token, url, params, signature)


@pytest.mark.parametrize("signature", [None, ""])
def test_twilio_missing_signature_is_rejected(signature: str | None) -> None:
    with pytest.raises(SignatureError, match="missing"):
        verify_twilio(TOKEN, URL, PARAMS, signature)


def test_twilio_without_auth_token_rejects_everything() -> None:
    with pytest.raises(SignatureError):
        verify_twilio("", URL, PARAMS, twilio_signature("", URL, PARAMS))


def test_replayed_signature_is_rejected_within_window() -> None:
    guard = ReplayGuard(window_seconds=300)
    guard.check_and_remember("abc", now=1000.0)
    with pytest.raises(SignatureError, match="replayed"):
        guard.check_and_remember("ABC", now=1200.0)


def test_distinct_signatures_are_not_replays() -> None:
    guard = ReplayGuard(window_seconds=300)
    guard.check_and_remember("abc", now=1000.0)
    guard.check_and_remember("abd", now=1000.5)
