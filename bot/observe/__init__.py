"""Operating the bot: its Prometheus metrics (``metrics``, ``GET /metrics``) and its health
(``health``, ``GET /healthz``)."""
