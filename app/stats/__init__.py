"""Analytics for dashboards: timelines, summaries, quantity sums and the actor network."""
