"""Events: what happened, or was proposed, warned of or considered, with actors and places."""
