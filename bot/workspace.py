"""The local workspace: our own stand-in for Slack.

It answers the Slack Web API methods the bot calls (so the bot uses a normal
`AsyncWebClient(base_url=...)`), keeps the views and the latest messages it is
sent (see KEEP_MESSAGES), and serves a web page where a person picks a user,
types slash commands, clicks buttons and reads channels, DMs and App Home. What
the person does goes to the bot as a signed request, built exactly as Slack
builds it.

Tests and benchmarks use it too, including its fault injection (500s, 429s with
Retry-After, per-channel rate limits) to prove the bot retries and loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import math
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode

from aiohttp import web

STATIC = Path(__file__).with_name("static")

Json = dict[str, Any]
# Delivers a signed request to the bot: (body, headers) -> (status, body).
Deliver = Callable[[bytes, dict[str, str]], Awaitable[tuple[int, bytes]]]

# How much history the workspace keeps in memory: the latest messages (and Web API calls),
# and the latest in any one channel, the oldest dropped first. Real Slack holds a
# workspace's history; kept here for the life of the process, a large authority's morning
# (5,000 DMs, ~20 MB as parsed blocks) would stay resident for good. The JSON-lines log
# (`log_path`) keeps the full record on disk. None: keep everything (benchmarks count it
# all). `len(messages)` as a cursor (the test harness's) holds while nothing is dropped:
# a test's few hundred messages are far below both.
KEEP_MESSAGES = 2_000
KEEP_PER_CHANNEL = 200


@dataclass
class User:
    id: str
    name: str
    real_name: str
    title: str = ""
    email: str | None = None
    team_id: str = ""

    def as_slack(self, team_id: str) -> Json:
        profile: Json = {"real_name": self.real_name, "display_name": self.name, "title": self.title}
        if self.email:
            profile["email"] = self.email
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "real_name": self.real_name,
            "is_bot": False,
            "tz": "Europe/London",
            "profile": profile,
        }


@dataclass
class Channel:
    id: str
    name: str
    members: set[str] = field(default_factory=set)
    is_im: bool = False
    im_user: str | None = None


class Message:
    """A message in a channel, as the workspace keeps it.

    Its blocks are kept as compact JSON text and parsed when read: a fifth or less of the
    memory of the parsed lists and dicts (a reminder's blocks parse into ~10 KB of them).
    Reading `blocks` gives a fresh copy; assign it to change the message.
    """

    def __init__(
        self,
        channel: str,
        ts: str,
        user: str,
        text: str,
        blocks: list[Json] | None,
        thread_ts: str | None = None,
        ephemeral_to: str | None = None,
        edited: bool = False,
        deleted: bool = False,
        team_id: str = "",
    ) -> None:
        self.channel = channel
        self.ts = ts
        self.user = user
        self.text = text
        self._blocks: str | None = None
        self.blocks = blocks
        self.thread_ts = thread_ts
        self.ephemeral_to = ephemeral_to
        self.edited = edited
        self.deleted = deleted
        # The workspace whose bot token posted it (many workspaces can install the bot).
        self.team_id = team_id

    @property
    def blocks(self) -> list[Json] | None:
        return None if self._blocks is None else cast(list[Json], json.loads(self._blocks))

    @blocks.setter
    def blocks(self, blocks: list[Json] | None) -> None:
        self._blocks = None if blocks is None else json.dumps(blocks, separators=(",", ":"))

    def __repr__(self) -> str:
        return f"Message(channel={self.channel!r}, ts={self.ts!r}, user={self.user!r}, text={self.text!r})"

    def as_slack(self) -> Json:
        out: Json = {"type": "message", "ts": self.ts, "user": self.user, "text": self.text}
        blocks = self.blocks
        if blocks is not None:
            out["blocks"] = blocks
        if self.thread_ts:
            out["thread_ts"] = self.thread_ts
        return out


@dataclass
class Fault:
    """An injected failure for the next `times` calls of `method` (or any, for "*")."""

    method: str
    status: int
    times: int
    retry_after: int | None = None
    error: str = "internal_error"
    # Seconds the call hangs before failing: longer than the client's timeout, it is a timeout.
    delay: float = 0.0


@dataclass(frozen=True)
class ApiCall:
    method: str
    # The call's arguments but its blocks, view and attachments (the message or view keeps
    # those): a record of thousands of calls need not hold every message's blocks twice.
    args: Json
    at: float
    status: int


_BULKY = ("blocks", "view", "attachments")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, content_type: str, at: float | None = None) -> dict[str, str]:
    timestamp = str(int(at if at is not None else time.time()))
    return {
        "content-type": content_type,
        "x-slack-request-timestamp": timestamp,
        "x-slack-signature": sign(secret, timestamp, body),
    }


class LocalWorkspace:
    def __init__(
        self,
        signing_secret: str,
        *,
        team_id: str = "T0LOCAL",
        team_name: str = "Local Council",
        bot_user_id: str = "U0BOT",
        bot_token: str = "xoxb-local-workspace",
        app_id: str = "A0LOCAL",
        log_path: Path | None = None,
        post_delay: float = 0.0,
        keep_messages: int | None = KEEP_MESSAGES,
        keep_per_channel: int | None = KEEP_PER_CHANNEL,
    ) -> None:
        self.signing_secret = signing_secret
        self.team_id = team_id
        self.team_name = team_name
        self.bot_user_id = bot_user_id
        self.bot_token = bot_token
        self.app_id = app_id
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.messages: list[Message] = []
        self.keep_messages = keep_messages
        self.keep_per_channel = keep_per_channel
        # Messages no longer kept, in all and per channel (the page says so in that channel).
        self.dropped = 0
        self.dropped_from: Counter[str] = Counter()
        self._kept_in: Counter[str] = Counter()
        self.views: dict[str, Json] = {}
        self.modal_stacks: dict[str, list[str]] = {}
        self.modal_errors: dict[str, Json] = {}
        self.homes: dict[str, str] = {}
        self.calls: list[ApiCall] = []
        self.faults: list[Fault] = []
        self.deliver: Deliver | None = None
        self.base_url = ""
        self.version = 0
        # Seconds between messages allowed per channel (Slack: about 1 per second); 0 is off.
        self.channel_interval = 0.0
        self._last_post: dict[str, float] = {}
        # Calls per second allowed per Web API method, across the workspace (Slack's Tier
        # limits, and chat.postMessage's workspace-wide limit); a method not listed is
        # unlimited. Each method's bucket holds `method_burst` seconds' worth of calls, as
        # Slack tolerates short bursts; past it, 429 with Retry-After (whole seconds).
        self.method_rates: dict[str, float] = {}
        self.method_burst = 1.0
        self._method_tokens: dict[str, tuple[float, float]] = {}
        self._ts = itertools.count(1)
        self._triggers: dict[str, str] = {}
        self._responses: dict[str, tuple[str, str, str | None]] = {}
        self._pending: set[asyncio.Task[Any]] = set()
        self._runner: web.AppRunner | None = None
        self.errors: list[str] = []
        self.tokens: dict[str, str] = {bot_token: team_id}
        self.team_names: dict[str, str] = {team_id: team_name}
        self.client_secrets: dict[str, str] = {}
        # A record that outlives the process (opt-in): each Web API call as it arrives and each
        # message the bot posts, as JSON lines, so a test can kill -9 the bot and still count.
        self.log_path = log_path
        self._log = log_path.open("a", encoding="utf-8") if log_path is not None else None
        # Seconds each chat.postMessage takes (opt-in): a slow Slack, to catch a send mid-flight.
        self.post_delay = post_delay

    # --- setting up --------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        name: str,
        real_name: str,
        title: str = "",
        email: str | None = None,
        team_id: str | None = None,
    ) -> None:
        self.users[user_id] = User(user_id, name, real_name, title, email, team_id or self.team_id)
        self._touch()

    def add_team(self, team_id: str, name: str) -> str:
        """Another workspace that can install the app (OAuth); returns its install code."""
        self.team_names[team_id] = name
        return f"code-{team_id}"

    def team_of(self, user_id: str) -> str:
        user = self.users.get(user_id)
        return user.team_id if user is not None and user.team_id else self.team_id

    def add_channel(self, channel_id: str, name: str, members: set[str] | None = None) -> None:
        channel = self.channels.get(channel_id)
        if channel is None:
            self.channels[channel_id] = Channel(channel_id, name, set(members or ()))
        else:
            channel.name = name
            channel.members |= set(members or ())
        self._touch()

    def im_channel(self, user_id: str) -> str:
        channel_id = "D" + user_id.removeprefix("U")
        if channel_id not in self.channels:
            self.channels[channel_id] = Channel(channel_id, "Practice Bot", {user_id, self.bot_user_id}, True, user_id)
        return channel_id

    def inject(
        self, method: str, status: int, times: int = 1, retry_after: int | None = None, delay: float = 0.0
    ) -> None:
        """Make the next `times` calls of `method` ("*" for any) fail with `status`, after `delay` seconds."""
        self.faults.append(Fault(method, status, times, retry_after, delay=delay))

    def _write_log(self, entry: Json) -> None:
        if self._log is not None:
            self._log.write(json.dumps(entry) + "\n")
            # Flushed line by line: the kernel keeps what was written even if the process is killed.
            self._log.flush()

    def _remember(self, message: Message) -> None:
        self.messages.append(message)
        channel = message.channel
        self._kept_in[channel] += 1
        if self.keep_per_channel is not None and self._kept_in[channel] > self.keep_per_channel:
            self._drop(next(i for i, m in enumerate(self.messages) if m.channel == channel))
        if self.keep_messages is not None and len(self.messages) > self.keep_messages:
            self._drop(0)
        if message.user == self.bot_user_id:
            self._write_log(
                {
                    "event": "message",
                    "channel": message.channel,
                    "ts": message.ts,
                    "text": message.text,
                    "blocks": message.blocks,
                    "thread_ts": message.thread_ts,
                    "ephemeral_to": message.ephemeral_to,
                    "team": message.team_id,
                }
            )

    def _drop(self, index: int) -> None:
        """Forget the message at `index` (the oldest of the workspace or of its channel)."""
        message = self.messages.pop(index)
        self._kept_in[message.channel] -= 1
        if not self._kept_in[message.channel]:
            del self._kept_in[message.channel]
        self.dropped += 1
        self.dropped_from[message.channel] += 1

    def _record_call(self, call: ApiCall) -> None:
        """Keep the latest Web API calls, as many as messages, without their bulky arguments."""
        if any(key in call.args for key in _BULKY):
            call = replace(call, args={k: v for k, v in call.args.items() if k not in _BULKY})
        self.calls.append(call)
        if self.keep_messages is not None and len(self.calls) > self.keep_messages:
            del self.calls[0]

    @staticmethod
    def _keep_latest(entries: dict[str, Any], most: int | None) -> None:
        """Drop the oldest of `entries` (insertion order) beyond `most`."""
        if most is not None:
            while len(entries) > most:
                del entries[next(iter(entries))]

    def _touch(self) -> None:
        self.version += 1

    def _next_ts(self) -> str:
        return f"{1_700_000_000 + next(self._ts)}.000100"

    def names(self) -> dict[str, str]:
        names = {u.id: u.real_name for u in self.users.values()}
        names[self.bot_user_id] = "Practice Bot"
        return names

    # --- reading what the bot did (tests, the CLI) ------------------------

    def messages_in(self, channel: str, viewer: str | None = None) -> list[Message]:
        return [
            m
            for m in self.messages
            if m.channel == channel and not m.deleted and (m.ephemeral_to is None or m.ephemeral_to == viewer)
        ]

    def dms_to(self, user_id: str) -> list[Message]:
        """Messages the bot sent to `user_id`: their DM channel and ephemerals anywhere."""
        im = self.im_channel(user_id)
        return [
            m
            for m in self.messages
            if not m.deleted
            and m.user == self.bot_user_id
            and (m.channel == im and m.ephemeral_to in (None, user_id) or m.ephemeral_to == user_id)
        ]

    def home_of(self, user_id: str) -> Json | None:
        view_id = self.homes.get(user_id)
        return self.views.get(view_id) if view_id else None

    def modal_of(self, user_id: str) -> Json | None:
        stack = self.modal_stacks.get(user_id) or []
        return self.views.get(stack[-1]) if stack else None

    async def settle(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - waits on tasks it did not start
        """Wait for work the bot started after acking (in-process delivery only)."""
        deadline = time.monotonic() + timeout
        while self._pending and time.monotonic() < deadline:
            pending = list(self._pending)
            await asyncio.wait(pending, timeout=max(0.0, deadline - time.monotonic()))
            self._pending -= {t for t in pending if t.done()}

    # --- the Web API -------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        args: Json = dict(request.query)
        raw = await request.read()
        if raw:
            if request.content_type == "application/json":
                args.update(json.loads(raw))
            else:
                args.update(dict(parse_qsl(raw.decode(), keep_blank_values=True)))
        for key in _BULKY:
            if isinstance(args.get(key), str):
                with contextlib.suppress(json.JSONDecodeError):
                    args[key] = json.loads(args[key])
        self._write_log({"event": "call", "method": method, "channel": args.get("channel")})
        fault = self._take_fault(method)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            self._record_call(ApiCall(method, args, time.time(), fault.status))
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            if fault.status == 429:
                return web.json_response({"ok": False, "error": "ratelimited"}, status=429, headers=headers)
            return web.json_response({"ok": False, "error": fault.error}, status=fault.status, headers=headers)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip() or args.get("token")
        if method == "oauth.v2.access":
            return web.json_response(self._oauth_access(request, args))
        if method != "api.test" and token not in self.tokens:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        args["_team"] = self.tokens.get(str(token), self.team_id)
        if method == "chat.postMessage" and self.post_delay:
            await asyncio.sleep(self.post_delay)
        if method in self.method_rates:
            wait = self._method_wait(method)
            if wait > 0:
                self._record_call(ApiCall(method, args, time.time(), 429))
                retry_after = str(max(1, math.ceil(wait)))
                return web.json_response(
                    {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": retry_after}
                )
        if method == "chat.postMessage" and self.channel_interval:
            wait = self._rate_wait(self._resolve_channel(str(args.get("channel", ""))))
            if wait > 0:
                self._record_call(ApiCall(method, args, time.time(), 429))
                return web.json_response(
                    {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(max(1, round(wait)))}
                )
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            result: Json = {"ok": False, "error": "unknown_method"}
        else:
            try:
                result = handler(args)
            except KeyError as e:
                result = {"ok": False, "error": f"missing_argument: {e.args[0]}"}
        self._record_call(ApiCall(method, args, time.time(), 200))
        self._touch()
        return web.json_response(result)

    def _take_fault(self, method: str) -> Fault | None:
        for fault in self.faults:
            if fault.method in (method, "*") and fault.times > 0:
                fault.times -= 1
                if fault.times == 0:
                    self.faults.remove(fault)
                return fault
        return None

    def _rate_wait(self, channel: str) -> float:
        now = time.monotonic()
        last = self._last_post.get(channel)
        if last is not None and now - last < self.channel_interval:
            return self.channel_interval - (now - last)
        self._last_post[channel] = now
        return 0.0

    def _method_wait(self, method: str) -> float:
        """0 (and a call counted) if `method` may be called now, else the seconds until it may."""
        rate = self.method_rates[method]
        capacity = max(1.0, rate * self.method_burst)
        now = time.monotonic()
        tokens, last = self._method_tokens.get(method, (capacity, now))
        tokens = min(capacity, tokens + (now - last) * rate)
        if tokens >= 1.0:
            self._method_tokens[method] = (tokens - 1.0, now)
            return 0.0
        self._method_tokens[method] = (tokens, now)
        return (1.0 - tokens) / rate

    def _resolve_channel(self, channel: str) -> str:
        # Posting to a user id opens (or reuses) the DM with that user, as Slack does.
        if channel in self.users:
            return self.im_channel(channel)
        return channel

    def _m_api_test(self, args: Json) -> Json:
        return {"ok": True, "args": args}

    def _oauth_access(self, request: web.Request, args: Json) -> Json:
        """Exchange an install code for a bot token, as Slack's OAuth v2 does."""
        import base64

        auth = request.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        else:
            client_id, secret = str(args.get("client_id", "")), str(args.get("client_secret", ""))
        if self.client_secrets.get(client_id) != secret:
            return {"ok": False, "error": "invalid_client_id"}
        team_id = str(args.get("code", "")).removeprefix("code-")
        if team_id not in self.team_names:
            return {"ok": False, "error": "invalid_code"}
        token = f"xoxb-{team_id}-local"
        self.tokens[token] = team_id
        return {
            "ok": True,
            "app_id": self.app_id,
            "authed_user": {"id": f"U{team_id}ADMIN"},
            "scope": str(args.get("scope", "chat:write,commands")),
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": self.bot_user_id,
            "team": {"id": team_id, "name": self.team_names[team_id]},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def _m_auth_test(self, args: Json) -> Json:
        team = str(args.get("_team", self.team_id))
        return {
            "ok": True,
            "url": self.base_url + "/",
            "team": self.team_names.get(team, self.team_name),
            "team_id": team,
            "user": "practice-bot",
            "user_id": self.bot_user_id,
            "bot_id": "B0BOT",
            "is_enterprise_install": False,
        }

    def _post(self, args: Json, ephemeral_to: str | None = None) -> Message:
        channel = self._resolve_channel(str(args["channel"]))
        if channel not in self.channels:
            raise KeyError("channel_not_found")
        im_user = self.channels[channel].im_user
        if im_user is not None and self.team_of(im_user) != args.get("_team", self.team_id):
            # A workspace's bot cannot reach people in another workspace.
            raise KeyError("channel_not_found")
        blocks = args.get("blocks")
        message = Message(
            channel=channel,
            ts=self._next_ts(),
            user=self.bot_user_id,
            text=str(args.get("text") or ""),
            blocks=blocks if isinstance(blocks, list) else None,
            thread_ts=args.get("thread_ts"),
            ephemeral_to=ephemeral_to,
            team_id=str(args.get("_team", self.team_id)),
        )
        self._remember(message)
        return message

    def _m_chat_postMessage(self, args: Json) -> Json:
        try:
            message = self._post(args)
        except KeyError:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": message.channel, "ts": message.ts, "message": message.as_slack()}

    def _m_chat_postEphemeral(self, args: Json) -> Json:
        try:
            message = self._post(args, ephemeral_to=str(args["user"]))
        except KeyError:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "message_ts": message.ts}

    def _find(self, channel: str, ts: str) -> Message | None:
        channel = self._resolve_channel(channel)
        return next((m for m in self.messages if m.channel == channel and m.ts == ts and not m.deleted), None)

    def _m_chat_update(self, args: Json) -> Json:
        message = self._find(str(args["channel"]), str(args["ts"]))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        if "text" in args:
            message.text = str(args["text"])
        if "blocks" in args:
            message.blocks = args["blocks"] if isinstance(args["blocks"], list) else None
        message.edited = True
        return {"ok": True, "channel": message.channel, "ts": message.ts, "text": message.text}

    def _m_chat_delete(self, args: Json) -> Json:
        message = self._find(str(args["channel"]), str(args["ts"]))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        message.deleted = True
        return {"ok": True, "channel": message.channel, "ts": message.ts}

    def _store_view(self, view: Json, view_id: str | None = None) -> Json:
        stored = dict(view)
        stored["id"] = view_id or "V" + uuid.uuid4().hex[:10].upper()
        stored.setdefault("team_id", self.team_id)
        stored.setdefault("private_metadata", "")
        stored.setdefault("callback_id", "")
        stored["hash"] = uuid.uuid4().hex[:12]
        stored["app_id"] = self.app_id
        self.views[stored["id"]] = stored
        return stored

    def _m_views_open(self, args: Json) -> Json:
        user = self._triggers.get(str(args.get("trigger_id", "")))
        if user is None:
            return {"ok": False, "error": "invalid_trigger_id"}
        stored = self._store_view(args["view"])
        self.modal_stacks[user] = [stored["id"]]
        return {"ok": True, "view": stored}

    def _m_views_push(self, args: Json) -> Json:
        user = self._triggers.get(str(args.get("trigger_id", "")))
        if user is None:
            return {"ok": False, "error": "invalid_trigger_id"}
        stored = self._store_view(args["view"])
        self.modal_stacks.setdefault(user, []).append(stored["id"])
        return {"ok": True, "view": stored}

    def _m_views_update(self, args: Json) -> Json:
        view_id = args.get("view_id")
        if not view_id and args.get("external_id"):
            view_id = next((v["id"] for v in self.views.values() if v.get("external_id") == args["external_id"]), None)
        if not view_id or view_id not in self.views:
            return {"ok": False, "error": "not_found"}
        stored = self._store_view(args["view"], view_id)
        self.modal_errors.pop(view_id, None)
        return {"ok": True, "view": stored}

    def _m_views_publish(self, args: Json) -> Json:
        user = str(args["user_id"])
        view = dict(args["view"])
        stored = self._store_view(view, self.homes.get(user))
        self.homes[user] = stored["id"]
        return {"ok": True, "view": stored}

    def _m_conversations_open(self, args: Json) -> Json:
        users = [u for u in str(args.get("users", "")).split(",") if u]
        if not users or any(u not in self.users for u in users):
            return {"ok": False, "error": "user_not_found"}
        if len(users) == 1:
            return {"ok": True, "channel": {"id": self.im_channel(users[0])}}
        # A group DM (mpim) with the bot and these people, reused as Slack reuses it.
        members = set(users) | {self.bot_user_id}
        for channel in self.channels.values():
            if channel.name.startswith("mpdm-") and channel.members == members:
                return {"ok": True, "channel": {"id": channel.id}}
        channel_id = "G" + hashlib.sha256(",".join(sorted(members)).encode()).hexdigest()[:10].upper()
        name = "mpdm-" + "--".join(sorted(self.users[u].name for u in users)) + "-1"
        self.channels[channel_id] = Channel(channel_id, name, members)
        return {"ok": True, "channel": {"id": channel_id}}

    def _channel_json(self, channel: Channel) -> Json:
        return {
            "id": channel.id,
            "name": channel.name,
            "is_channel": not channel.is_im,
            "is_im": channel.is_im,
            "is_member": self.bot_user_id in channel.members or channel.is_im,
            "num_members": len(channel.members),
        }

    def _m_conversations_info(self, args: Json) -> Json:
        channel = self.channels.get(self._resolve_channel(str(args["channel"])))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": self._channel_json(channel)}

    def _m_conversations_list(self, args: Json) -> Json:
        return {
            "ok": True,
            "channels": [self._channel_json(c) for c in self.channels.values() if not c.is_im],
            "response_metadata": {"next_cursor": ""},
        }

    def _m_conversations_members(self, args: Json) -> Json:
        channel = self.channels.get(str(args["channel"]))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "members": sorted(channel.members), "response_metadata": {"next_cursor": ""}}

    def _m_conversations_join(self, args: Json) -> Json:
        channel = self.channels.get(str(args["channel"]))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        channel.members.add(self.bot_user_id)
        return {"ok": True, "channel": self._channel_json(channel)}

    def _m_conversations_history(self, args: Json) -> Json:
        channel = self._resolve_channel(str(args["channel"]))
        messages = [m.as_slack() for m in reversed(self.messages_in(channel)) if not m.thread_ts]
        return {"ok": True, "messages": messages[: int(args.get("limit", 100))], "has_more": False}

    def _m_conversations_replies(self, args: Json) -> Json:
        channel = self._resolve_channel(str(args["channel"]))
        ts = str(args["ts"])
        thread = [m.as_slack() for m in self.messages_in(channel) if m.ts == ts or m.thread_ts == ts]
        return {"ok": True, "messages": thread, "has_more": False}

    def _m_users_info(self, args: Json) -> Json:
        user = self.users.get(str(args["user"]))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user.as_slack(user.team_id)}

    def _m_users_list(self, args: Json) -> Json:
        return {
            "ok": True,
            "members": [u.as_slack(u.team_id) for u in self.users.values() if u.team_id == args["_team"]],
            "response_metadata": {"next_cursor": ""},
        }

    def _m_users_lookupByEmail(self, args: Json) -> Json:
        email = str(args["email"]).lower()
        user = next((u for u in self.users.values() if (u.email or "").lower() == email), None)
        if user is None:
            return {"ok": False, "error": "users_not_found"}
        return {"ok": True, "user": user.as_slack(user.team_id)}

    # --- what a person does: signed requests to the bot --------------------

    async def _send(self, body: bytes, content_type: str) -> tuple[int, bytes]:
        if self.deliver is None:
            raise RuntimeError("the local workspace has no bot to deliver to")
        headers = signed_headers(self.signing_secret, body, content_type)
        before = asyncio.all_tasks()
        status, payload = await self.deliver(body, headers)
        # Bolt finishes a listener's post-ack work in tasks of its own; keep them
        # so tests and the CLI can wait for everything the request set off.
        # Finished ones are let go here too: a long-running workspace nobody settles would
        # otherwise hold every request's tasks (and their results) for good.
        self._pending = {t for t in self._pending if not t.done()}
        self._pending |= {t for t in asyncio.all_tasks() - before if not t.done()}
        if status >= 400:
            self.errors.append(f"bot answered HTTP {status}")
        return status, payload

    def _trigger(self, user: str) -> str:
        trigger = f"{next(self._ts)}.{uuid.uuid4().hex[:8]}"
        self._triggers[trigger] = user
        # Slack's trigger ids expire in seconds and response URLs in 30 minutes: the oldest
        # go, so a long-running workspace doesn't keep one of each for every request.
        self._keep_latest(self._triggers, self.keep_messages)
        return trigger

    def _response_url(self, user: str, channel: str, message_ts: str | None = None) -> str:
        key = uuid.uuid4().hex
        self._responses[key] = (user, channel, message_ts)
        self._keep_latest(self._responses, self.keep_messages)
        return f"{self.base_url}/_local/respond/{key}"

    def _user_json(self, user_id: str) -> Json:
        user = self.users.get(user_id)
        name = user.name if user else user_id
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_of(user_id)}

    def _channel_name(self, channel_id: str) -> str:
        channel = self.channels.get(channel_id)
        if channel is None or channel.is_im:
            return "directmessage"
        return channel.name

    def _take_ack(self, user: str, channel: str, status: int, payload: bytes) -> None:
        """An ack with a body is shown to the user, as Slack shows a command's reply."""
        if status != 200 or not payload:
            return
        try:
            data = json.loads(payload)
        except json.JSONDecodeError:
            data = {"text": payload.decode(errors="replace")}
        if not isinstance(data, dict) or not (data.get("text") or data.get("blocks")):
            return
        self._respond_message(user, channel, None, data)

    def _respond_message(self, user: str, channel: str, message_ts: str | None, data: Json) -> None:
        if data.get("delete_original") and message_ts:
            original = self._find(channel, message_ts)
            if original:
                original.deleted = True
            return
        if data.get("replace_original") and message_ts:
            original = self._find(channel, message_ts)
            if original is not None:
                original.text = str(data.get("text") or "")
                original.blocks = data.get("blocks")
                original.edited = True
                self._touch()
                return
        in_channel = data.get("response_type") == "in_channel"
        self._remember(
            Message(
                channel=channel,
                ts=self._next_ts(),
                user=self.bot_user_id,
                text=str(data.get("text") or ""),
                blocks=data.get("blocks"),
                thread_ts=data.get("thread_ts"),
                ephemeral_to=None if in_channel else user,
            )
        )
        self._touch()

    async def command(self, user: str, text: str, channel: str | None = None) -> tuple[int, bytes]:
        """`/caseload team` typed by `user` in `channel` (their DM with the bot by default)."""
        command, _, rest = text.strip().partition(" ")
        channel = channel or self.im_channel(user)
        form = {
            "token": "local",
            "team_id": self.team_of(user),
            "team_domain": "local",
            "channel_id": channel,
            "channel_name": self._channel_name(channel),
            "user_id": user,
            "user_name": self._user_json(user)["name"],
            "command": command,
            "text": rest.strip(),
            "api_app_id": self.app_id,
            "is_enterprise_install": "false",
            "response_url": self._response_url(user, channel),
            "trigger_id": self._trigger(user),
        }
        status, payload = await self._send(urlencode(form).encode(), "application/x-www-form-urlencoded")
        self._take_ack(user, channel, status, payload)
        return status, payload

    async def event(self, event: Json, event_id: str | None = None, retry: int | None = None) -> tuple[int, bytes]:
        team = self.team_of(str(event.get("user", "")))
        body = {
            "token": "local",
            "team_id": team,
            "api_app_id": self.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or "Ev" + uuid.uuid4().hex[:10].upper(),
            "event_time": int(time.time()),
            "authorizations": [{"team_id": team, "user_id": self.bot_user_id, "is_bot": True}],
        }
        raw = json.dumps(body).encode()
        if retry is None:
            return await self._send(raw, "application/json")
        headers = signed_headers(self.signing_secret, raw, "application/json")
        headers["x-slack-retry-num"] = str(retry)
        headers["x-slack-retry-reason"] = "http_timeout"
        assert self.deliver is not None
        return await self.deliver(raw, headers)

    async def say(self, user: str, text: str, channel: str | None = None) -> tuple[int, bytes]:
        """A plain message from `user` (by default in their DM with the bot)."""
        channel = channel or self.im_channel(user)
        message = Message(channel=channel, ts=self._next_ts(), user=user, text=text, blocks=None)
        self._remember(message)
        self._touch()
        event = {
            "type": "message",
            "channel": channel,
            "user": user,
            "text": text,
            "ts": message.ts,
            "event_ts": message.ts,
            "channel_type": "im" if self.channels[channel].is_im else "channel",
        }
        return await self.event(event)

    async def open_home(self, user: str) -> tuple[int, bytes]:
        event: Json = {"type": "app_home_opened", "user": user, "channel": self.im_channel(user), "tab": "home"}
        view = self.home_of(user)
        if view is not None:
            event["view"] = view
        return await self.event(event)

    async def click(
        self,
        user: str,
        action: Json,
        *,
        channel: str | None = None,
        message_ts: str | None = None,
        view_id: str | None = None,
    ) -> tuple[int, bytes]:
        """`user` clicks an element (`action` has action_id, block_id, value ...)."""
        action = {"action_ts": f"{time.time():.6f}", "type": "button", **action}
        payload: Json = {
            "type": "block_actions",
            "team": {"id": self.team_of(user), "domain": "local"},
            "user": self._user_json(user),
            "api_app_id": self.app_id,
            "token": "local",
            "trigger_id": self._trigger(user),
            "actions": [action],
            "is_enterprise_install": False,
        }
        if view_id is not None:
            view = self.views.get(view_id)
            if view is None:
                return 404, b"no such view"
            payload["container"] = {"type": "view", "view_id": view_id}
            payload["view"] = view
        elif channel is not None and message_ts is not None:
            message = self._find(channel, message_ts)
            if message is None:
                return 404, b"no such message"
            payload["container"] = {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": message.channel,
                "is_ephemeral": message.ephemeral_to is not None,
            }
            payload["channel"] = {"id": message.channel, "name": self._channel_name(message.channel)}
            payload["message"] = message.as_slack()
            payload["response_url"] = self._response_url(user, message.channel, message_ts)
        else:
            return 400, b"an action needs a message or a view"
        body = urlencode({"payload": json.dumps(payload)}).encode()
        status, ack = await self._send(body, "application/x-www-form-urlencoded")
        return status, ack

    async def submit(self, user: str, view_id: str, values: Json) -> tuple[int, Json | None]:
        """`user` submits the modal `view_id`; returns the bot's response_action, if any."""
        view = self.views.get(view_id)
        if view is None:
            return 404, None
        state_view = dict(view)
        state_view["state"] = {"values": values}
        payload = {
            "type": "view_submission",
            "team": {"id": self.team_of(user), "domain": "local"},
            "user": self._user_json(user),
            "api_app_id": self.app_id,
            "token": "local",
            "trigger_id": self._trigger(user),
            "view": state_view,
            "is_enterprise_install": False,
            "response_urls": [],
        }
        body = urlencode({"payload": json.dumps(payload)}).encode()
        status, ack = await self._send(body, "application/x-www-form-urlencoded")
        response: Json | None = None
        if status == 200 and ack:
            try:
                response = json.loads(ack)
            except json.JSONDecodeError:
                response = None
        stack = self.modal_stacks.get(user, [])
        action = (response or {}).get("response_action")
        if action == "errors":
            self.modal_errors[view_id] = response.get("errors", {}) if response else {}
        elif action == "update" and response:
            self._store_view(response["view"], view_id)
            self.modal_errors.pop(view_id, None)
        elif action == "push" and response:
            stack.append(self._store_view(response["view"])["id"])
        elif action == "clear":
            self.modal_stacks[user] = []
        elif status == 200 and view_id in stack:
            stack.remove(view_id)
            self.modal_errors.pop(view_id, None)
        self._touch()
        return status, response

    def close_modal(self, user: str, view_id: str) -> None:
        stack = self.modal_stacks.get(user, [])
        if view_id in stack:
            stack.remove(view_id)
        self._touch()

    # --- the page's JSON API ----------------------------------------------

    async def _respond(self, request: web.Request) -> web.StreamResponse:
        key = request.match_info["key"]
        target = self._responses.get(key)
        if target is None:
            return web.json_response({"ok": False, "error": "expired_url"}, status=404)
        user, channel, message_ts = target
        self._respond_message(user, channel, message_ts, await request.json())
        return web.Response(text="ok")

    async def _state(self, request: web.Request) -> web.StreamResponse:
        users = sorted(self.users.values(), key=lambda u: u.real_name)
        return web.json_response(
            {
                "team": {"id": self.team_id, "name": self.team_name},
                "bot_user_id": self.bot_user_id,
                "users": [{"id": u.id, "name": u.name, "real_name": u.real_name, "title": u.title} for u in users],
                "version": self.version,
            }
        )

    async def _version(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"version": self.version})

    async def _conversations(self, request: web.Request) -> web.StreamResponse:
        user = request.query.get("user", "")
        if user not in self.users:
            return web.json_response({"conversations": []})
        im = self.im_channel(user)
        rows: list[Json] = [{"id": im, "name": "Practice Bot", "kind": "im"}]
        for channel in sorted(self.channels.values(), key=lambda c: c.name):
            if not channel.is_im and user in channel.members:
                rows.append({"id": channel.id, "name": channel.name, "kind": "channel"})
        return web.json_response({"conversations": rows})

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        user = request.query.get("user", "")
        channel = request.query.get("channel", "")
        names = self.names()
        rows = [
            {
                "ts": m.ts,
                "user": m.user,
                "user_name": names.get(m.user, m.user),
                "text": m.text,
                "blocks": m.blocks,
                "thread_ts": m.thread_ts,
                "ephemeral": m.ephemeral_to is not None,
                "edited": m.edited,
            }
            for m in self.messages_in(channel, viewer=user)
        ]
        # Earlier messages of this channel no longer kept (KEEP_PER_CHANNEL, KEEP_MESSAGES).
        dropped = self.dropped_from.get(self._resolve_channel(channel), 0)
        return web.json_response({"messages": rows, "dropped": dropped})

    async def _home(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"view": self.home_of(request.query.get("user", ""))})

    async def _modal(self, request: web.Request) -> web.StreamResponse:
        view = self.modal_of(request.query.get("user", ""))
        errors = self.modal_errors.get(view["id"]) if view else None
        return web.json_response({"view": view, "errors": errors})

    @staticmethod
    def _answer(status: int) -> web.StreamResponse:
        if status >= 400:
            return web.json_response({"ok": False, "error": f"the bot answered HTTP {status}"})
        return web.json_response({"ok": True})

    async def _page_command(self, request: web.Request) -> web.StreamResponse:
        data = await request.json()
        if not str(data.get("text", "")).startswith("/"):
            return web.json_response({"ok": False, "error": "a command starts with /"})
        status, _ = await self.command(data["user"], data["text"], data.get("channel") or None)
        return self._answer(status)

    async def _page_message(self, request: web.Request) -> web.StreamResponse:
        data = await request.json()
        status, _ = await self.say(data["user"], data["text"], data.get("channel") or None)
        return self._answer(status)

    async def _page_action(self, request: web.Request) -> web.StreamResponse:
        data = await request.json()
        status, _ = await self.click(
            data["user"],
            data["action"],
            channel=data.get("channel"),
            message_ts=data.get("message_ts"),
            view_id=data.get("view_id"),
        )
        return self._answer(status)

    async def _page_submit(self, request: web.Request) -> web.StreamResponse:
        data = await request.json()
        status, response = await self.submit(data["user"], data["view_id"], data.get("values", {}))
        errors = (response or {}).get("errors") if (response or {}).get("response_action") == "errors" else None
        return web.json_response({"ok": status < 400, "errors": errors})

    async def _page_close(self, request: web.Request) -> web.StreamResponse:
        data = await request.json()
        self.close_modal(data["user"], data["view_id"])
        return web.json_response({"ok": True})

    async def _page_home_opened(self, request: web.Request) -> web.StreamResponse:
        data = await request.json()
        status, _ = await self.open_home(data["user"])
        return self._answer(status)

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html")

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/_local/respond/{key}", self._respond)
        app.router.add_get("/_local/state", self._state)
        app.router.add_get("/_local/version", self._version)
        app.router.add_get("/_local/conversations", self._conversations)
        app.router.add_get("/_local/messages", self._messages)
        app.router.add_get("/_local/home", self._home)
        app.router.add_get("/_local/modal", self._modal)
        app.router.add_post("/_local/command", self._page_command)
        app.router.add_post("/_local/message", self._page_message)
        app.router.add_post("/_local/action", self._page_action)
        app.router.add_post("/_local/submit", self._page_submit)
        app.router.add_post("/_local/close", self._page_close)
        app.router.add_post("/_local/home_opened", self._page_home_opened)
        app.router.add_get("/", self._index)
        if STATIC.is_dir():
            app.router.add_static("/static/", STATIC)

    async def start(self, host: str = "127.0.0.1", port: int = 0, app: web.Application | None = None) -> str:
        """Serve the workspace (on `app` if given, sharing it with the bot's routes)."""
        web_app = app or web.Application()
        self.routes(web_app)
        self._runner = web.AppRunner(web_app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        addresses = self._runner.addresses
        actual = addresses[0][1] if addresses else port
        self.base_url = f"http://{host}:{actual}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._log is not None:
            self._log.close()
            self._log = None
