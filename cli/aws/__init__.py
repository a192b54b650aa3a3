"""``navarch aws``: provision a navarch cluster on AWS instances (see README.md here)."""
