from django.apps import AppConfig


class StratuslabDashboardConfig(AppConfig):
    """The plugin's Django app, under a label no other app takes.

    Django would label it ``dashboard`` after the package, which another
    Horizon app already is.
    """

    name = 'stratuslab_plugins.dashboard'
    label = 'stratuslab_dashboard'
