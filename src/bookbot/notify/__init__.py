"""Messages the bot sends by itself: written to the outbox with their cause, delivered later."""
