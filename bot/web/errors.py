"""The web server's errors are JSON, ``{"error": "<what went wrong>", ...}``: :func:`error_response` for
the routes' own, and :func:`json_errors` for aiohttp's (unknown path, wrong method) and for failures."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

__all__ = ["error_response", "json_errors"]

log = logging.getLogger(__name__)


def error_response(status: int, message: str, **extra: object) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Unknown paths, wrong methods and unexpected failures answer in JSON like everything else."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {
            k: v for k, v in exc.headers.items() if k.lower() not in ("content-type", "content-length")
        }
        return web.json_response({"error": exc.reason}, status=exc.status, headers=headers)
    except Exception:
        log.exception("error serving %s %s", request.method, request.path)
        return error_response(500, "internal error")
