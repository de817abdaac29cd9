"""What every stage may import: the data that flows, article identity, the error tree and small
HTTP helpers. Imports nothing else of the bot."""
