"""``hopia.zones``: zones that state no clinical fact, and one concept per mention."""
