"""A small real OpenAI-compatible server for the gateway's tests and bench: starlette on uvicorn,
in a thread, on a free localhost port. It records every request body as received (bytes) and
answers by echoing its input: a chat answer is the messages' contents joined, so whatever the
gateway sent comes back, and the test sees both what left and what the user got.

Streamed answers come in pieces of ``piece`` characters: surrogates get split between deltas.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route


@dataclass
class EchoServer:
    url: str  # ends in /v1
    bodies: list[bytes] = field(default_factory=list)
    piece: int = 3
    usage: bool = True  # answer ``usage`` (a server that does not: the gateway counts)
    fail_status: int | None = None  # answer this HTTP status instead (with the prompt quoted)
    delay: float = 0.0  # seconds before answering
    piece_delay: float = 0.0  # seconds between streamed pieces (a model writing as it goes)

    def texts(self) -> list[str]:
        return [b.decode("utf-8", "replace") for b in self.bodies]


def _echo(body: dict) -> str:
    return "\n".join(str(m.get("content", "")) for m in body.get("messages", []))


def _app(server: EchoServer) -> Starlette:
    async def chat(request: Request) -> Response:
        raw = await request.body()
        server.bodies.append(raw)
        body = json.loads(raw)
        text = _echo(body)
        if server.delay:
            await asyncio.sleep(server.delay)
        if server.fail_status is not None:  # as servers do: the error quotes the input
            return JSONResponse({"error": {"message": f"refused: {text}"}}, server.fail_status)
        usage = {"prompt_tokens": len(text.split()), "completion_tokens": len(text.split())}
        if not body.get("stream"):
            answer = {
                "id": "echo",
                "object": "chat.completion",
                "model": body.get("model"),
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": text},
                     "finish_reason": "stop"}
                ],
            }  # fmt: skip
            if server.usage:
                answer["usage"] = usage
            return JSONResponse(answer)

        def events() -> Iterator[str]:
            for i in range(0, len(text), server.piece):
                if i and server.piece_delay:
                    time.sleep(server.piece_delay)
                delta = {"content": text[i : i + server.piece]}
                yield f"data: {json.dumps({'choices': [{'index': 0, 'delta': delta}]})}\n\n"
            end = {"index": 0, "delta": {}, "finish_reason": "stop"}
            yield f"data: {json.dumps({'choices': [end]})}\n\n"
            if server.usage:
                yield f"data: {json.dumps({'choices': [], 'usage': usage})}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    async def embeddings(request: Request) -> Response:
        raw = await request.body()
        server.bodies.append(raw)
        texts = json.loads(raw)["input"]
        data = [
            {"object": "embedding", "index": i, "embedding": [float(len(t)), 1.0]}
            for i, t in enumerate(texts)
        ]
        return JSONResponse({"data": data, "usage": {"prompt_tokens": len(texts)}})

    async def models(request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": "echo", "object": "model"}]})

    return Starlette(
        routes=[
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/v1/embeddings", embeddings, methods=["POST"]),
            Route("/v1/models", models),
        ]
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def echo_server() -> Iterator[EchoServer]:
    port = free_port()
    server = EchoServer(f"http://127.0.0.1:{port}/v1")
    config = uvicorn.Config(_app(server), host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("echo server did not start")
        time.sleep(0.02)
    try:
        yield server
    finally:
        running.should_exit = True
        thread.join(timeout=10)
