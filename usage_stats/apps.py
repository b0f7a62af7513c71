from django.apps import AppConfig


class UsageStatsConfig(AppConfig):
    name = "usage_stats"
    verbose_name = "Usage stats"
