"""``descentlab serve``: start the playground on a local port (needs the ``web`` extra)."""

from __future__ import annotations

import argparse
from typing import Any

from ..cli import UsageError, nonnegative_int

__all__ = ["register"]


def _port(text: str) -> int:
    value = nonnegative_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"must be a port number 0..65535 (got {text})")
    return value


def _cmd_serve(args: argparse.Namespace) -> int:
    try:
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError as e:
        raise UsageError(f"the playground needs the web extra ({e.name} is missing): "
                         "pip install \"descentlab[web]\"") from None
    from .app import create_app

    app = create_app()
    url = f"http://{args.host}:{args.port}/"
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning")
    server = uvicorn.Server(config)
    if args.port == 0 or args.open:
        # The real URL is known once the socket is bound (port 0 picks a free one).
        import threading
        import time
        import webbrowser

        def announce() -> None:
            while not server.started:
                time.sleep(0.05)
            port = server.servers[0].sockets[0].getsockname()[1]
            real = f"http://{args.host}:{port}/"
            print(f"descentlab playground at {real} (Ctrl+C stops it)", flush=True)
            if args.open:
                webbrowser.open(real)

        threading.Thread(target=announce, daemon=True).start()
    else:
        print(f"descentlab playground at {url} (Ctrl+C stops it)", flush=True)
    server.run()
    return 0


def register(subparsers: Any) -> None:
    """Add ``serve``."""
    p = subparsers.add_parser(
        "serve", help="start the playground web page (race optimizers, train networks live)",
        description="Serve the playground on a local port: race optimizers on landscapes and "
        "train small networks live in the browser. Needs pip install \"descentlab[web]\".")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default %(default)s: this machine only)")
    p.add_argument("--port", type=_port, default=8000,
                   help="port (default %(default)s; 0 picks a free one)")
    p.add_argument("--open", action="store_true", help="open the page in a browser")
    p.set_defaults(handler=_cmd_serve)
