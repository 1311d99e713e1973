"""`bookbot serve`: the webhook receiver, the review page and a health check."""
