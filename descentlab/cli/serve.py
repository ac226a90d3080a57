"""``descentlab serve``: start the playground on a local port (needs the ``web`` extra)."""

from __future__ import annotations

import argparse
from typing import Any

from .args import UsageError, port

__all__ = ["register"]


def _cmd_serve(args: argparse.Namespace) -> int:
    try:
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError as e:
        raise UsageError(f"the playground needs the web extra ({e.name} is missing): "
                         "pip install \"descentlab[web]\"") from None
    import socket

    from ..web.app import create_app

    # Bind first, so a busy port is one line of error (exit 1) and port 0's pick is known.
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((args.host, args.port))
    except OSError as e:
        sock.close()
        raise OSError(f"cannot listen on {args.host}:{args.port} ({e.strerror}); choose another "
                      "--port (0 picks a free one)") from None
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if family == socket.AF_INET6 else args.host
    url = f"http://{host}:{port}/"
    print(f"descentlab playground at {url} (Ctrl+C stops it)", flush=True)
    if args.open:
        import webbrowser

        webbrowser.open(url)
    server = uvicorn.Server(uvicorn.Config(create_app(), log_level="warning"))
    server.run(sockets=[sock])
    return 0


def register(subparsers: Any) -> None:
    """Add ``serve``."""
    p = subparsers.add_parser("serve", help="start the playground web page (race optimizers, "
                              "train networks live)", description="Serve the playground on a "
                              "local port: race optimizers on landscapes and train small "
                              "networks live in the browser. Needs pip install "
                              "\"descentlab[web]\".")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default %(default)s: this machine only)")
    p.add_argument("--port", type=port, default=8000,
                   help="port (default %(default)s; 0 picks a free one)")
    p.add_argument("--open", action="store_true", help="open the page in a browser")
    p.set_defaults(handler=_cmd_serve)
