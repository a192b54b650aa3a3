"""apiclient."""
