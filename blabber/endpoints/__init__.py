"""Plain HTTP endpoints beside Reflex's pages and websocket (mounted by ``blabber.blabber``)."""
