"""Scheduled jobs: thin functions calling services with the injected clock."""
