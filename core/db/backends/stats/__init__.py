"""Django's PostgreSQL backend for the stats database, with the owner role when asked.

Selected for the `stats` alias in saas/settings/databases.py.
"""
