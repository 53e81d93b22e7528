"""UI pieces. Stateless ones take values; feature ones bind to one State."""
