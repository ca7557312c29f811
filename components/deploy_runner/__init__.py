"""Deploy runners: the way in to private cluster APIs, created inside the environment network."""
