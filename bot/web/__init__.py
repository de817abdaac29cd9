"""The bot's own HTTP server: push intake, WebSub callbacks, /healthz, and routes platforms add."""
